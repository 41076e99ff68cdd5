"""Browser tracks of per-bin values (genome-wide predictions): bedGraph (text) and bigWig (pyBigWig).

Bins overlap (200 bp bins every 50 bp), but bedGraph/bigWig intervals must not. Each bin's value is therefore
drawn on its central ``stride`` bp: ``[centre - stride/2, centre + stride/2)`` with ``centre = bin_start +
bin_size/2``. Consecutive grid bins tile the chromosome without gaps or overlaps; left-out bins (blacklist, N,
chromosome ends) are gaps. Coordinates are 0-based half-open, as BED.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seq2acc.io.atomic import atomic_path


def sigmoid(z) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def bin_segments(bin_start, bin_size: int, stride: int, chrom_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping segment [start, end) drawn for each bin (see module doc), clipped to the chromosome."""
    b = np.asarray(bin_start, dtype=np.int64)
    centre2 = 2 * b + bin_size  # twice the centre, to stay in integers for odd sizes
    start = (centre2 - stride) // 2
    end = start + stride
    return np.clip(start, 0, chrom_size), np.clip(end, 0, chrom_size)


def _sorted_nonempty(bin_start, values, bin_size, stride, chrom_size):
    order = np.argsort(np.asarray(bin_start), kind="stable")
    s, e = bin_segments(np.asarray(bin_start)[order], bin_size, stride, chrom_size)
    v = np.asarray(values, dtype=np.float64)[order]
    keep = e > s
    return s[keep], e[keep], v[keep]


def write_bedgraph(path, chrom: str, bin_start, values, bin_size: int, stride: int, chrom_size: int,
                   name: str | None = None, digits: int = 5, view_limits: tuple | None = None) -> Path:
    """One chromosome's values as bedGraph (with a ``track`` line so genome browsers name it; ``view_limits``
    fixes the y range, e.g. (0, 1) for probabilities)."""
    s, e, v = _sorted_nonempty(bin_start, values, bin_size, stride, chrom_size)
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        lim = f" autoScale=off viewLimits={view_limits[0]}:{view_limits[1]}" if view_limits else ""
        fh.write(f'track type=bedGraph name="{name or chrom}" visibility=full{lim}\n')
        for a, b, x in zip(s.tolist(), e.tolist(), np.round(v, digits).tolist()):
            fh.write(f"{chrom}\t{a}\t{b}\t{x:g}\n")
    return path


def write_bigwig(path, per_chrom: dict, bin_size: int, stride: int, chrom_sizes: dict) -> Path:
    """bigWig of several chromosomes: ``per_chrom[chrom] = (bin_starts, values)``. The header lists the
    chromosomes in ``chrom_sizes`` order (the FASTA's), restricted to those with values."""
    import pyBigWig

    path = Path(path)
    chroms = [c for c in chrom_sizes if c in per_chrom]
    unknown = set(per_chrom) - set(chrom_sizes)
    if unknown:
        raise ValueError(f"no size for chromosome(s) {sorted(unknown)}")
    with atomic_path(path, suffix=".bw") as tmp:
        bw = pyBigWig.open(str(tmp), "w")
        try:
            bw.addHeader([(c, int(chrom_sizes[c])) for c in chroms], maxZooms=10)
            for c in chroms:
                s, e, v = _sorted_nonempty(*per_chrom[c], bin_size, stride, int(chrom_sizes[c]))
                if len(s):
                    bw.addEntries([c] * len(s), s.tolist(), ends=e.tolist(), values=v.tolist())
        finally:
            bw.close()
    return path


def write_bigwig_bases(path, per_chrom: dict, chrom_sizes: dict) -> Path:
    """bigWig of per-base values: ``per_chrom[chrom] = (positions, values)`` (0-based base positions, any order, no
    repeats); each value is drawn on its base ``[pos, pos + 1)``, runs of consecutive bases as fixed-step blocks;
    non-finite values and bases not given are gaps. Header as :func:`write_bigwig`."""
    import pyBigWig

    path = Path(path)
    unknown = set(per_chrom) - set(chrom_sizes)
    if unknown:
        raise ValueError(f"no size for chromosome(s) {sorted(unknown)}")
    chroms = [c for c in chrom_sizes if c in per_chrom]
    with atomic_path(path, suffix=".bw") as tmp:
        bw = pyBigWig.open(str(tmp), "w")
        try:
            bw.addHeader([(c, int(chrom_sizes[c])) for c in chroms], maxZooms=10)
            for c in chroms:
                pos, val = (np.asarray(a) for a in per_chrom[c])
                order = np.argsort(pos, kind="stable")
                pos, val = pos[order].astype(np.int64), val[order].astype(np.float64)
                keep = np.isfinite(val) & (pos >= 0) & (pos < int(chrom_sizes[c]))
                pos, val = pos[keep], val[keep]
                if np.any(np.diff(pos) == 0):
                    raise ValueError(f"{c}: a base position is given twice")
                for run in np.split(np.arange(len(pos)), np.flatnonzero(np.diff(pos) != 1) + 1):
                    if len(run):
                        bw.addEntries(c, int(pos[run[0]]), values=val[run].tolist(), span=1, step=1)
        finally:
            bw.close()
    return path
