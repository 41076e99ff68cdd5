"""DVC stage ``peaks``: read and check each task's peak file (``peaks.tasks``, or the one task ``peaks.target``),
the "elsewhere" and blacklist files; widen narrow peaks (each task by its own ``min_width``, the elsewhere files by
``peaks.elsewhere_min_width``), merge overlaps -> ``data/peaks/`` (:mod:`seq2acc.artifacts.peak_sets`: one BED per
task, ``target.bed``, ``elsewhere.bed``, ``blacklist.bed``, ``summary.json``; all appear together or not at all).

It runs before every dataset stage, so it also checks ``dataset.chromosomes`` and ``folds.n_folds`` against the
genome, and that the peaks of every task can make a positive bin (on a listed chromosome, not all under the
blacklist, some bin covered more than ``dataset.positive_overlap``), and the elsewhere peaks an elsewhere negative.
"""

from __future__ import annotations

import glob
import logging
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from seq2acc.artifacts.peak_sets import write_peak_sets
from seq2acc.config import Params, layout, params_keys, task_specs, tracked_input
from seq2acc.data.folds import check_fold_plan
from seq2acc.data.intervals import max_window_coverage, merge, overlaps, widen
from seq2acc.errors import InputError, ParamsError
from seq2acc.io.bed import Intervals, read_intervals
from seq2acc.io.fasta import read_chrom_sizes

log = logging.getLogger(__name__)


def _expand(patterns, exclude: set[str], path: str = "params.yaml") -> list[Path]:
    if isinstance(patterns, str):
        patterns = [patterns]
    if patterns is not None and (not isinstance(patterns, list) or not all(isinstance(x, str) for x in patterns)):
        raise ParamsError("peaks.elsewhere", f"{patterns!r} is not a list of paths or globs",
                          "give a list of BED files or globs, e.g. [data/raw/other/*.bed], or [] for none", path)
    files: list[Path] = []
    for pat in patterns or []:
        hits = sorted(glob.glob(pat)) if any(ch in pat for ch in "*?[") else [pat]
        if not hits:
            raise ParamsError("peaks.elsewhere", f"pattern {pat!r} matches no file", "fix the path or glob", path)
        files += [Path(h) for h in hits if Path(h).resolve() not in exclude]
    return files


def prepare_peaks(p: Params) -> None:
    """Stage body of ``peaks``."""
    lay = layout(p)
    sizes = read_chrom_sizes(lay.chrom_sizes)
    with params_keys(p, chromosomes="dataset.chromosomes", n_folds="folds.n_folds"):
        chroms = check_fold_plan(p.get("dataset.chromosomes", list), sizes, p.get("folds.n_folds", int),
                                 p.get("dataset.context", int, gt=0), lay.genome)
    specs = task_specs(p)  # every params problem of the tasks before any file is read
    one = len(specs) == 1 and specs[0].key == "peaks.target"
    else_width = p.get("peaks.elsewhere_min_width", int, ge=0)
    drop = p.get("peaks.drop_unknown_chroms", bool)
    bin_size = p.get("dataset.bin_size", int, gt=0)
    need = p.get("dataset.positive_overlap", float, ge=0, lt=1) * bin_size  # bases a positive bin covers MORE than
    paths = [tracked_input(p, s.key if one else f"{s.key}.peaks", s.peaks) for s in specs]
    for s in specs:  # every task's files exist before any is read (one message per problem, the task named)
        if s.signal is not None:
            sig = tracked_input(p, f"{s.key}.signal", s.signal)
            if not sig.is_file():
                raise InputError(sig, f"signal track of task '{s.name}' ({s.key}.signal) does not exist",
                                 f"fix the path in {s.key}.signal, or set it to null (no signal track)")
        if not one and not s.peaks.exists():
            raise InputError(s.peaks, f"peak file of task '{s.name}' ({s.key}.peaks) does not exist",
                             f"fix the path in {s.key}.peaks, or remove task '{s.name}' from peaks.tasks")
    tasks, task_rows = {}, []
    for s, path in zip(tqdm(specs, desc="task peak files", disable=None), paths):
        what = "target peak file" if one else f"peak file of task '{s.name}'"
        iv = read_intervals(path, sizes, allow_empty=True, drop_unknown_chroms=drop, what=what, genome=lay.genome)
        if not len(iv):
            raise InputError(path, f"{what} has no intervals",
                             "give a BED file with at least one 'chrom<TAB>start<TAB>end' line"
                             + ("" if one else f", or remove task '{s.name}' from peaks.tasks"))
        merged = merge(widen(iv, s.min_width, sizes))
        tasks[s.name] = merged
        task_rows.append({"name": s.name, "file": str(path), "signal": str(s.signal) if s.signal else None,
                          "min_width": s.min_width, "raw": len(iv), "merged": len(merged),
                          "bp": int((merged.df.end - merged.df.start).sum())})
    exclude = {q.resolve() for q in paths}
    frames = []
    else_files = [tracked_input(p, "peaks.elsewhere", f)
                  for f in _expand(p.get("peaks.elsewhere", allow_none=True), exclude, p.path)]
    if not else_files and p.get("peaks.elsewhere", allow_none=True):
        log.warning("peaks.elsewhere matches only task peak files (excluded): no 'elsewhere' negatives; the "
                    "other tasks' positives are the informative negatives of each task, and "
                    "dataset.negatives.fractions.elsewhere goes to random bins")
    for f in tqdm(else_files, desc="elsewhere peak files", disable=None):
        iv = read_intervals(f, sizes, allow_empty=True, drop_unknown_chroms=drop, what="'elsewhere' peak file",
                            genome=lay.genome)
        if not len(iv):
            log.warning("%s: 'elsewhere' peak file is empty", f)
        frames.append(widen(iv, else_width, sizes).df)
    first = next(iter(tasks.values()))
    elsewhere = merge(Intervals(pd.concat(frames, ignore_index=True), "elsewhere")) if frames else Intervals(
        first.df.iloc[:0].copy(), "elsewhere")
    # Blacklist regions on sequences the FASTA lacks (chrM, 2-micron, ...) cannot affect any bin: dropped with a warning.
    bl_path = p.get("peaks.blacklist", str, allow_none=True)
    bl_path = bl_path and tracked_input(p, "peaks.blacklist", bl_path)
    blacklist = (merge(read_intervals(bl_path, sizes, allow_empty=True, drop_unknown_chroms=True, what="blacklist",
                                      genome=lay.genome))
                 if bl_path else Intervals(first.df.iloc[:0].copy(), "blacklist"))
    for s, path, row in zip(specs, paths, task_rows):
        label = "target" if one else f"task '{s.name}'"
        _check_target_usable(tasks[s.name], blacklist, chroms, path, bl_path, row["raw"], label)
        _check_can_label(tasks[s.name], chroms, bin_size, need, path, f"{label} peak(s)", s.min_width_key,
                         s.min_width, f"{label} would have no positive example")
    _check_can_label(elsewhere, chroms, bin_size, need, ", ".join(map(str, else_files)), "'elsewhere' peak(s)",
                     "peaks.elsewhere_min_width", else_width,
                     "no bin could be an 'elsewhere' negative (dataset.negatives.fractions.elsewhere would silently "
                     "go to random bins)")
    signals = _check_signals(specs, task_rows, sizes, chroms, lay)
    t0 = task_rows[0]
    summary = {"target_file": t0["file"], "target_raw": t0["raw"], "target_merged": t0["merged"],
               "target_bp": t0["bp"], "elsewhere_files": [str(f) for f in else_files],
               "elsewhere_merged": len(elsewhere), "blacklist_regions": len(blacklist), "min_width": t0["min_width"],
               "elsewhere_min_width": else_width, "tasks": task_rows}
    write_peak_sets(lay.peaks, tasks, elsewhere, blacklist, summary, signals, sizes)
    log.info("peaks: %s", summary)


def _check_signals(specs, task_rows, sizes: dict, chroms: list[str], lay) -> dict:
    """Check each task's signal track against the FASTA and the listed chromosomes; record in its summary row the
    bigWig the dataset stage reads (``signal_read``). A bigWig is read where it is (its header is checked here: the
    chromosome names and sizes, some data on the listed chromosomes; its values by the dataset stage, chromosome
    by chromosome). A bedGraph is read and checked here, line by line, and returned (task -> per-chromosome
    intervals) to be written as ``signal/<name>.bw``."""
    import contextlib

    from seq2acc.artifacts.peak_sets import converted_signal_path
    from seq2acc.io.signal import bigwig_has_data, check_track_chroms, is_bigwig_name, open_bigwig, read_bedgraph

    out = {}
    for s, row in zip(specs, task_rows):
        if s.signal is None:
            continue
        what = f"signal track of task '{s.name}' ({s.key}.signal)"
        alt = f"set {s.key}.signal: null (no signal track)"
        if is_bigwig_name(s.signal):
            with contextlib.closing(open_bigwig(s.signal, what)) as bw:
                check_track_chroms(s.signal, bw.chroms(), sizes, chroms, what, lay.genome)
                if not any(bigwig_has_data(bw, c, sizes[c]) for c in chroms):
                    raise InputError(s.signal, f"{what} has no data on any chromosome of dataset.chromosomes (an "
                                     "empty track)", f"give the task's signal bigWig with data, or {alt}")
            row.update(signal_format="bigwig", signal_read=str(s.signal))
        else:
            out[s.name] = read_bedgraph(s.signal, sizes, chroms, what, lay.genome, alternative=alt)
            row.update(signal_format="bedgraph", signal_read=str(converted_signal_path(lay.peaks, s.name)))
    return out


def _check_can_label(iv: Intervals, chroms: list[str], bin_size: int, need: float, where: str, what: str,
                     width_key: str, min_width: int, consequence: str) -> None:
    """Stop when no ``bin_size`` window of the listed chromosomes is covered by more than ``need`` bases of ``iv``
    (then no bin can take the >50 % label from them, e.g. 1-bp events kept 1 bp wide); nothing to check when
    ``iv`` has no interval there."""
    on = iv.df[iv.df.chrom.isin(chroms)]
    if on.empty:
        return
    best = max(max_window_coverage(g.start.to_numpy(), g.end.to_numpy(), bin_size) for _, g in on.groupby("chrom"))
    if best > need:
        return
    widest = int((on.end - on.start).max())
    raise InputError(where, f"no {bin_size}-bp window is covered by more than {need:g} bp of the {len(on)} merged "
                     f"{what} (widest {widest} bp after widening to {width_key}: {min_width}), so {consequence}",
                     f"set {width_key} to at least {bin_size} (narrow peaks are widened around their summit or "
                     f"centre; 1-bp events -> event +-{bin_size // 2} bp), or lower dataset.positive_overlap")


def _check_target_usable(target: Intervals, blacklist: Intervals, chroms: list[str], target_path, bl_path,
                         n_raw: int, label: str = "target") -> None:
    """Stop here, with the cause, when no peak of a task (``label``: 'target' or "task 'X'") could make a positive
    bin (instead of every fold's 'positive examples exist: observed 0' data checks after all dataset stages)."""
    on = target.df.chrom.isin(chroms).to_numpy()
    if not on.any():
        shown = ", ".join(sorted(set(target.df.chrom))[:8])
        raise InputError(target_path, f"none of the {len(target)} {label} peak(s) lies on a chromosome of "
                         f"dataset.chromosomes (the peaks are on {shown}): there would be no positive example",
                         "list the chromosomes the peaks are on in dataset.chromosomes, or give the "
                         f"{label} peak file of this genome")
    if len(blacklist):
        hit = overlaps(target, blacklist)[on]
        if hit.all():
            raise InputError(bl_path, f"the blacklist overlaps every one of the {int(on.sum())} {label} peak(s) on "
                             f"the listed chromosomes ({n_raw} in {target_path}, after widening and merging): bins "
                             "overlapping the blacklist are left out, so no bin could be positive",
                             "check that peaks.blacklist is a blacklist (regions to exclude, e.g. the ENCODE "
                             "blacklist), not a peak file; or set peaks.blacklist: null for none")
        if hit.mean() > 0.5:
            log.warning("%s: the blacklist overlaps %d of %d %s peaks on the listed chromosomes; bins "
                        "overlapping it are left out", bl_path, int(hit.sum()), len(hit), label)
