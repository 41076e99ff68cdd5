"""Stage `validate`: great-expectations checks on the datasets and folds before training reads them."""

from __future__ import annotations

import logging
from pathlib import Path

import great_expectations as gx
import pandas as pd

from seq2acc.io.atomic import write_json
from seq2acc.data.bins import SOURCES
from seq2acc.data.store import dataset_path, read_examples, read_genomewide, read_meta
from seq2acc.errors import DataValidationError
from seq2acc.data.folds import load_folds
from seq2acc.io.fasta import index_fasta
from seq2acc.config import Params
from seq2acc.data.loader import fold_table
from seq2acc.data.checks import Checker

log = logging.getLogger(__name__)
E = gx.expectations


def _row(r) -> str:
    return f"{r['chrom']}:{r['start']}-{r['end']} label={r['label']}" if "start" in r else str(dict(r))


def _no_positives(p: Params, chroms, data_dir) -> None:
    """One message with the cause when no chromosome has a positive example (instead of a failed check per fold)."""
    bins = {c: read_meta(dataset_path(data_dir, c)).get("bins", {}) for c in chroms}
    total = {k: sum(b.get(k, 0) for b in bins.values()) for k in ("positive_grid", "positive_blacklisted",
                                                                  "positive_too_many_n")}
    if total["positive_grid"] and total["positive_blacklisted"] >= total["positive_too_many_n"]:
        cause = (f"the target peaks make {total['positive_grid']} bins positive, but {total['positive_blacklisted']} "
                 f"of them overlap the blacklist and {total['positive_too_many_n']} have too many N: all are left out")
        fix = (f"check peaks.blacklist ({p.get('peaks.blacklist', str, allow_none=True)}) is a blacklist, not a peak "
               "file, or set it to null")
    elif total["positive_grid"]:
        cause = (f"the target peaks make {total['positive_grid']} bins positive, but {total['positive_too_many_n']} "
                 f"have more than dataset.max_n_fraction N in their context and the rest overlap the blacklist")
        fix = "raise dataset.max_n_fraction, or check the FASTA is not hard-masked (N) where the peaks are"
    else:
        cause = "no bin is positive: no target peak covers more than dataset.positive_overlap of a bin"
        fix = ("check peaks.target is the right file for this genome and dataset.chromosomes, and that "
               "peaks.min_width widens narrow peaks")
    raise DataValidationError(f"no positive example on any of the {len(chroms)} chromosome(s) (training must not "
                              f"read this data): {cause}\n    fix: {fix}")


def run_checks(p: Params) -> tuple[Checker, dict]:
    chroms = p.get("dataset.chromosomes", list)
    data_dir = p.get("dataset.out_dir", str)
    context = p.get("dataset.context", int, gt=0)
    max_n = p.get("validate.max_n_fraction", float, ge=0, le=1)
    fasta_names = sorted(index_fasta(p.get("genome.fasta_out", str)))
    ck = Checker(p.get("validate.example_rows", int, ge=1))

    ex = read_examples([dataset_path(data_dir, c) for c in chroms])
    if not len(ex) or int(ex.label.sum()) == 0:
        _no_positives(p, chroms, data_dir)
    ex["length"] = ex.end - ex.start
    ck.check("examples", ex, [
        ("labels are 0 or 1", E.ExpectColumnValuesToBeInSet(column="label", value_set=[0, 1])),
        (f"every interval is exactly {context} bp", E.ExpectColumnValuesToBeInSet(column="length", value_set=[context])),
        ("start >= 0", E.ExpectColumnValuesToBeBetween(column="start", min_value=0)),
        ("end <= chromosome size", E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="chrom_size", column_B="end", or_equal=True)),
        ("chromosome present in the FASTA", E.ExpectColumnValuesToBeInSet(column="chrom", value_set=fasta_names)),
        (f"N fraction <= {max_n}", E.ExpectColumnValuesToBeBetween(column="n_frac", min_value=0, max_value=max_n)),
        ("provenance is a known source", E.ExpectColumnValuesToBeInSet(column="source", value_set=list(range(len(SOURCES))))),
        ("some positive examples exist", E.ExpectColumnSumToBeBetween(column="label", min_value=1)),
    ], _row)

    # Genome-wide bins: per-chromosome extremes (bounded memory at genome scale).
    rows = []
    for c in chroms:
        _, size, spec, gw = read_genomewide(dataset_path(data_dir, c))
        rows.append({"chrom": c, "chrom_size": size, "n_bins": len(gw),
                     "min_start": int(gw.start.min()) if len(gw) else 0,
                     "max_end": int(gw.start.max() + spec.context) if len(gw) else 0,
                     "bad_labels": int((~gw.label.isin([0, 1])).sum()), "n_pos": int((gw.label == 1).sum())})
    gwdf = pd.DataFrame(rows)
    ck.check("genomewide", gwdf, [
        ("genome-wide bins start >= 0", E.ExpectColumnValuesToBeBetween(column="min_start", min_value=0)),
        ("genome-wide bins end <= chromosome size", E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="chrom_size", column_B="max_end", or_equal=True)),
        ("genome-wide labels are 0 or 1", E.ExpectColumnValuesToBeInSet(column="bad_labels", value_set=[0])),
        ("chromosome present in the FASTA", E.ExpectColumnValuesToBeInSet(column="chrom", value_set=fasta_names)),
    ], lambda r: f"{r['chrom']}: size={r['chrom_size']} min_start={r['min_start']} max_end={r['max_end']}")

    folds = load_folds(p.get("folds.out", str))
    tested = pd.Series([c for f in folds for c in f["test"]]).value_counts()
    cover = pd.DataFrame({"chrom": chroms, "times_tested": [int(tested.get(c, 0)) for c in chroms]})
    ck.check("folds", cover, [
        ("every chromosome is a test chromosome exactly once", E.ExpectColumnValuesToBeInSet(column="times_tested", value_set=[1])),
    ], lambda r: f"{r['chrom']} tested {r['times_tested']} times")
    pos_frac = {}
    for f in folds:
        k = f["fold"]
        held_out = sorted(set(f["test"]) | set(f["valid"]))
        train = fold_table(data_dir, f["train"])  # exactly what training reads
        ck.check(f"fold{k}_train", train, [
            ("no test or validation chromosome among the training intervals (negatives included)",
             E.ExpectColumnValuesToNotBeInSet(column="chrom", value_set=held_out)),
            ("training split has positives", E.ExpectColumnSumToBeBetween(column="label", min_value=1)),
        ], _row)
        for split in ("valid", "test"):
            t = fold_table(data_dir, f[split])
            ck.check(f"fold{k}_{split}", t, [(f"{split} split has positives", E.ExpectColumnSumToBeBetween(column="label", min_value=1))], _row)
        pos_frac[f"fold{k}"] = {s: round(float(fold_table(data_dir, f[s]).label.mean()), 4) for s in ("train", "valid", "test")}
        test_gw = gwdf[gwdf.chrom.isin(f["test"])]
        pos_frac[f"fold{k}"]["test_genomewide"] = round(float(test_gw.n_pos.sum() / max(test_gw.n_bins.sum(), 1)), 5)
    summary = {"success": ck.success, "n_checks": len(ck.results), "n_passed": sum(r.success for r in ck.results),
               "n_examples": len(ex), "positive_fraction": pos_frac, "failures": ck.failure_lines()}
    return ck, summary


def validate(p: Params) -> None:
    out_dir = Path(p.get("validate.out_dir", str))
    ck, summary = run_checks(p)
    details = [r.__dict__ for r in ck.results]
    write_json(out_dir / "checks.json", details)
    if not ck.success:
        raise DataValidationError("data checks failed (training must not read this data):\n  "
                                  + "\n  ".join(summary["failures"])
                                  + f"\n  fix: correct the inputs or params, then `dvc repro`; details in {out_dir / 'checks.json'}")
    write_json(p.get("validate.report", str), summary)
    log.info("data checks passed: %d/%d", summary["n_passed"], summary["n_checks"])
