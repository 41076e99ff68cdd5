"""Command line: ``seq2acc <command>``. Each command calls the same library or pipeline code as the DVC stages
(which run ``stages/<stage>.py`` -> :func:`seq2acc.pipeline.run_stage`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seq2acc import logutil
from seq2acc.errors import Seq2AccError


def _chroms(args):
    from seq2acc.io.fasta import fasta_sizes

    sizes = fasta_sizes(args.fasta)  # writes nothing next to the user's file
    for c, n in sizes.items():
        if n >= args.min_length:
            print(f"{c}\t{n}" if args.sizes else c)


def _add_inputs(parser):
    """The inputs `seq2acc predict` and `seq2acc explain` share (one of them is required); returns the group."""
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--fasta", help="FASTA of sequences (>= the model's input length; longer ones are tiled)")
    src.add_argument("--regions", help="BED/narrowPeak: one window centred on each summit (else centre)")
    src.add_argument("--region", action="append", help="chrom:start-end (0-based, end exclusive); repeatable")
    return src


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="seq2acc", description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("chroms", help="list a FASTA's sequences (to fill dataset.chromosomes)")
    c.add_argument("fasta")
    c.add_argument("--min-length", type=int, default=0)
    c.add_argument("--sizes", action="store_true")
    c.set_defaults(func=_chroms)
    r = sub.add_parser("report", help="print the pipeline's summary (folds, validation, metrics)")
    r.set_defaults(func=lambda a: _report(a.params))
    s = sub.add_parser("simulate", help="simulate a genome with a planted motif grammar (FASTA, peaks, truth, Bayes-optimal)")
    s.add_argument("--config", required=True, help="simulation YAML, e.g. benchmarks/sim/small.yaml")
    s.add_argument("--out", required=True, help="output directory")
    s.add_argument("--seed", type=int, default=None, help="override the config's seed")
    s.set_defaults(func=_simulate)
    from seq2acc.mlops import ci

    ci_p = sub.add_parser("ci-retrain", help="CI: dvc pull, dvc repro, dvc push, markdown `dvc metrics diff` report")
    ci.add_arguments(ci_p)
    ci_p.set_defaults(func=ci.run_args)
    u = sub.add_parser("ui", help="MLflow UI on the project's store, bound to 127.0.0.1; prints each experiment's fold-runs view")
    u.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    u.add_argument("--port", type=int, default=5000)
    u.add_argument("--workers", type=int, default=1)
    u.set_defaults(func=_ui)
    mc = sub.add_parser("modelcard", help="write the model cards now from whatever outputs exist (the `modelcard` "
                                          "stage does the same inside DVC)")
    mc.set_defaults(func=lambda a: _modelcard(a.params))
    v = sub.add_parser("score-variants", help="score a VCF/TSV of variants with the trained fold models (outside DVC; "
                       "same code as the `variants` stage)")
    v.add_argument("input", help="VCF (.vcf/.vcf.gz) or TSV chrom, pos (1-based), ref, alt[, id]")
    v.add_argument("--out", required=True, help="output directory (scores.tsv, plots, ...)")
    v.add_argument("--n-null", type=int, default=None, help="shuffled backgrounds per variant (default: params)")
    v.add_argument("--chunk", type=int, default=None, help="variants per chunk: memory is bounded by it; an "
                   "interrupted run resumes after the last complete chunk (default: params variants.chunk)")
    v.set_defaults(func=_score_variants)
    lb = sub.add_parser("leaderboard", help="every cross-validation in the MLflow store ranked by genome-wide AUPRC "
                        "(the search harness: dvc exp run --queue grids, then this)")
    lb.add_argument("--experiment", default=None, help="one MLflow experiment (default: all)")
    lb.add_argument("--metric", default="mean_genomewide_auprc",
                    help="parent-run metric to rank by (default mean_genomewide_auprc; mean_val_loss ranks ascending)")
    lb.add_argument("--top", type=int, default=None, help="show the best N only")
    lb.set_defaults(func=_leaderboard)
    pr = sub.add_parser("predict", help="predictions of the trained model(s) for your sequences, regions or chromosomes "
                        "(TSV; bedGraph/bigWig for genomic inputs)")
    src = _add_inputs(pr)
    src.add_argument("--chrom", action="append",
                     help="whole chromosome(s), every grid window: repeatable or comma-separated; `all` = every "
                          "sequence of the genome (sharded per chromosome: --workers, --ray-address)")
    pr.add_argument("--model", default="ensemble",
                    help="ensemble (default: mean of every trained fold) | heldout (each chromosome by the fold that "
                         "held it out) | fold<K> | a model.keras path | models:/<name>@<alias>")
    pr.add_argument("--genome", help="FASTA of the genome (default: the project's genome.fasta_out)")
    pr.add_argument("--out", required=True, action="append",
                    help="output: .tsv, or .bw / .bedGraph for genomic inputs; repeatable (several files, one scoring)")
    pr.add_argument("--no-rc-average", action="store_true", help="forward strand only (default: both averaged)")
    add_shard_arguments(pr)
    pr.set_defaults(func=_predict)
    ex = sub.add_parser("explain", help="contribution scores of your regions or sequences with their significance "
                        "against a dinucleotide-shuffled null (bigWigs, BED of significant windows, logos)")
    _add_inputs(ex)
    ex.add_argument("--model", default="ensemble",
                    help="as `seq2acc predict`: ensemble (default: mean contributions of every trained fold) | "
                         "heldout | fold<K> | a model.keras path | models:/<name>@<alias>")
    # checked by seq2acc.apps.explain.settings (the error lists the methods): importing
    # seq2acc.interpret.attribution here for argparse choices would cost every seq2acc command its numba import
    ex.add_argument("--method", default=None,
                    help="deepshap | grad_x_input | ism (default: params attribute.method)")
    ex.add_argument("--null-shuffles", type=int, default=None,
                    help="shuffled null copies per window (default: params attribute.null_shuffles)")
    ex.add_argument("--genome", help="FASTA of the genome (default: the project's genome.fasta_out)")
    ex.add_argument("--out", required=True, help="output directory (regions.tsv, significant.bed, contrib.bw, "
                    "qvalue_base.bw, qvalue_window.bw or bases.h5, contrib.h5, logos.png)")
    ex.set_defaults(func=_explain)
    sc = sub.add_parser("scan", help="JASPAR motif hits (FIMO-style p-values, both strands) in your sequences, "
                        "regions or chromosomes (TSV; settings: params motif_scan)")
    src = sc.add_mutually_exclusive_group(required=True)
    src.add_argument("--fasta", help="FASTA of sequences (any length, each scanned whole)")
    src.add_argument("--regions", help="BED/narrowPeak: each region scanned over [start, end)")
    src.add_argument("--region", action="append", help="chrom:start-end (0-based, end exclusive); repeatable")
    src.add_argument("--chrom", action="append", help="whole chromosome(s); repeatable or comma-separated")
    sc.add_argument("--motif", action="append",
                    help="JASPAR matrix id (MA0363 = latest version); repeatable or comma-separated (default: "
                         "params motif_scan.jaspar_ids, else its collection and tax_group)")
    sc.add_argument("--collection", help="JASPAR collection instead of params motif_scan.collection (all = any)")
    sc.add_argument("--tax-group", help="JASPAR taxon instead of params motif_scan.tax_group (all = any)")
    sc.add_argument("--pvalue", type=float, help="report hits with p below this (default: params motif_scan.pvalue)")
    sc.add_argument("--genome", help="FASTA of the genome (default: the project's genome.fasta_out)")
    sc.add_argument("--out", required=True, help="output .tsv (BED-like for regions and chromosomes)")
    sc.set_defaults(func=_scan)
    args = ap.parse_args(argv)
    logutil.setup()
    from seq2acc.model.device import log_device_when_tensorflow_loads

    log_device_when_tensorflow_loads()  # GPU names or CPU, TF version and build: once, if the command loads TF
    try:
        args.func(args)
    except Seq2AccError as e:
        print(f"seq2acc error: {e}", file=sys.stderr)
        sys.exit(1)


def _leaderboard(args):
    from seq2acc.mlops import tracking
    from seq2acc.mlops.leaderboard import leaderboard, markdown

    print(markdown(leaderboard(tracking.tracking_uri(), args.experiment, args.metric, args.top), args.metric))


def _score_variants(args):
    from seq2acc.config import Params
    from seq2acc.pipeline.variants import score_variants

    p = Params.load(args.params)
    p.data.setdefault("variants", {}).update(input=args.input, out_dir=args.out)
    for key, value in (("n_null", args.n_null), ("chunk", args.chunk)):
        if value is not None:
            p.data["variants"][key] = value
    try:
        out = score_variants(p)
    except KeyboardInterrupt:
        print(f"seq2acc: score-variants interrupted; run the same command again to resume after the last complete "
              f"chunk ({args.out}/.partial)", file=sys.stderr)
        sys.exit(130)
    print(f"{out}/scores.tsv")


def add_shard_arguments(parser) -> None:
    """``--workers`` / ``--ray-address``: how genome-wide work is sharded per chromosome (seq2acc.apps.shard)."""
    parser.add_argument("--workers", type=int, default=None,
                        help="local worker processes for whole chromosomes (default: params shard.workers; 0 = auto: "
                             "cores / shard.cores_per_worker; 1 = this process)")
    parser.add_argument("--ray-address", default=None,
                        help="run the chromosomes as tasks on this Ray cluster (ip:port from `ray start --head`, or "
                             "auto) instead of local processes; shard.ray_cpus / ray_gpus per task")


def shard_options(args, p) -> dict:
    """The keyword arguments of :func:`seq2acc.apps.shard.map_chromosomes` from the CLI and params ``shard.*``."""
    workers = p.get("shard.workers", int, ge=0) if args.workers is None else args.workers
    if workers < 0:
        from seq2acc.errors import InputError

        raise InputError("--workers", f"{workers} is negative", "give 0 (auto) or a number of processes")
    return {"workers": workers, "cores_per_worker": p.get("shard.cores_per_worker", int, gt=0),
            "ray_address": args.ray_address,
            "ray_cpus": p.get("shard.ray_cpus", float, gt=0), "ray_gpus": p.get("shard.ray_gpus", float, ge=0)}


def _predict(args):
    import pandas as pd

    from seq2acc.apps import predict as P
    from seq2acc.apps.inputs import parse_region
    from seq2acc.config import Params, layout
    from seq2acc.io.bed import read_intervals
    from seq2acc.io.fasta import Genome

    p = Params.load(args.params)
    lay = layout(p)
    bin_size, stride = p.get("dataset.bin_size", int, gt=0), p.get("dataset.stride", int, gt=0)
    rc = not args.no_rc_average
    if args.chrom:  # genome-wide: sharded per chromosome, merged in the given order, written once
        genome = Genome(args.genome or lay.genome)
        folds = p.get("train.folds", list)
        heldout = None
        if args.model == "heldout" and lay.folds.exists():
            from seq2acc.data.folds import load_folds

            heldout = {c for f in load_folds(lay.folds) if f["fold"] in (folds or []) for c in f["test"]}
        chroms = P.chromosome_list(args.chrom, genome, heldout)
        uri = None
        if args.model.startswith("models:/"):
            from seq2acc.mlops import tracking

            uri = tracking.tracking_uri()
        job = P.ChromosomeJob(args.model, str(lay.models.resolve()), str(lay.folds.resolve()), tuple(folds or ()),
                              str(lay.predictions.resolve()), str(Path(genome.path).resolve()), bin_size, stride, rc,
                              tracking_uri=uri, skip_short=args.chrom == ["all"])
        df = P.predict_chromosomes(job, chroms, **shard_options(args, p))
        for out in args.out:
            print(P.write_outputs(df, out, genome, bin_size, stride))
        return
    models = P.models_from_params(p, args.model)
    genome = None
    if args.fasta:
        df = P.predict_fasta(models, args.fasta, stride, bin_size, rc)
    else:
        genome = Genome(args.genome or lay.genome)
        if args.regions:
            iv = read_intervals(args.regions, genome.sizes, what="regions BED")
            df = P.predict_regions(models, genome, iv.df, bin_size, args.regions, rc)
        else:
            rows = [parse_region(r) for r in args.region]
            regions = pd.DataFrame(rows, columns=["chrom", "start", "end"])
            df = P.predict_regions(models, genome, regions, bin_size, ", ".join(args.region), rc)
    for out in args.out:
        print(P.write_outputs(df, out, genome, bin_size, stride))


def _explain(args):
    from seq2acc.apps.explain import explain
    from seq2acc.config import Params

    kind, inputs = next((k, v) for k, v in (("regions", args.regions), ("fasta", args.fasta), ("region", args.region))
                        if v)
    e = explain(inputs, args.model, params=Params.load(args.params), genome=args.genome, method=args.method,
                null_shuffles=args.null_shuffles, out=args.out, kind=kind)
    print(f"{args.out}: {len(e.regions)} window(s), {len(e.significant)} significant region(s)")


def _split(values):
    return [v for item in values for v in item.split(",") if v] if values else None


def _scan(args):
    from seq2acc.apps.scan import GENOMIC_COLUMNS, scan_motifs
    from seq2acc.artifacts.tables import write_tsv
    from seq2acc.config import Params

    kind, inputs = next((k, v) for k, v in (("regions", args.regions), ("fasta", args.fasta), ("region", args.region),
                                            ("chrom", args.chrom)) if v)
    kw = {"chrom": _split(inputs)} if kind == "chrom" else {"inputs": inputs, "kind": kind}
    df = scan_motifs(motifs=_split(args.motif), params=Params.load(args.params), genome=args.genome,
                     pvalue=args.pvalue, collection=args.collection, tax_group=args.tax_group, progress=True, **kw)
    genomic = list(df.columns) == GENOMIC_COLUMNS
    write_tsv(df, Path(args.out), "seq2acc scan: JASPAR hits; 0-based half-open; score = log2-odds bits",
              bed=genomic)
    print(f"{args.out}: {len(df)} hit(s) of {df.motif_id.nunique()} motif(s)")


def _simulate(args):
    from seq2acc.sim.simulate import simulate

    res = simulate(args.config, args.out, seed=args.seed)
    print(f"{res.out_dir}: {res.summary['genome_bp']} bp, {res.summary['target_peaks']} target peaks, "
          f"{res.summary['elsewhere_peaks']} elsewhere peaks, {res.summary['planted_instances']} planted motifs")


def _modelcard(params_path):
    from seq2acc.mlops.modelcard import build_all
    from seq2acc.config import Params

    for path in build_all(Params.load(params_path)):
        print(path)


def _ui(args):
    from seq2acc.mlops.ui import serve

    sys.exit(serve(args.host, args.port, workers=args.workers))


def _report(params_path):
    from seq2acc.report import print_report

    print_report(params_path)


if __name__ == "__main__":  # pragma: no cover
    main()
