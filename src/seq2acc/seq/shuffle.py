"""Exact dinucleotide-preserving shuffle (Altschul & Erickson 1985), the null sequences of protocol note 25.

A sequence is an Eulerian path through the multigraph whose vertices are letters and whose edges are its
dinucleotides. A uniformly random sequence with the same dinucleotide counts (hence the same first and last
letter) is drawn as in uShuffle (Jiang et al. 2008, BMC Bioinformatics 9:192):

1. a random spanning arborescence towards the last letter, by Wilson's loop-erased random walk over the edge
   multiset -- it fixes each other letter's *last* out-edge;
2. a uniform random order of every letter's remaining out-edges, the tree edge last;
3. the walk from the first letter that uses each letter's out-edges in that order.

N (and any non-ACGT position: an all-zero one-hot row or code 4) is a fifth letter, so dinucleotide counts
including N are preserved exactly and N rows stay all-zero rows.
"""

from __future__ import annotations

import numpy as np

try:  # numba ships with memelite/modisco; the pure-Python walk is the fallback
    import numba

    @numba.njit(cache=True)
    def _walk(first, succ, offsets, length):  # pragma: no cover - compiled
        out = np.empty(length, dtype=np.uint8)
        ptr = offsets[:-1].copy()
        out[0] = first
        v = first
        for i in range(1, length):
            nxt = succ[ptr[v]]
            ptr[v] += 1
            out[i] = nxt
            v = nxt
        return out
except ImportError:  # pragma: no cover
    def _walk(first, succ, offsets, length):
        out = np.empty(length, dtype=np.uint8)
        ptr = offsets[:-1].copy()
        out[0] = v = first
        for i in range(1, length):
            out[i] = v = succ[ptr[v]]
            ptr[v] += 1
        return out

N_LETTERS = 5  # A C G T + N


def _as_rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _shuffle_codes(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random dinucleotide shuffle of a 1-D uint8 code array (letters 0..4)."""
    L = len(s)
    if L <= 2:
        return s.copy()
    src, dst = s[:-1].astype(np.int64), s[1:].astype(np.int64)
    last = int(s[-1])
    # out-edges per letter as positions into src/dst
    counts = np.bincount(src, minlength=N_LETTERS)
    by_src = np.argsort(src, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(counts)])
    # 1. Wilson: random arborescence towards `last`; tree[v] = index (into src/dst) of v's last out-edge.
    in_tree = np.zeros(N_LETTERS, dtype=bool)
    in_tree[last] = True
    nxt_edge = np.full(N_LETTERS, -1, dtype=np.int64)
    present = np.flatnonzero(counts > 0)
    for u in present:
        v = int(u)
        while not in_tree[v]:
            e = by_src[offsets[v] + rng.integers(counts[v])]
            nxt_edge[v] = e
            v = int(dst[e])
        v = int(u)
        while not in_tree[v]:
            in_tree[v] = True
            v = int(dst[nxt_edge[v]])
    # 2. random order of each letter's out-edges, its tree edge last
    keys = rng.random(L - 1)
    tree_edges = nxt_edge[(nxt_edge >= 0) & (np.arange(N_LETTERS) != last)]
    keys[tree_edges] = 2.0
    order = np.lexsort((keys, src))
    succ = dst[order].astype(np.uint8)
    # 3. the walk
    return _walk(np.uint8(s[0]), succ, offsets.astype(np.int64), L)


def _to_codes(x: np.ndarray) -> tuple[np.ndarray, bool]:
    """(..., L, 4) one-hot or (..., L) codes -> (..., L) uint8 codes, and whether the input was one-hot."""
    x = np.asarray(x)
    if x.ndim >= 2 and x.shape[-1] == 4 and x.dtype.kind in "fb":
        codes = x.argmax(-1).astype(np.uint8)
        codes[x.sum(-1) == 0] = 4
        return codes, True
    if x.dtype.kind not in "iu":
        raise ValueError(f"expected one-hot (..., L, 4) floats or integer codes (..., L), got {x.dtype} {x.shape}")
    if x.size and (x.min() < 0 or x.max() > 4):
        raise ValueError("codes must be 0..4 (A C G T N)")
    return x.astype(np.uint8), False


def dinuc_shuffle(x, rng=None, n: int = 1) -> np.ndarray:
    """``n`` exact dinucleotide-preserving shuffles of each sequence (Altschul & Erickson; uShuffle's algorithm).

    Each shuffle is drawn uniformly among the sequences with the same dinucleotide counts (hence the same first
    and last letter); N is a fifth letter, so N positions are shuffled with their dinucleotides and stay N.
    Sequences of length <= 2 are returned unchanged.

    Parameters
    ----------
    x : array_like
        Either one-hot, shape (L, 4) or (m, L, 4), float or bool dtype, columns A, C, G, T, all-zero row = N;
        or integer codes, shape (L,) or (m, L), values 0..4 (A C G T N). Integer arrays are always read as
        codes, so an integer one-hot (L, 4) is silently taken as L code sequences of length 4: pass one-hot as
        float.
    rng : int, None or numpy.random.Generator, default None
        A seed (deterministic) or a Generator (consumed in place); None draws fresh OS entropy.
    n : int, default 1
        Shuffles per sequence.

    Returns
    -------
    shuffled : ndarray
        The input's kind with a new axis of size ``n`` after the batch axis. One-hot input: shape (n, L, 4) or
        (m, n, L, 4), the input's dtype (N = all-zero row). Codes input: shape (n, L) or (m, n, L), uint8.

    Raises
    ------
    ValueError
        ``n < 1``; codes outside 0..4; a float/bool array whose last axis is not 4, or another dtype;
        more than one batch axis.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    rng = _as_rng(rng)
    x_arr = np.asarray(x)
    codes, was_onehot = _to_codes(x_arr)
    single = codes.ndim == 1
    batch = codes[None] if single else codes
    if batch.ndim != 2:
        raise ValueError(f"expected one sequence or a batch of sequences, got shape {x_arr.shape}")
    out = np.empty((batch.shape[0], n, batch.shape[1]), dtype=np.uint8)
    for i, s in enumerate(batch):
        for j in range(n):
            out[i, j] = _shuffle_codes(s, rng)
    if single:
        out = out[0]
    if was_onehot:
        from seq2acc.seq.encoding import onehot_codes

        return onehot_codes(out, dtype=x_arr.dtype)
    return out


def dinuc_counts(codes: np.ndarray) -> np.ndarray:
    """5x5 matrix of dinucleotide counts of a 1-D code array (letters A C G T N)."""
    codes = np.asarray(codes, dtype=np.int64)
    m = np.zeros((N_LETTERS, N_LETTERS), dtype=np.int64)
    np.add.at(m, (codes[:-1], codes[1:]), 1)
    return m
