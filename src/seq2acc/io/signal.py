"""Reading signal tracks (bigWig with pyBigWig, bedGraph as text) with every problem an :class:`InputError` that
names the file, the position or line, and the fix.

- :func:`open_bigwig`: a bigWig handle; a missing, empty, bigBed or other file stops with what it is.
- :func:`check_track_chroms`: the track's chromosome names (and sizes, where the format has them) against the
  FASTA for the chromosomes that will be read; names of another convention (``chrI`` vs ``chr1`` vs ``I``) get the
  rename (:func:`seq2acc.io.chromnames.suggest_rename`).
- :func:`bigwig_bin_sums`: per bin, the sum of the signal over its bases and how many of them the track covers,
  read chunk by chunk with ``intervals()`` (exact stored values; bounded memory on long chromosomes). Every
  stored value is checked: finite and, unless allowed, >= 0.
- :func:`read_bedgraph`: a bedGraph's intervals per chromosome, checked line by line (4 columns, integer
  coordinates inside the chromosome, a finite value, >= 0 unless allowed, no overlaps); :func:`write_bigwig_intervals`
  writes them as a bigWig (the form :func:`bigwig_bin_sums` reads).

Why ``intervals()`` and not pyBigWig's ``values()``/``stats()``: those return NaN both for "no data" and for a
stored NaN, and pyBigWig 0.3.29 crashes (segmentation fault) in ``header()``/``stats()`` on a file holding a NaN; the
intervals are the stored entries themselves. Coordinates are 0-based half-open, as BED.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from seq2acc.errors import InputError
from seq2acc.io.atomic import atomic_path
from seq2acc.io.chromnames import naming_convention, suggest_rename
from seq2acc.io.inputs import read_lines

log = logging.getLogger(__name__)

BIGWIG_MAGIC = (0x888FFC26).to_bytes(4, "little")
BIGBED_MAGIC = (0x8789F2EB).to_bytes(4, "little")
BIGWIG_SUFFIXES = (".bw", ".bigwig")
CHUNK = 1 << 22  # bases per intervals() query (4 Mb)
_SKIP_PREFIXES = ("#", "track", "browser")


def is_bigwig_name(path) -> bool:
    """Whether a signal file is a bigWig by its name (``.bw``, ``.bigWig``); otherwise it is read as bedGraph."""
    return str(path).lower().endswith(BIGWIG_SUFFIXES)


def open_bigwig(path, what: str = "signal track"):
    """A pyBigWig handle opened for reading (close it, or use it in ``with contextlib.closing(...)``)."""
    import pyBigWig

    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"{what} does not exist" if not path.exists() else f"{what} is not a file",
                         "check the path in params.yaml")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if not head:
        raise InputError(path, f"{what} is empty (0 bytes)",
                         "the file is incomplete (interrupted download or copy) or was never written: make it again")
    if head == BIGBED_MAGIC:
        raise InputError(path, f"{what} is a bigBed (intervals), not a bigWig (signal)",
                         "give the bigWig of the signal (e.g. the fold-change or coverage track), or convert the "
                         "intervals to a bedGraph with a value column")
    if head != BIGWIG_MAGIC:
        raise InputError(path, f"{what} is not a bigWig file (its first bytes are not the bigWig signature)",
                         "give a bigWig (.bw), or name a bedGraph text file .bedGraph / .bg (optionally .gz)")
    try:
        bw = pyBigWig.open(str(path))
    except RuntimeError as e:
        bw, err = None, e
    else:
        err = None
    if bw is None or not bw.isBigWig():
        raise InputError(path, f"{what} cannot be read as a bigWig ({err or 'not a bigWig'})",
                         "the file is damaged or truncated: make or download it again")
    return bw


def check_track_chroms(path, track_chroms: dict, sizes: dict, chroms, what: str = "signal track",
                       genome=None, sized: bool = True) -> None:
    """Stop unless every chromosome of ``chroms`` (the ones that will be read) is in the track, with the FASTA's
    size when the track states sizes (``sized``: a bigWig header does, a bedGraph does not). Chromosomes of the track
    that are not read are ignored. Names of another convention get the rename as the fix."""
    fasta = f"the FASTA ({genome})" if genome else "the FASTA"
    missing = [c for c in chroms if c not in track_chroms]
    if missing:
        extra = sorted(set(track_chroms) - set(sizes))
        hint = suggest_rename(extra, missing) if extra else ""
        theirs, ours = naming_convention(track_chroms), naming_convention(sizes)
        shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        if hint or (extra and theirs != ours):
            raise InputError(path, f"{what}: chromosome names differ from {fasta}: it has no {shown} (of "
                             f"dataset.chromosomes); it uses {theirs} names ({', '.join(extra[:4])}), the FASTA {ours}",
                             (f"convert it to a bedGraph (`bigWigToBedGraph FILE out.bedGraph`), there "
                              f"{hint or 'rename the chromosomes to the FASTA names'}, and give that bedGraph as the "
                              "signal (the peaks stage converts a bedGraph itself)") if sized else
                             (hint or "rename the track's chromosomes to the FASTA names"))
        raise InputError(path, f"{what} has no data for {len(missing)} chromosome(s) of dataset.chromosomes: {shown} "
                         f"(it covers {len(track_chroms)}: {', '.join(list(track_chroms)[:6])}"
                         f"{' ...' if len(track_chroms) > 6 else ''})",
                         "give a track of this assembly covering every chromosome of dataset.chromosomes, or remove "
                         "those chromosomes from dataset.chromosomes")
    if sized:
        wrong = [(c, int(track_chroms[c]), int(sizes[c])) for c in chroms if int(track_chroms[c]) != int(sizes[c])]
        if wrong:
            c, theirs, ours = wrong[0]
            raise InputError(path, f"{what}: {len(wrong)} chromosome(s) have another length than in {fasta}, e.g. "
                             f"{c}: {theirs} bp in the track, {ours} bp in the FASTA: another assembly",
                             "give a track made on the same assembly as genome.fasta")


def bigwig_has_data(bw, chrom: str, size: int, chunk: int = CHUNK) -> bool:
    """Whether the bigWig stores any interval on ``chrom`` (stops at the first chunk with one)."""
    for c0 in range(0, size, chunk):
        if bw.intervals(chrom, c0, min(size, c0 + chunk)):
            return True
    return False


def check_values(path, chrom: str, s: np.ndarray, e: np.ndarray, v: np.ndarray, what: str,
                 allow_negative: bool = False, alternative: str = "", line_of=None) -> None:
    """Stop at the first non-finite (or, unless ``allow_negative``, negative) value, or at overlapping intervals
    (``s``, ``e`` sorted by start). ``line_of(i)`` gives (line number, text) of interval ``i`` of a text file."""
    alt = f"; or {alternative}" if alternative else ""
    bad = ~np.isfinite(v) if allow_negative else ~(np.isfinite(v) & (v >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        x = float(v[i])
        kind = "NaN" if math.isnan(x) else ("infinite" if math.isinf(x) else "negative")
        if kind == "negative":
            fix = ("the labels are the mean (or log1p of the mean) of a non-negative signal (coverage, counts, fold "
                   "enrichment): give such a track, not a log ratio, or clip it at 0" + alt)
        else:
            fix = ("leave bases without a measurement out of the track (no entry) instead of writing NaN/inf "
                   "(dataset.signal_uncovered says how uncovered bases count)" + alt)
        problem = (f"{what} has a {kind} value ({x:g}) at {chrom}:{int(s[i])}-{int(e[i])} (the first of "
                   f"{int(bad.sum())} such interval(s) in {chrom}:{int(s[0])}-{int(e[-1])}; values must be finite"
                   f"{'' if allow_negative else ' and >= 0'})")
        ln, text = line_of(i) if line_of is not None else (None, None)
        raise InputError(path, problem, fix, ln, text)
    over = np.flatnonzero(s[1:] < e[:-1])
    if len(over):
        i = int(over[0])
        where = f"{chrom}:{int(s[i])}-{int(e[i])} and {chrom}:{int(s[i + 1])}-{int(e[i + 1])}"
        fix = "merge or drop the overlapping entries (a bedGraph/bigWig gives at most one value per base)"
        if line_of is not None:
            (l1, _), (l2, text) = line_of(i), line_of(i + 1)
            raise InputError(path, f"{what}: the intervals of lines {l1} and {l2} overlap ({where})", fix, l2, text)
        raise InputError(path, f"{what}: intervals {where} overlap", fix)


def bigwig_bin_sums(bw, path, chrom: str, size: int, starts, ends, what: str = "signal track",
                    allow_negative: bool = False, alternative: str = "",
                    chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """For each bin ``[starts[i], ends[i])`` (sorted by start, inside ``[0, size]``): the sum of the track's values over
    its bases (float64) and the number of its bases the track covers (int64). Bases without an entry add nothing.

    Reads ``bw.intervals`` ``chunk`` bases at a time and keeps only the running integral F(x) = sum of the values of
    the bases before x at the bins' edges, so memory is O(bins + one chunk's intervals)."""
    starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
    xs = np.unique(np.concatenate([starts, ends]))
    F = np.zeros(len(xs), np.float64)  # integral of the signal over [0, x)
    C = np.zeros(len(xs), np.int64)  # covered bases in [0, x)
    off_f, off_c, lo = 0.0, 0, int(np.searchsorted(xs, 0, "right"))  # F(0) = C(0) = 0
    for c0 in range(0, size, chunk):
        c1 = min(size, c0 + chunk)
        hi = int(np.searchsorted(xs, c1, "right"))
        x = xs[lo:hi]  # bin edges in (c0, c1]
        iv = bw.intervals(chrom, c0, c1)
        if iv:
            a = np.asarray(iv, dtype=np.float64)
            s, e, v = np.clip(a[:, 0], c0, c1), np.clip(a[:, 1], c0, c1), a[:, 2]
            check_values(path, chrom, a[:, 0], a[:, 1], v, what, allow_negative, alternative)
            w = e - s
            P, Q = np.r_[0.0, np.cumsum(v * w)], np.r_[0, np.cumsum(w)].astype(np.int64)
            k = np.searchsorted(e, x, "right")  # intervals ending at or before x: whole
            kk = np.minimum(k, len(s) - 1)
            part = np.where(k < len(s), np.clip(x - s[kk], 0, None), 0.0)  # the next one: its bases before x
            F[lo:hi] = off_f + P[k] + v[kk] * part
            C[lo:hi] = off_c + Q[k] + part.astype(np.int64)
            off_f, off_c = off_f + P[-1], off_c + int(Q[-1])
        else:
            F[lo:hi], C[lo:hi] = off_f, off_c
        lo = hi
    i0, i1 = np.searchsorted(xs, starts), np.searchsorted(xs, ends)
    return F[i1] - F[i0], C[i1] - C[i0]


def read_bedgraph(path, sizes: dict, chroms, what: str = "signal track", genome=None,
                  allow_negative: bool = False, alternative: str = "") -> dict:
    """The intervals of a bedGraph (plain or gzip) on ``chroms``: ``{chrom: (starts, ends, values)}``, sorted by
    start (int64, int64, float64); lines on other chromosomes are skipped. Checked: 4 columns (chrom, start, end,
    value), integer 0 <= start < end <= the chromosome's size in ``sizes``, a finite value (>= 0 unless
    ``allow_negative``), no overlapping intervals, some line on a chromosome of ``chroms`` (names of another
    convention get the rename). A chromosome of ``chroms`` without any line is logged (a sparse bedGraph leaves out
    zero-signal regions). Skips blank, ``#``, ``track`` and ``browser`` lines."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"{what} does not exist", "check the path in params.yaml")
    want = set(chroms)
    rows: dict[str, list] = {c: [] for c in chroms}
    seen: dict[str, None] = {}
    fasta = f"the FASTA ({genome})" if genome else "the FASTA"
    with read_lines(path, what) as fh:
        for lineno, line in enumerate(fh, start=1):
            s = line.strip()
            if not s or s.startswith(_SKIP_PREFIXES):
                continue
            parts = s.split("\t") if "\t" in s else s.split()
            if len(parts) != 4:
                raise InputError(path, f"{what}: a bedGraph line has 4 columns (chrom, start, end, value), this one "
                                 f"{len(parts)}", "write tab-separated 'chrom<TAB>start<TAB>end<TAB>value' lines "
                                 "(0-based start); a BED of peaks goes to the task's 'peaks'", lineno, line)
            c = parts[0]
            seen.setdefault(c)
            if c not in want:
                continue
            try:
                a, b = int(parts[1]), int(parts[2])
            except ValueError:
                raise InputError(path, f"{what}: coordinates must be integers, got start={parts[1]!r} "
                                 f"end={parts[2]!r}", "write 0-based integer start and end", lineno, line) from None
            try:
                v = float(parts[3])
            except ValueError:
                raise InputError(path, f"{what}: the value (column 4) must be a number, got {parts[3]!r}",
                                 "write one number per line in column 4", lineno, line) from None
            if not 0 <= a < b:
                raise InputError(path, f"{what}: start {a} is not in [0, end {b})", "BED coordinates are 0-based, "
                                 "half-open: 0 <= start < end", lineno, line)
            if b > sizes[c]:
                raise InputError(path, f"{what}: interval end {b} is past the end of {c} (length {sizes[c]} in "
                                 f"{fasta})", "give a track made on the same assembly as genome.fasta", lineno, line)
            rows[c].append((a, b, v, lineno))
    if not seen:
        raise InputError(path, f"{what} has no data lines (an empty bedGraph)",
                         "give a bedGraph with 'chrom<TAB>start<TAB>end<TAB>value' lines"
                         + (f", or {alternative}" if alternative else ""))
    if not any(rows.values()):  # stops: names of another convention (with the rename), or other chromosomes
        check_track_chroms(path, seen, sizes, chroms, what, genome, sized=False)
    empty = [c for c in chroms if not rows[c]]
    if empty:
        log.warning("%s: %s has no line on %s: no signal there (bins count as dataset.signal_uncovered says)", path,
                    what, ", ".join(empty[:8]))
    out = {}
    for c in chroms:
        arr = np.array(rows[c], dtype=np.float64).reshape(-1, 4)
        arr = arr[np.argsort(arr[:, 0], kind="stable")]
        lines = arr[:, 3].astype(np.int64)
        st, en, val = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2]
        check_values(path, c, st, en, val, what, allow_negative, alternative,
                     lambda i, lines=lines: (int(lines[i]), _line_text(path, int(lines[i]), what)))
        out[c] = (st, en, val)
    return out


def _line_text(path, lineno: int, what: str) -> str:
    """The text of line ``lineno`` (for an error message; reads the file again)."""
    with read_lines(path, what) as fh:
        for n, t in enumerate(fh, start=1):
            if n == lineno:
                return t
    return ""


def write_bigwig_intervals(path, per_chrom: dict, sizes: dict) -> Path:
    """bigWig of ``per_chrom[chrom] = (starts, ends, values)`` (sorted, non-overlapping), header in ``sizes`` order
    restricted to the chromosomes given."""
    import pyBigWig

    path = Path(path)
    chroms = [c for c in sizes if c in per_chrom]
    with atomic_path(path, suffix=".bw") as tmp:
        bw = pyBigWig.open(str(tmp), "w")
        try:
            bw.addHeader([(c, int(sizes[c])) for c in chroms], maxZooms=10)
            for c in chroms:
                s, e, v = per_chrom[c]
                if len(s):
                    bw.addEntries([c] * len(s), np.asarray(s).tolist(), ends=np.asarray(e).tolist(),
                                  values=np.asarray(v, np.float64).tolist())
        finally:
            bw.close()
    return path
