"""DVC stage ``peaks``: read and check the target / "elsewhere" / blacklist files, widen narrow peaks, merge overlaps
-> ``data/peaks/{target,elsewhere,blacklist}.bed`` and ``summary.json`` (all four appear together or not at all).

It runs before every dataset stage, so it also checks ``dataset.chromosomes`` and ``folds.n_folds`` against the
genome, and that some target peak can make a positive bin (on a listed chromosome, not all under the blacklist).
"""

from __future__ import annotations

import glob
import logging
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from seq2acc.config import Params, layout, params_keys, tracked_input
from seq2acc.data.folds import check_fold_plan
from seq2acc.data.intervals import merge, overlaps, widen
from seq2acc.errors import InputError, ParamsError
from seq2acc.io.atomic import atomic_paths, write_json
from seq2acc.io.bed import Intervals, read_intervals, write_bed
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
    out = lay.peaks
    min_width = p.get("peaks.min_width", int, ge=0)
    drop = p.get("peaks.drop_unknown_chroms", bool)
    target_path = tracked_input(p, "peaks.target", p.get("peaks.target", str))
    target = read_intervals(target_path, sizes, drop_unknown_chroms=drop, what="target peak file", genome=lay.genome)
    n_raw = len(target)
    target = merge(widen(target, min_width, sizes))
    exclude = {target_path.resolve()}
    frames = []
    else_files = [tracked_input(p, "peaks.elsewhere", f)
                  for f in _expand(p.get("peaks.elsewhere", allow_none=True), exclude, p.path)]
    for f in tqdm(else_files, desc="elsewhere peak files", disable=None):
        iv = read_intervals(f, sizes, allow_empty=True, drop_unknown_chroms=drop, what="'elsewhere' peak file",
                            genome=lay.genome)
        if not len(iv):
            log.warning("%s: 'elsewhere' peak file is empty", f)
        frames.append(widen(iv, min_width, sizes).df)
    elsewhere = merge(Intervals(pd.concat(frames, ignore_index=True), "elsewhere")) if frames else Intervals(
        target.df.iloc[:0].copy(), "elsewhere")
    # Blacklist regions on sequences the FASTA lacks (chrM, 2-micron, ...) cannot affect any bin: dropped with a warning.
    bl_path = p.get("peaks.blacklist", str, allow_none=True)
    bl_path = bl_path and tracked_input(p, "peaks.blacklist", bl_path)
    blacklist = (merge(read_intervals(bl_path, sizes, allow_empty=True, drop_unknown_chroms=True, what="blacklist",
                                      genome=lay.genome))
                 if bl_path else Intervals(target.df.iloc[:0].copy(), "blacklist"))
    _check_target_usable(target, blacklist, chroms, target_path, bl_path, n_raw)
    summary = {"target_file": str(target_path), "target_raw": n_raw, "target_merged": len(target),
               "target_bp": int((target.df.end - target.df.start).sum()), "elsewhere_files": [str(f) for f in else_files],
               "elsewhere_merged": len(elsewhere), "blacklist_regions": len(blacklist), "min_width": min_width}
    names = ("target.bed", "elsewhere.bed", "blacklist.bed", "summary.json")
    with atomic_paths(*(out / n for n in names)) as (t_target, t_else, t_black, t_summary):
        write_bed(target, t_target)
        write_bed(elsewhere, t_else)
        write_bed(blacklist, t_black)
        write_json(t_summary, summary)
    log.info("peaks: %s", summary)


def _check_target_usable(target: Intervals, blacklist: Intervals, chroms: list[str], target_path, bl_path,
                         n_raw: int) -> None:
    """Stop here, with the cause, when no target peak could make a positive bin (instead of every fold's
    'positive examples exist: observed 0' data checks after all dataset stages)."""
    on = target.df.chrom.isin(chroms).to_numpy()
    if not on.any():
        shown = ", ".join(sorted(set(target.df.chrom))[:8])
        raise InputError(target_path, f"none of the {len(target)} target peak(s) lies on a chromosome of "
                         f"dataset.chromosomes (the peaks are on {shown}): there would be no positive example",
                         "list the chromosomes the peaks are on in dataset.chromosomes, or give the target peak file "
                         "of this genome")
    if len(blacklist):
        hit = overlaps(target, blacklist)[on]
        if hit.all():
            raise InputError(bl_path, f"the blacklist overlaps every one of the {int(on.sum())} target peak(s) on "
                             f"the listed chromosomes ({n_raw} in {target_path}, after widening and merging): bins "
                             "overlapping the blacklist are left out, so no bin could be positive",
                             "check that peaks.blacklist is a blacklist (regions to exclude, e.g. the ENCODE "
                             "blacklist), not a peak file; or set peaks.blacklist: null for none")
        if hit.mean() > 0.5:
            log.warning("%s: the blacklist overlaps %d of %d target peaks on the listed chromosomes; bins "
                        "overlapping it are left out", bl_path, int(hit.sum()), len(hit))
