"""Dinucleotide shuffle (protocol note 25): exact dinucleotide counts, first/last base, uniformity, N rows."""

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from seq2acc.seq.encoding import decode, onehot
from seq2acc.seq.shuffle import dinuc_counts, dinuc_shuffle

codes_st = st.lists(st.integers(0, 4), min_size=0, max_size=300).map(lambda v: np.array(v, dtype=np.uint8))


@given(codes_st, st.integers(0, 2**32 - 1))
@settings(max_examples=150, deadline=None)
def test_same_dinucleotide_counts_first_and_last_base(s, seed):
    out = dinuc_shuffle(s, seed, n=3)
    assert out.shape == (3, len(s)) and out.dtype == np.uint8
    for o in out:
        assert (dinuc_counts(o) == dinuc_counts(s)).all()
        assert (np.bincount(o, minlength=5) == np.bincount(s, minlength=5)).all()
        if len(s):
            assert o[0] == s[0] and o[-1] == s[-1]


@given(st.text(alphabet="ACGTN", min_size=2, max_size=200), st.integers(0, 1000))
@settings(max_examples=60, deadline=None)
def test_onehot_input_keeps_n_rows_all_zero(seq, seed):
    x = onehot(seq)
    out = dinuc_shuffle(x, seed, n=2)
    assert out.shape == (2, len(seq), 4) and out.dtype == x.dtype
    for o in out:
        assert set(o.sum(-1).tolist()) <= {0.0, 1.0}
        s2 = decode(o)
        assert s2[0] == seq[0] and s2[-1] == seq[-1]
        assert Counter(zip(s2, s2[1:])) == Counter(zip(seq, seq[1:]))


def test_usually_a_different_sequence_and_seeded():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, size=(20, 200)).astype(np.uint8)
    a = dinuc_shuffle(x, 7, n=5)
    assert a.shape == (20, 5, 200)
    assert (dinuc_shuffle(x, 7, n=5) == a).all()  # deterministic for a seed
    assert not (dinuc_shuffle(x, 8, n=5) == a).all()
    same = (a == x[:, None]).all(-1)
    assert same.mean() < 0.01
    # shuffles of one sequence differ from each other
    assert len({a[0, j].tobytes() for j in range(5)}) == 5


def _all_with_same_dinucs(seq: str) -> set[str]:
    target = Counter(zip(seq, seq[1:]))
    out = set()
    for perm in set(itertools.permutations(seq[1:])):
        s = seq[0] + "".join(perm)
        if Counter(zip(s, s[1:])) == target:
            out.add(s)
    return out


@pytest.mark.parametrize("seq", ["AACGTACGA", "ACGTTGCAT"])
def test_uniform_over_all_sequences_with_the_same_dinucleotides(seq):
    """Altschul-Erickson is exact: every sequence with the same dinucleotide counts, equally often."""
    support = _all_with_same_dinucs(seq)
    n = 600 * len(support)
    draws = Counter(decode(o) for o in dinuc_shuffle(onehot(seq), 11, n=n))
    assert set(draws) == support
    freq = np.array([draws[s] for s in support]) / n
    assert np.abs(freq * len(support) - 1).max() < 0.2  # ~4.5 sigma for 600 expected draws


def test_short_and_bad_input():
    assert dinuc_shuffle(np.array([2], np.uint8), 0).tolist() == [[2]]
    assert dinuc_shuffle(np.array([], np.uint8), 0).shape == (1, 0)
    with pytest.raises(ValueError):
        dinuc_shuffle(np.array([0, 7, 1], np.int64), 0)
    with pytest.raises(ValueError):
        dinuc_shuffle(onehot("ACGT"), 0, n=0)


def _reference_shuffle(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The straightforward numpy Altschul-Erickson shuffle (the implementation before the compiled kernel), one
    shuffle of one code array: Wilson's walk with ``rng.integers``, ``rng.random(L - 1)`` keys, edges ordered by
    (letter, key) with each tree edge last, then the walk."""
    L = len(s)
    if L <= 2:
        return s.copy()
    src, dst = s[:-1].astype(np.int64), s[1:].astype(np.int64)
    last = int(s[-1])
    counts = np.bincount(src, minlength=5)
    by_src = np.argsort(src, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(counts)])
    in_tree = np.zeros(5, dtype=bool)
    in_tree[last] = True
    nxt_edge = np.full(5, -1, dtype=np.int64)
    for u in np.flatnonzero(counts > 0):
        v = int(u)
        while not in_tree[v]:
            e = by_src[offsets[v] + rng.integers(counts[v])]
            nxt_edge[v], v = e, int(dst[e])
        v = int(u)
        while not in_tree[v]:
            in_tree[v] = True
            v = int(dst[nxt_edge[v]])
    keys = rng.random(L - 1)
    keys[nxt_edge[(nxt_edge >= 0) & (np.arange(5) != last)]] = 2.0
    succ = dst[np.lexsort((keys, src))]
    out, ptr, v = [int(s[0])], offsets[:-1].copy(), int(s[0])
    for _ in range(1, L):
        nxt = int(succ[ptr[v]])
        ptr[v] += 1
        out.append(nxt)
        v = nxt
    return np.array(out, dtype=np.uint8)


@given(st.lists(codes_st, min_size=1, max_size=4), st.integers(1, 4), st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_compiled_kernel_draws_the_reference_shuffles(seqs, n, seed):
    """Same seed, same shuffles as the straightforward version (the speed-up changes no attribution null)."""
    L = len(seqs[0])
    x = np.stack([np.resize(s, L) if len(s) else np.zeros(L, np.uint8) for s in seqs]).astype(np.uint8)
    rng = np.random.default_rng(seed)
    expect = np.stack([np.stack([_reference_shuffle(s, rng) for _ in range(n)]) for s in x])
    assert (dinuc_shuffle(x, seed, n=n) == expect).all()
    gen = np.random.default_rng(seed)
    dinuc_shuffle(x, gen, n=n)  # a Generator is consumed in place, as by the reference
    assert gen.random() == rng.random()
