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
    the same statistics pooled over every position of the null (shuffled) sequences; BH across each set."""
    obs = np.asarray(contrib).sum(-1)
    nul = np.asarray(null_contrib).reshape((-1,) + np.asarray(null_contrib).shape[-2:]).sum(-1)
    pp = empirical_pvalues(obs, nul, tail)
    wp = empirical_pvalues(window_sums(obs, window), window_sums(nul, window), tail)
    return NullTest(pp, bh(pp), wp, bh(wp), window, tail)


def significant_regions(test: NullTest, alpha: float = 0.05) -> pd.DataFrame:
    """Windows with q < alpha, merged per sequence into regions: seq, start, end, n_windows, min_q, min_p."""
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
