"""Interval arithmetic on :class:`seq2acc.io.bed.Intervals`: widening narrow peaks, merging overlaps, and the
per-bin overlap (in bases) that labels bins by the >50 % rule. Coordinates are 0-based half-open."""

from __future__ import annotations

import numpy as np
import pandas as pd

from seq2acc.io.bed import Intervals


def widen(iv: Intervals, min_width: int, sizes: dict[str, int]) -> Intervals:
    """Widen intervals narrower than ``min_width`` symmetrically around their summit (or centre), clipped to the chromosome.

    With min_width=200, a 1-bp ChIP-exo event becomes event ± 100 bp; a 200-bp bin then is positive when
    its centre lies within ±100 bp... exactly: when it overlaps the widened peak by more than 100 bp.
    """
    df = iv.df.copy()
    if min_width <= 0 or df.empty:
        return Intervals(df, iv.source)
    width = df.end - df.start
    narrow = width < min_width
    centre = np.where(df.summit >= 0, df.summit, (df.start + df.end) // 2)
    new_start = centre - min_width // 2
    new_end = new_start + min_width
    size = df.chrom.map(sizes).to_numpy() if sizes else np.full(len(df), np.iinfo(np.int64).max)
    new_start = np.clip(new_start, 0, None)
    new_end = np.minimum(new_end, size)
    df.loc[narrow, "start"] = new_start[narrow]
    df.loc[narrow, "end"] = new_end[narrow]
    df = df.sort_values(["chrom", "start", "end"], kind="stable").reset_index(drop=True)
    return Intervals(df, iv.source)


def merge(iv: Intervals) -> Intervals:
    """Merge duplicate, overlapping and book-ended intervals (pyranges)."""
    import pyranges as pr

    if iv.df.empty:
        return Intervals(iv.df.copy(), iv.source)
    gr = pr.PyRanges(iv.df.rename(columns={"chrom": "Chromosome", "start": "Start", "end": "End"})[["Chromosome", "Start", "End"]])
    m = gr.merge().df
    out = pd.DataFrame({"chrom": m.Chromosome.astype(str), "start": m.Start.astype(np.int64),
                        "end": m.End.astype(np.int64), "summit": np.int64(-1)})
    out = out.sort_values(["chrom", "start"], kind="stable").reset_index(drop=True)
    return Intervals(out, iv.source)


def covered_before(x: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Number of bases of the (sorted, non-overlapping) intervals that lie in [0, x), for each x."""
    x = np.asarray(x, dtype=np.int64)
    if len(starts) == 0:
        return np.zeros_like(x)
    lengths = ends - starts
    cum = np.concatenate([[0], np.cumsum(lengths)])  # cum[k] = bases in intervals 0..k-1
    k = np.searchsorted(starts, x, side="right") - 1  # last interval starting before x
    kk = np.clip(k, 0, None)
    partial = np.clip(np.minimum(x, ends[kk]) - starts[kk], 0, None)
    return np.where(k >= 0, cum[kk] + partial, 0)


def overlap_bases(bin_starts: np.ndarray, bin_size: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Bases of each bin [s, s+bin_size) covered by the sorted, merged intervals."""
    b = np.asarray(bin_starts, dtype=np.int64)
    return covered_before(b + bin_size, starts, ends) - covered_before(b, starts, ends)


def max_window_coverage(starts: np.ndarray, ends: np.ndarray, width: int) -> int:
    """The most bases of the (sorted, merged) intervals that any window ``[x, x + width)`` covers, over every
    position ``x`` (not only a bin grid): no bin of that width can be covered more than this."""
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    if not len(starts):
        return 0
    # the coverage of [x, x + width) is piecewise linear in x: its maxima lie where the window's left edge is at an
    # interval start or its right edge at an interval end
    x = np.concatenate([starts, ends - width])
    return int((covered_before(x + width, starts, ends) - covered_before(x, starts, ends)).max())


def overlaps(iv: Intervals, other: Intervals) -> np.ndarray:
    """(len(iv),) bool: whether each interval of ``iv`` overlaps ``other`` (sorted and merged, e.g. by :func:`merge`)
    by at least one base."""
    hit = np.zeros(len(iv), dtype=bool)
    for chrom, idx in iv.df.groupby("chrom", sort=False).indices.items():
        os_, oe = other.chrom(chrom)
        if len(os_):
            st, en = iv.df.start.to_numpy()[idx], iv.df.end.to_numpy()[idx]
            hit[idx] = covered_before(en, os_, oe) - covered_before(st, os_, oe) > 0
    return hit
