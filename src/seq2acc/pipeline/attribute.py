"""DVC stages of interpretation I (protocol 3.4 steps 1-2, notes 22-27).

- ``attribute@K``: contribution scores of the sequences of interest (default: every positive genome-wide bin of
  fold K's *test* chromosomes, i.e. sequences that model never saw; or any BED, ``attribute.regions``) with fold
  K's model, their dinucleotide-shuffled null, per-position/per-window empirical p-values and BH q-values,
  significant regions, logo plots of the top sequences -> ``attribution/folds/fold<K>/``; logged to the fold's MLflow run.
- ``attribute_ensemble``: regions scored by every fold's model -> the mean over folds; regions scored by one
  fold only because they lie on its test chromosomes (the default) -> that held-out model's scores.
  ``attribution/ensemble.h5`` is the single file to hand to TF-MoDISco.
- ``motif_scan@K``: JASPAR PWMs as one frozen Conv1D over the positives (the attribution regions) and negatives
  (the fold's sampled negative test examples, or shuffled positives): FIMO-style hits, per-motif enrichment, and
  hits on the contribution scores that the sequence also supports (note 27) -> ``motifs/folds/fold<K>/``.
- ``motif_summary``: enrichment pooled over folds -> ``motifs/summary.tsv`` / ``summary.json`` (DVC metrics).

HDF5 layout (``contrib.h5``; ``modisco motifs -i contrib.h5 -n 2000`` reads it as is): ``input_seqs`` (n, L, 4)
one-hot, ``hyp_scores`` (n, L, 4) hypothetical contributions, ``contrib_scores`` (n, L, 4) actual-base
contributions, ``pvalues/position`` + ``qvalues/position`` (n, L), ``pvalues/window`` + ``qvalues/window``
(n, L - window + 1; window i covers [i, i + window)), ``null/input_seqs`` and ``null/contrib_scores`` (n, S, L, 4),
``regions/{chrom,start,end,bin_start,label,logit,n_models,source_fold}`` (start/end = the model's input window,
0-based half-open), attributes with every setting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.mlops import tracking
from seq2acc.io.atomic import write_json
from seq2acc.artifacts.contrib import write_attribution
from seq2acc.interpret.sets import AttributionSet
from seq2acc.model.predict import predict_logits
from seq2acc.interpret.attribution import (METHODS, contributions, null_contributions,
                                           shuffled_references)
from seq2acc.interpret.null import TAILS, null_test, significant_bed, significant_regions
from seq2acc.artifacts import fold_model
from seq2acc.artifacts.tables import write_tsv
from seq2acc.config import layout, tracked_input
from seq2acc.data.store import read_genomewide
from seq2acc.io.fasta import gather_onehot
from seq2acc.model.load import load_model
from seq2acc.errors import InputError, ParamsError, Seq2AccError
from seq2acc.data.folds import get_fold
from seq2acc.io.fasta import Genome, read_chrom_sizes
from seq2acc.io.bed import read_intervals
from seq2acc.config import Params

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- configuration
@dataclass
class AttributeConfig:
    method: str
    n_refs: int
    null_shuffles: int
    regions: str | None
    max_regions: int | None
    window: int
    tail: str
    alpha: float
    batch_size: int
    task: int
    top_logos: int
    logo_width: int
    seed: int
    out_dir: Path


def attribute_config(p: Params) -> AttributeConfig:
    g = p.get
    return AttributeConfig(
        method=g("attribute.method", str, choices=METHODS),
        n_refs=g("attribute.n_refs", int, ge=1),
        null_shuffles=g("attribute.null_shuffles", int, ge=1),
        regions=g("attribute.regions", str, allow_none=True),
        max_regions=g("attribute.max_regions", int, ge=1, allow_none=True),
        window=g("attribute.window", int, ge=1),
        tail=g("attribute.tail", str, choices=TAILS),
        alpha=g("attribute.alpha", float, gt=0, lt=1),
        batch_size=g("attribute.batch_size", int, ge=2),
        task=g("attribute.task", int, ge=0),
        top_logos=g("attribute.top_logos", int, ge=0),
        logo_width=g("attribute.logo_width", int, ge=10),
        seed=g("seed", int),
        out_dir=Path(g("attribute.out_dir", str)),
    )


# ----------------------------------------------------------------------------- sequences of interest (note 22)
def regions_of_interest(p: Params, k: int, context: int, cfg: AttributeConfig) -> pd.DataFrame:
    """chrom, start, end (input windows of ``context`` bp), bin_start, label.

    Default: every positive genome-wide bin of fold ``k``'s test chromosomes. With ``attribute.regions`` (a BED):
    each interval's summit (narrowPeak) or centre, widened to ``context``; windows past a chromosome end are
    dropped with a warning.
    """
    lay = layout(p)
    if cfg.regions:
        tracked_input(p, "attribute.regions", cfg.regions)
        sizes = read_chrom_sizes(lay.chrom_sizes)
        iv = read_intervals(cfg.regions, sizes, what="attribute.regions BED")
        df = iv.df
        centre = np.where(df.summit >= 0, df.summit, (df.start + df.end) // 2).astype(np.int64)
        start = centre - context // 2
        end = start + context
        size = df.chrom.map(sizes).to_numpy()
        ok = (start >= 0) & (end <= size)
        if (~ok).any():
            log.warning("%s: %d region(s) dropped: their %d bp window crosses a chromosome end", cfg.regions,
                        int((~ok).sum()), context)
        out = pd.DataFrame({"chrom": df.chrom.to_numpy()[ok], "start": start[ok], "end": end[ok],
                            "bin_start": centre[ok], "label": -1})
        if out.empty:
            raise InputError(cfg.regions, f"no region has a full {context} bp window inside its chromosome",
                             "give regions away from chromosome ends")
        out = out.drop_duplicates(["chrom", "start"]).reset_index(drop=True)
    else:
        fold = get_fold(lay.folds, k)
        frames = []
        for c in fold["test"]:
            chrom, _, spec, gw = read_genomewide(lay.dataset(c))
            if spec.context != context:
                raise ParamsError("dataset.context", f"datasets use {spec.context} bp windows, the model {context} bp",
                                  "retrain (`dvc repro train`) after changing dataset.context")
            pos = gw[gw.label == 1]
            frames.append(pd.DataFrame({"chrom": chrom, "start": pos.start.to_numpy(),
                                        "end": pos.start.to_numpy() + context, "bin_start": pos.bin_start.to_numpy(),
                                        "label": 1}))
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if out.empty:
            raise Seq2AccError(f"fold {k}: no positive bins on its test chromosomes {fold['test']}; "
                               "fix: set attribute.regions to a BED of regions of interest")
    if cfg.max_regions and len(out) > cfg.max_regions:
        keep = np.sort(np.random.default_rng([cfg.seed, k]).choice(len(out), cfg.max_regions, replace=False))
        out = out.iloc[keep].reset_index(drop=True)
    return out


# ----------------------------------------------------------------------------- HDF5


# ----------------------------------------------------------------------------- plots / outputs
# ----------------------------------------------------------------------------- attribute@K
def attribute_fold(p: Params, k: int) -> Path:
    """Stage body of ``attribute@K``."""
    import time

    cfg = attribute_config(p)
    lay = layout(p)
    t0 = time.perf_counter()
    model = load_model(fold_model.model_path(lay.models, k))
    context = int(model.input_shape[1])
    regions = regions_of_interest(p, k, context, cfg)
    genome = Genome(lay.genome)
    x = gather_onehot(genome, regions, context)
    log.info("fold %d: %s contributions of %d sequences (%d references each) + %d shuffled null cop%s", k,
             cfg.method, len(x), cfg.n_refs, cfg.null_shuffles, "y" if cfg.null_shuffles == 1 else "ies")
    logits = predict_logits(model, x, cfg.task)
    contrib, hyp = contributions(model, x, cfg.method, cfg.n_refs, cfg.seed, cfg.batch_size, cfg.task, progress=True)
    completeness = float("nan")
    if cfg.method == "deepshap":  # check: sum of contributions = logit(x) - mean logit(references)
        refs = shuffled_references(x, cfg.n_refs, cfg.seed)
        ref_logit = predict_logits(model, refs.reshape((-1,) + x.shape[1:]), cfg.task).reshape(len(x), -1).mean(1)
        delta = logits - ref_logit
        completeness = float(np.max(np.abs(contrib.sum((1, 2)) - delta) / np.maximum(np.abs(delta), 1e-3)))
        if completeness > 1e-3:
            log.warning("DeepSHAP completeness error %.2g > 1e-3: the model has layers shap's rules do not cover",
                        completeness)
        del refs
    null_x, null_c = null_contributions(model, x, cfg.null_shuffles, cfg.method, cfg.n_refs, cfg.seed,
                                        cfg.batch_size, cfg.task, progress=True)
    test = null_test(contrib, null_c, cfg.window, cfg.tail)
    sig = significant_regions(test, cfg.alpha)
    regions = regions.assign(logit=logits.astype(np.float32), n_models=1, source_fold=k)
    attrs = {"fold": k, "method": cfg.method, "n_refs": cfg.n_refs, "null_shuffles": cfg.null_shuffles,
             "seed": cfg.seed, "task": cfg.task, "window": cfg.window, "tail": cfg.tail, "alpha": cfg.alpha,
             "regions_source": cfg.regions or "test-fold positive bins", "context": context,
             "completeness_max_rel_err": completeness, "ensemble": False}
    a = AttributionSet(regions, x, contrib, hyp, (null_x > 0).astype(np.uint8), null_c, test, attrs)
    out = cfg.out_dir / "folds" / f"fold{k}"
    out.mkdir(parents=True, exist_ok=True)
    return write_outputs(p, a, sig, out, k, time.perf_counter() - t0)


def write_outputs(p: Params, a: AttributionSet, sig: pd.DataFrame, out: Path, k: int | None, seconds: float) -> Path:
    cfg = attribute_config(p)
    write_attribution(out / "contrib.h5", a)
    bed = significant_bed(a.regions, sig)
    write_tsv(bed, out / "significant.tsv", f"significant regions (window {a.test.window} bp, BH q < {cfg.alpha}); "
              "0-based half-open genome coordinates", bed=True)
    from seq2acc.interpret.logos import logo_panels, save_logos

    title = (f"{'fold ' + str(k) if k is not None else 'ensemble'}: {a.attrs['method']} contributions, "
             f"top {cfg.top_logos} sequences by logit (x: position in the {a.onehot.shape[1]} bp input; "
             f"yellow: significant vs shuffled null, BH q < {cfg.alpha})")
    save_logos(out / "logos.png", logo_panels(a, cfg.top_logos, cfg.logo_width, sig), suptitle=title)
    n = len(a.regions)
    summary = {"fold": k, "n_sequences": n, "method": a.attrs["method"], "n_refs": a.attrs["n_refs"],
               "null_shuffles": a.attrs["null_shuffles"],
               "completeness_max_rel_err": a.attrs.get("completeness_max_rel_err"),
               "significant_regions": int(len(sig)),
               "sequences_with_significant_region": int(sig.seq.nunique()) if len(sig) else 0,
               "fraction_sequences_significant": float(sig.seq.nunique() / n) if n and len(sig) else 0.0,
               "fraction_positions_q_below_alpha": float((a.test.position_q < cfg.alpha).mean()) if n else 0.0,
               "window": a.test.window, "alpha": cfg.alpha, "tail": a.test.tail, "seconds": round(seconds, 1)}
    write_json(out / "summary.json", summary)
    log.info("%s: %s", out, summary)
    if k is not None:
        tracking.log_to_run(fold_model.run_id(layout(p).models, k),
                            {f"attr.{key}": v for key, v in summary.items() if key not in ("fold", "window", "alpha")},
                            {"attr.method": a.attrs["method"], "attr.regions": a.attrs["regions_source"]},
                            [out / "summary.json", out / "logos.png", out / "significant.tsv"], "attribution")
    return out
