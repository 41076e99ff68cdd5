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

Speed: one compiled kernel (numba, GIL released) draws all ``n`` shuffles of every sequence of a batch: the edge
lists of a sequence are built once, each shuffle is O(L) (the random order of step 2 is a sort by uniform random
keys, done as a bucket sort plus an insertion pass, equal to a stable sort by key). The draws are those of the
straightforward numpy version (per shuffle: the walk's ``integers``, then ``random(L - 1)`` keys, edges ordered
by key), so a seed gives the same shuffles as before (``tests/test_shuffle.py`` keeps that version as its
reference).
"""

from __future__ import annotations

import numpy as np

N_LETTERS = 5  # A C G T + N


def _shuffle_all(codes, n, rng, out):  # pragma: no cover - compiled below when numba is there
    """``n`` shuffles of each row of ``codes`` (m, L) uint8 into ``out`` (m, n, L) uint8, drawing from ``rng``."""
    m, L = codes.shape
    E = max(L - 1, 0)  # edges (dinucleotides) of a sequence
    counts = np.zeros(N_LETTERS, np.int64)
    offsets = np.zeros(N_LETTERS + 1, np.int64)
    ptr = np.zeros(N_LETTERS, np.int64)
    nxt_edge = np.full(N_LETTERS, -1, np.int64)
    in_tree = np.zeros(N_LETTERS, np.bool_)
    by_src = np.empty(E, np.int64)  # edge indices grouped by source letter, in sequence order
    keys = np.empty(E, np.float64)
    bucket = np.zeros(E + 2, np.int64)
    order = np.empty(E, np.int64)  # edge indices, each letter's out-edges in walk order
    succ = np.empty(E, np.uint8)  # ... their target letters
    for i in range(m):
        s = codes[i]
        if L <= 2:  # the only sequence with these dinucleotides (no draws)
            for j in range(n):
                out[i, j] = s
            continue
        counts[:] = 0
        for e in range(E):
            counts[s[e]] += 1
        for v in range(N_LETTERS):
            offsets[v + 1] = offsets[v] + counts[v]
            ptr[v] = offsets[v]
        for e in range(E):
            by_src[ptr[s[e]]] = e
            ptr[s[e]] += 1
        last = s[L - 1]
        for j in range(n):
            # 1. Wilson: random arborescence towards `last`; nxt_edge[v] = v's last out-edge (an edge index)
            in_tree[:] = False
            in_tree[last] = True
            nxt_edge[:] = -1
            for u in range(N_LETTERS):
                if counts[u] == 0:
                    continue
                v = u
                while not in_tree[v]:
                    e = by_src[offsets[v] + rng.integers(0, counts[v])]
                    nxt_edge[v] = e
                    v = s[e + 1]
                v = u
                while not in_tree[v]:
                    in_tree[v] = True
                    v = s[nxt_edge[v] + 1]
            # 2. each letter's out-edges in the order of uniform random keys, its tree edge last (key 2)
            for e in range(E):
                keys[e] = rng.random()
            for v in range(N_LETTERS):
                if v != last and nxt_edge[v] >= 0:
                    keys[nxt_edge[v]] = 2.0
            for v in range(N_LETTERS):
                a, b = offsets[v], offsets[v + 1]
                k = b - a
                ptr[v] = a
                if k == 0:
                    continue
                # order by (key, position): k buckets by key (stable) and bucket k for the tree edge, then an
                # insertion pass, which only moves edges within their bucket (expected O(k) in all)
                bucket[:k + 2] = 0
                for q in range(a, b):
                    kk = keys[by_src[q]]
                    bucket[(k if kk >= 1.0 else int(kk * k)) + 1] += 1
                for q in range(k + 1):
                    bucket[q + 1] += bucket[q]
                for q in range(a, b):
                    e = by_src[q]
                    kk = keys[e]
                    bk = k if kk >= 1.0 else int(kk * k)
                    order[a + bucket[bk]] = e
                    bucket[bk] += 1
                for q in range(a + 1, b):
                    e = order[q]
                    kk = keys[e]
                    r = q - 1
                    while r >= a and keys[order[r]] > kk:
                        order[r + 1] = order[r]
                        r -= 1
                    order[r + 1] = e
                for q in range(a, b):
                    succ[q] = s[order[q] + 1]
            # 3. the walk
            o = out[i, j]
            v = s[0]
            o[0] = v
            for t in range(1, L):
                nxt = succ[ptr[v]]
                ptr[v] += 1
                v = nxt
                o[t] = v
    return out


try:  # numba ships with memelite/modisco; without it the same function runs as Python (same shuffles, slow)
    import numba

    _shuffle_kernel = numba.njit(cache=True, nogil=True)(_shuffle_all)
except ImportError:  # pragma: no cover
    _shuffle_kernel = _shuffle_all


def _as_rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


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
    _shuffle_kernel(np.ascontiguousarray(batch), int(n), rng, out)
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
