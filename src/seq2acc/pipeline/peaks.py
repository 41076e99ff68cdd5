"""DVC stage ``peaks``: read and check the target / "elsewhere" / blacklist files, widen narrow peaks, merge overlaps
-> ``data/peaks/{target,elsewhere,blacklist}.bed`` and ``summary.json``."""

from __future__ import annotations

import glob
import logging
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from seq2acc.config import Params, layout, tracked_input
from seq2acc.data.intervals import merge, widen
from seq2acc.errors import ParamsError
from seq2acc.io.atomic import write_json
from seq2acc.io.bed import Intervals, read_intervals, write_bed
from seq2acc.io.fasta import read_chrom_sizes

log = logging.getLogger(__name__)


def _expand(patterns, exclude: set[str]) -> list[Path]:
    if isinstance(patterns, str):
        patterns = [patterns]
    files: list[Path] = []
    for pat in patterns or []:
        hits = sorted(glob.glob(pat)) if any(ch in pat for ch in "*?[") else [pat]
        if not hits:
            raise ParamsError("peaks.elsewhere", f"pattern {pat!r} matches no file", "fix the path or glob")
        files += [Path(h) for h in hits if Path(h).resolve() not in exclude]
    return files


def prepare_peaks(p: Params) -> None:
    """Stage body of ``peaks``."""
    lay = layout(p)
    sizes = read_chrom_sizes(lay.chrom_sizes)
    out = lay.peaks
    min_width = p.get("peaks.min_width", int, ge=0)
    drop = p.get("peaks.drop_unknown_chroms", bool)
    target_path = tracked_input(p, "peaks.target", p.get("peaks.target", str))
    target = read_intervals(target_path, sizes, drop_unknown_chroms=drop, what="target peak file")
    n_raw = len(target)
    target = merge(widen(target, min_width, sizes))
    exclude = {target_path.resolve()}
    frames = []
    else_files = [tracked_input(p, "peaks.elsewhere", f)
                  for f in _expand(p.get("peaks.elsewhere", allow_none=True), exclude)]
    for f in tqdm(else_files, desc="elsewhere peak files", disable=None):
        iv = read_intervals(f, sizes, allow_empty=True, drop_unknown_chroms=drop, what="'elsewhere' peak file")
        if not len(iv):
            log.warning("%s: 'elsewhere' peak file is empty", f)
        frames.append(widen(iv, min_width, sizes).df)
    elsewhere = merge(Intervals(pd.concat(frames, ignore_index=True), "elsewhere")) if frames else Intervals(
        target.df.iloc[:0].copy(), "elsewhere")
    # Blacklist regions on sequences the FASTA lacks (chrM, 2-micron, ...) cannot affect any bin: dropped with a warning.
    bl_path = p.get("peaks.blacklist", str, allow_none=True)
    bl_path = bl_path and tracked_input(p, "peaks.blacklist", bl_path)
    blacklist = (merge(read_intervals(bl_path, sizes, allow_empty=True, drop_unknown_chroms=True, what="blacklist"))
                 if bl_path else Intervals(target.df.iloc[:0].copy(), "blacklist"))
    write_bed(target, out / "target.bed")
    write_bed(elsewhere, out / "elsewhere.bed")
    write_bed(blacklist, out / "blacklist.bed")
    summary = {"target_file": str(target_path), "target_raw": n_raw, "target_merged": len(target),
               "target_bp": int((target.df.end - target.df.start).sum()), "elsewhere_files": [str(f) for f in else_files],
               "elsewhere_merged": len(elsewhere), "blacklist_regions": len(blacklist), "min_width": min_width}
    write_json(out / "summary.json", summary)
    log.info("peaks: %s", summary)
