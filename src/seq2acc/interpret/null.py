"""Statistics of contribution scores against their dinucleotide-shuffled null (protocol notes 23-25).

Per-position and per-window empirical p-values (pooled null), Benjamini-Hochberg q-values and the merging of
significant windows into regions. Arrays: contributions (n, L, 4), nulls (n, S, L, 4) or any (..., L, 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TAILS = ("abs", "greater", "less")


def _stat(values: np.ndarray, tail: str) -> np.ndarray:
    if tail == "abs":
        return np.abs(values)
    if tail == "greater":
        return values
    if tail == "less":
        return -values
    raise ValueError(f"tail={tail!r}: use one of {TAILS}")


def window_sums(per_position: np.ndarray, window: int) -> np.ndarray:
    """(n, L) -> (n, L - window + 1) sums over sliding windows."""
    if window < 1 or window > per_position.shape[-1]:
        raise ValueError(f"window={window} is outside 1..{per_position.shape[-1]} (the sequence length)")
    cs = np.cumsum(np.concatenate([np.zeros(per_position.shape[:-1] + (1,)), per_position.astype(np.float64)], -1), -1)
    return cs[..., window:] - cs[..., :-window]


def empirical_pvalues(observed: np.ndarray, null: np.ndarray, tail: str = "abs") -> np.ndarray:
    """p = (1 + #null >= obs) / (1 + #null) for each observed value, against the pooled null values."""
    ref = np.sort(_stat(np.asarray(null, dtype=np.float64).ravel(), tail))
    obs = _stat(np.asarray(observed, dtype=np.float64), tail)
    n_ge = len(ref) - np.searchsorted(ref, obs, side="left")
    return (1.0 + n_ge) / (1.0 + len(ref))


def bh(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of an array of any shape."""
    from scipy.stats import false_discovery_control

    p = np.asarray(pvalues, dtype=np.float64)
    if p.size == 0:
        return p.copy()
    return false_discovery_control(p.ravel(), method="bh").reshape(p.shape)


@dataclass
class NullTest:
    """Per-position and per-window empirical p-values (and BH q-values over all tests of the set)."""

    position_p: np.ndarray  # (n, L)
    position_q: np.ndarray
    window_p: np.ndarray  # (n, L - window + 1), window i covers positions [i, i + window)
    window_q: np.ndarray
    window: int
    tail: str


def null_test(contrib: np.ndarray, null_contrib: np.ndarray, window: int = 10, tail: str = "abs") -> NullTest:
    """Empirical p-values of per-position contributions (summed over bases) and of their window sums, against
    the same statistics pooled over every position of the null (shuffled) sequences; BH across each set.

    ``p = (1 + #{null stat >= observed stat}) / (1 + #null)``, so the smallest attainable p is ``1 / (1 + #null)``.
    Benjamini-Hochberg q-values are computed across all positions of all sequences, and separately across all
    windows.

    Parameters
    ----------
    contrib : array_like, shape (n, L, 4)
        Observed actual-base contributions (``contrib`` of :func:`seq2acc.contributions`).
    null_contrib : array_like, shape (..., L, 4)
        Contributions of the null sequences, e.g. (n, S, L, 4) from :func:`seq2acc.null_contributions`; every
        position of every null sequence is pooled into one null (per statistic). Same ``L`` as ``contrib``.
    window : int, default 10
        Window length in bp for the window sums, 1 <= window <= L.
    tail : {"abs", "greater", "less"}, default "abs"
        Statistic: ``|sum|`` (two-sided), ``sum`` (large positive contributions) or ``-sum``.

    Returns
    -------
    NullTest
        Dataclass with ``position_p``, ``position_q`` (shape (n, L), float64), ``window_p``, ``window_q``
        (shape (n, L - window + 1), float64; window ``i`` covers positions ``[i, i + window)``, 0-based in the
        sequence), and the ``window`` and ``tail`` used.

    Raises
    ------
    ValueError
        ``tail`` not one of the three, or ``window`` outside 1..L.
    """
    obs = np.asarray(contrib).sum(-1)
    nul = np.asarray(null_contrib).reshape((-1,) + np.asarray(null_contrib).shape[-2:]).sum(-1)
    pp = empirical_pvalues(obs, nul, tail)
    wp = empirical_pvalues(window_sums(obs, window), window_sums(nul, window), tail)
    return NullTest(pp, bh(pp), wp, bh(wp), window, tail)


def significant_regions(test: NullTest, alpha: float = 0.05) -> pd.DataFrame:
    """Windows with q < alpha, merged per sequence into regions: seq, start, end, n_windows, min_q, min_p.

    Significant windows of one sequence that overlap or touch (window starts at most ``test.window`` apart) are
    merged into one region.

    Parameters
    ----------
    test : NullTest
        The result of :func:`null_test` (2-D ``window_q``: contributions were (n, L, 4)).
    alpha : float, default 0.05
        BH q-value threshold on windows (strict: ``q < alpha``).

    Returns
    -------
    regions : pandas.DataFrame
        One row per region, ordered by sequence then start, with columns seq (int, row index into the
        contributions), start, end (int, 0-based half-open positions within that sequence: first window's start
        to last window's end), n_windows (significant windows merged), min_q, min_p (float, the smallest window
        q and p). Empty (same columns) when nothing is significant. For genome coordinates add the window's
        genomic start (:func:`significant_bed`).
    """
    rows = []
    sig = test.window_q < alpha
    for s in np.flatnonzero(sig.any(1)):
        idx = np.flatnonzero(sig[s])
        breaks = np.flatnonzero(np.diff(idx) > test.window) + 1  # windows that overlap/touch are merged
        for grp in np.split(idx, breaks):
            rows.append((int(s), int(grp[0]), int(grp[-1] + test.window), len(grp),
                         float(test.window_q[s, grp].min()), float(test.window_p[s, grp].min())))
    return pd.DataFrame(rows, columns=["seq", "start", "end", "n_windows", "min_q", "min_p"])


def significant_bed(regions: pd.DataFrame, sig: pd.DataFrame) -> pd.DataFrame:
    """Significant regions in genome coordinates (BED6+: chrom, start, end, name, score=-log10 q, strand, ...)."""
    if sig.empty:
        return pd.DataFrame(columns=["chrom", "start", "end", "name", "score", "strand", "min_q", "min_p", "seq"])
    r = regions.iloc[sig.seq.to_numpy()]
    out = pd.DataFrame({"chrom": r.chrom.to_numpy(), "start": r.start.to_numpy() + sig.start.to_numpy(),
                        "end": r.start.to_numpy() + sig.end.to_numpy(),
                        "name": [f"seq{s}" for s in sig.seq], "score": -np.log10(np.maximum(sig.min_q, 1e-300)),
                        "strand": ".", "min_q": sig.min_q.to_numpy(), "min_p": sig.min_p.to_numpy(),
                        "seq": sig.seq.to_numpy()})
    return out.sort_values(["chrom", "start"], kind="stable").reset_index(drop=True)
