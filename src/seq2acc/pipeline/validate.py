"""Stage `validate`: great-expectations checks on the datasets and folds before training reads them."""

from __future__ import annotations

import logging
from pathlib import Path

import great_expectations as gx
import numpy as np
import pandas as pd

from seq2acc.io.atomic import write_json
from seq2acc.data.bins import SOURCES
from seq2acc.data.store import (dataset_path, label_columns, read_examples, read_genomewide, read_meta,
                                read_signal_info, read_task_names, signal_columns)
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
        cause = "no bin is positive: no task's peak covers more than dataset.positive_overlap of a bin"
        fix = ("check the peak files (peaks.target, or each of peaks.tasks) are the right files for this genome and "
               "dataset.chromosomes, and that their min_width widens narrow peaks")
    raise DataValidationError(f"no positive example on any of the {len(chroms)} chromosome(s) (training must not "
                              f"read this data): {cause}\n    fix: {fix}")


def _signal_ok(v: np.ndarray) -> np.ndarray:
    """Per value: True where there is no signal label (NaN) or it is finite and >= 0."""
    v = np.asarray(v, np.float64)
    return np.isnan(v) | (np.isfinite(v) & (v >= 0))


def _moments(v: np.ndarray) -> np.ndarray:
    """(n, sum, sum of squares) of the finite values (float64), to pool chromosomes and splits."""
    v = np.asarray(v, np.float64)
    v = v[np.isfinite(v)]
    return np.array([len(v), v.sum(), (v * v).sum()])


def _summary(m: np.ndarray) -> dict:
    """``{n, mean, sd}`` (population sd) of pooled :func:`_moments`; mean and sd None when n is 0."""
    n, s1, s2 = float(m[0]), float(m[1]), float(m[2])
    if not n:
        return {"n": 0, "mean": None, "sd": None}
    mean = s1 / n
    return {"n": int(n), "mean": round(mean, 5), "sd": round(float(np.sqrt(max(s2 / n - mean * mean, 0.0))), 5)}


def _task_rule(text: str, name: str, n_tasks: int) -> str:
    """A per-task rule's text: as it always read for one task, with the task named for several."""
    return text if n_tasks == 1 else f"task '{name}': {text}"


def run_checks(p: Params) -> tuple[Checker, dict]:
    chroms = p.get("dataset.chromosomes", list)
    data_dir = p.get("dataset.out_dir", str)
    context = p.get("dataset.context", int, gt=0)
    max_n = p.get("validate.max_n_fraction", float, ge=0, le=1)
    fasta_names = sorted(index_fasta(p.get("genome.fasta_out", str)))
    ck = Checker(p.get("validate.example_rows", int, ge=1))

    paths = [dataset_path(data_dir, c) for c in chroms]
    names = read_task_names(paths)
    cols, nt = label_columns(names), len(names)
    ex = read_examples(paths, tasks=True)
    if not len(ex) or not (ex[cols] == 1).any(axis=1).any():
        _no_positives(p, chroms, data_dir)
    ex["length"] = ex.end - ex.start
    ex["any_task_positive"] = (ex[cols] == 1).any(axis=1).astype(int)
    ex["positive_source"] = (ex.source == SOURCES.index("positive")).astype(int)
    sig = read_signal_info(paths)
    sig_names, sig_cols = list(sig.tasks), signal_columns(sig.tasks)
    for n, c in zip(sig_names, sig_cols):
        ex[f"signal_ok:{n}"] = _signal_ok(ex[c].to_numpy())
    ck.check("examples", ex, [
        ("labels are 0 or 1", E.ExpectColumnValuesToBeInSet(column="label", value_set=[0, 1])),
        *[(f"task '{n}': labels are 0 or 1", E.ExpectColumnValuesToBeInSet(column=c, value_set=[0, 1]))
          for n, c in zip(names, cols)],
        (f"label is the first task's ('{names[0]}') column of the label matrix",
         E.ExpectColumnPairValuesToBeEqual(column_A="label", column_B=cols[0])),
        ("an example's provenance is 'positive' exactly when it is positive for some task",
         E.ExpectColumnPairValuesToBeEqual(column_A="positive_source", column_B="any_task_positive")),
        (f"every interval is exactly {context} bp", E.ExpectColumnValuesToBeInSet(column="length", value_set=[context])),
        ("start >= 0", E.ExpectColumnValuesToBeBetween(column="start", min_value=0)),
        ("end <= chromosome size", E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="chrom_size", column_B="end", or_equal=True)),
        ("chromosome present in the FASTA", E.ExpectColumnValuesToBeInSet(column="chrom", value_set=fasta_names)),
        (f"N fraction <= {max_n}", E.ExpectColumnValuesToBeBetween(column="n_frac", min_value=0, max_value=max_n)),
        ("provenance is a known source", E.ExpectColumnValuesToBeInSet(column="source", value_set=list(range(len(SOURCES))))),
        *[(_task_rule("some positive examples exist", n, nt), E.ExpectColumnSumToBeBetween(column=c, min_value=1))
          for n, c in zip(names, cols)],
        *[(f"task '{n}': signal is finite and >= 0 where given", E.ExpectColumnValuesToBeInSet(
            column=f"signal_ok:{n}", value_set=[True])) for n in sig_names],
        *[(f"task '{n}': some examples have a signal label", E.ExpectColumnValuesToNotBeNull(column=c, mostly=1e-9))
          for n, c in zip(sig_names, sig_cols)],
    ], _row)

    # Genome-wide bins: per-chromosome extremes (bounded memory at genome scale).
    rows, gw_signal = [], {n: {} for n in sig_names}
    for c in chroms:
        _, size, spec, gw = read_genomewide(dataset_path(data_dir, c), tasks=True)
        lab = gw[cols].to_numpy()
        for n, col in zip(sig_names, sig_cols):
            gw_signal[n][c] = _moments(gw[col].to_numpy())
        rows.append({"chrom": c, "chrom_size": size, "n_bins": len(gw),
                     "min_start": int(gw.start.min()) if len(gw) else 0,
                     "max_end": int(gw.start.max() + spec.context) if len(gw) else 0,
                     "bad_labels": int((~gw.label.isin([0, 1])).sum()), "n_pos": int((gw.label == 1).sum()),
                     **{f"bad:{n}": int((~np.isin(lab[:, t], [0, 1])).sum()) for t, n in enumerate(names)},
                     **{f"pos:{n}": int((lab[:, t] == 1).sum()) for t, n in enumerate(names)},
                     **{f"bad_signal:{n}": int((~_signal_ok(gw[col].to_numpy())).sum())
                        for n, col in zip(sig_names, sig_cols)}})
    gwdf = pd.DataFrame(rows)
    ck.check("genomewide", gwdf, [
        ("genome-wide bins start >= 0", E.ExpectColumnValuesToBeBetween(column="min_start", min_value=0)),
        ("genome-wide bins end <= chromosome size", E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="chrom_size", column_B="max_end", or_equal=True)),
        ("genome-wide labels are 0 or 1", E.ExpectColumnValuesToBeInSet(column="bad_labels", value_set=[0])),
        *[(f"task '{n}': genome-wide labels are 0 or 1", E.ExpectColumnValuesToBeInSet(column=f"bad:{n}", value_set=[0]))
          for n in names],
        *[(f"task '{n}': genome-wide signal is finite and >= 0 where given",
           E.ExpectColumnValuesToBeInSet(column=f"bad_signal:{n}", value_set=[0])) for n in sig_names],
        ("chromosome present in the FASTA", E.ExpectColumnValuesToBeInSet(column="chrom", value_set=fasta_names)),
    ], lambda r: f"{r['chrom']}: size={r['chrom_size']} min_start={r['min_start']} max_end={r['max_end']}")

    folds = load_folds(p.get("folds.out", str))
    tested = pd.Series([c for f in folds for c in f["test"]]).value_counts()
    cover = pd.DataFrame({"chrom": chroms, "times_tested": [int(tested.get(c, 0)) for c in chroms]})
    ck.check("folds", cover, [
        ("every chromosome is a test chromosome exactly once", E.ExpectColumnValuesToBeInSet(column="times_tested", value_set=[1])),
    ], lambda r: f"{r['chrom']} tested {r['times_tested']} times")
    pos_frac, per_task, signal_stats = {}, {n: {} for n in names}, {n: {} for n in sig_names}
    split_word = {"train": "training", "valid": "valid", "test": "test"}
    for f in folds:
        k = f["fold"]
        held_out = sorted(set(f["test"]) | set(f["valid"]))
        tables = {s: fold_table(data_dir, f[s], tasks=True) for s in ("train", "valid", "test")}  # what training reads
        ck.check(f"fold{k}_train", tables["train"], [
            ("no test or validation chromosome among the training intervals (negatives included)",
             E.ExpectColumnValuesToNotBeInSet(column="chrom", value_set=held_out)),
            *[(_task_rule("training split has positives", n, nt), E.ExpectColumnSumToBeBetween(column=c, min_value=1))
              for n, c in zip(names, cols)],
        ], _row)
        for split in ("valid", "test"):
            ck.check(f"fold{k}_{split}", tables[split], [
                (_task_rule(f"{split_word[split]} split has positives", n, nt),
                 E.ExpectColumnSumToBeBetween(column=c, min_value=1)) for n, c in zip(names, cols)], _row)
        test_gw = gwdf[gwdf.chrom.isin(f["test"])]
        n_test_bins = max(test_gw.n_bins.sum(), 1)
        pos_frac[f"fold{k}"] = {s: round(float((t[cols] == 1).any(axis=1).mean()), 4) for s, t in tables.items()}
        pos_frac[f"fold{k}"]["test_genomewide"] = round(float(test_gw.n_pos.sum() / n_test_bins), 5)
        for n, c in zip(names, cols):
            per_task[n][f"fold{k}"] = {s: round(float(t[c].mean()), 4) for s, t in tables.items()}
            per_task[n][f"fold{k}"]["test_genomewide"] = round(float(test_gw[f"pos:{n}"].sum() / n_test_bins), 5)
        for n, c in zip(sig_names, sig_cols):
            signal_stats[n][f"fold{k}"] = {s: _summary(_moments(t[c].to_numpy())) for s, t in tables.items()}
            signal_stats[n][f"fold{k}"]["test_genomewide"] = _summary(
                np.sum([gw_signal[n][c_] for c_ in f["test"]], axis=0))
    summary = {"success": ck.success, "n_checks": len(ck.results), "n_passed": sum(r.success for r in ck.results),
               "n_examples": len(ex), "tasks": names, "positive_fraction": pos_frac,
               "positive_fraction_per_task": per_task, "signal_tasks": sig_names,
               "signal": {"transform": sig.transform, "uncovered": sig.uncovered, "per_task": signal_stats},
               "failures": ck.failure_lines()}
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
