"""Signal labels (issue 16, protocol note 15): the value a regression task predicts for a bin, from the task's
signal track (bigWig) over the bin's bases.

- ``uncovered`` says what a base without an entry in the track counts as: ``zero`` (a coverage track written
  sparsely, e.g. ``bedtools genomecov -bg`` leaves out zero-coverage bases) or ``nan`` (not measured: the mean is over
  the covered bases only, and a bin with no covered base has no label, NaN).
- ``transform``: ``log1p_mean`` = log(1 + mean of the signal over the bin's bases) (default; counts and coverage
  are heavy-tailed), or ``mean``.

The values must be finite and >= 0 (:func:`seq2acc.io.signal.check_values` stops at the first one that is not).
"""

from __future__ import annotations

import contextlib

import numpy as np

from seq2acc.errors import ArgumentError
from seq2acc.io.signal import bigwig_bin_sums, check_track_chroms, open_bigwig

SIGNAL_TRANSFORMS = ("log1p_mean", "mean")
UNCOVERED = ("zero", "nan")


def transform_signal(sums: np.ndarray, covered: np.ndarray, bin_size: int, transform: str,
                     uncovered: str) -> np.ndarray:
    """float32 label per bin from the sum of its signal and its number of covered bases (see module doc)."""
    if transform not in SIGNAL_TRANSFORMS:
        raise ArgumentError("transform", f"{transform!r} is not one of {list(SIGNAL_TRANSFORMS)}",
                            "use log1p_mean (default) or mean")
    if uncovered not in UNCOVERED:
        raise ArgumentError("uncovered", f"{uncovered!r} is not one of {list(UNCOVERED)}", "use zero or nan")
    sums = np.asarray(sums, np.float64)
    if uncovered == "zero":
        mean = sums / float(bin_size)
    else:
        cov = np.asarray(covered, np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(cov > 0, sums / np.maximum(cov, 1), np.nan)
    out = np.log1p(mean) if transform == "log1p_mean" else mean
    return out.astype(np.float32)


def bin_signal(path, chrom: str, chrom_size: int, bin_starts, bin_size: int, transform: str, uncovered: str,
               what: str = "signal track", alternative: str = "") -> np.ndarray:
    """The signal label (float32) of every bin ``[bin_starts[i], bin_starts[i] + bin_size)`` of ``chrom`` from the
    bigWig ``path``; a bad value stops with an InputError naming ``what``, the position and the fix (``alternative``:
    another way out, e.g. "set peaks.tasks[1].signal: null")."""
    starts = np.asarray(bin_starts, np.int64)
    with contextlib.closing(open_bigwig(path, what)) as bw:
        check_track_chroms(path, bw.chroms(), {chrom: chrom_size}, [chrom], what)
        sums, covered = bigwig_bin_sums(bw, path, chrom, chrom_size, starts, starts + bin_size, what,
                                        alternative=alternative)
    return transform_signal(sums, covered, bin_size, transform, uncovered)
