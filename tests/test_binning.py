"""Labelling and sampling, with hand-computed cases (protocol 3.1, notes 5-8)."""

import numpy as np
import pytest

from seq2acc.data.bins import ELSEWHERE, FLANK, POSITIVE, RANDOM, BinSpec, genome_wide_bins, sample_examples
from seq2acc.data.intervals import covered_before, overlap_bases, widen
from seq2acc.errors import ArgumentError
from seq2acc.io.bed import Intervals

import pandas as pd

SPEC = BinSpec(200, 50, 1000, 0.5)
EMPTY = (np.zeros(0, np.int64), np.zeros(0, np.int64))


def iv(*pairs):
    a = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return a[:, 0], a[:, 1]


def test_grid_keeps_context_inside_chromosome():
    # pad = 400: first bin start 400 (context 0..1000); last start <= size-200-400.
    assert SPEC.grid(1300).tolist() == [400, 450, 500, 550, 600, 650, 700]
    assert SPEC.grid(1299).tolist() == [400, 450, 500, 550, 600, 650]
    assert SPEC.grid(999).tolist() == []  # shorter than one context: no bin
    starts = SPEC.context_start(SPEC.grid(1300))
    assert starts.min() >= 0 and (starts + 1000).max() <= 1300


def test_more_than_half_rule_boundary():
    bins = np.array([400, 450])
    # peak [500, 600): bin 400 overlaps exactly 100 bp = 50% -> negative; bin 450 also 100 bp -> negative.
    assert SPEC.labels(bins, *iv((500, 600))).tolist() == [0, 0]
    # one more base: bin 450 ([450, 650)) overlaps 101 bp -> positive; bin 400 still 100 -> negative.
    assert SPEC.labels(bins, *iv((500, 601))).tolist() == [0, 1]


def test_peak_shorter_than_half_a_bin_never_positive_unless_widened():
    bins = SPEC.grid(3000)
    short = iv((1000, 1099))
    assert SPEC.labels(bins, *short).sum() == 0
    df = pd.DataFrame({"chrom": ["c"], "start": [1049], "end": [1050], "summit": [-1]})
    wide = widen(Intervals(df, "x"), 200, {"c": 3000}).df
    assert (wide.start.iloc[0], wide.end.iloc[0]) == (949, 1149)
    lab = SPEC.labels(bins, wide.start.to_numpy(), wide.end.to_numpy())
    # positives: bins overlapping [949,1149) by >100 bp: 850 (101), 900 (151), 950 (199), 1000 (149); 1050 -> 99
    assert bins[lab == 1].tolist() == [850, 900, 950, 1000]


def test_widen_uses_narrowpeak_summit_and_clips_at_chrom_end():
    df = pd.DataFrame({"chrom": ["c", "c"], "start": [100, 2950], "end": [150, 2960], "summit": [110, -1]})
    w = widen(Intervals(df, "x"), 200, {"c": 3000}).df
    assert w[["start", "end"]].values.tolist() == [[10, 210], [2855, 3000]]


def test_overlap_arithmetic_matches_brute_force():
    rng = np.random.default_rng(0)
    cov = np.zeros(5000, bool)
    st_, en_ = [], []
    pos = 0
    while pos < 4800:
        s = pos + rng.integers(1, 200)
        e = s + rng.integers(1, 150)
        st_.append(s); en_.append(e); cov[s:e] = True; pos = e + 1
    st_, en_ = np.array(st_), np.array(en_)
    x = np.arange(0, 5001, 7)
    assert (covered_before(x, st_, en_) == np.array([cov[:i].sum() for i in x])).all()
    b = np.arange(0, 4800, 50)
    assert (overlap_bases(b, 200, st_, en_) == np.array([cov[i:i + 200].sum() for i in b])).all()


def test_blacklist_and_n_bins_left_out():
    codes = np.zeros(4000, np.uint8)
    codes[3000:3400] = 4  # 400 N
    grid, lab, nfrac = genome_wide_bins(SPEC, 4000, codes, EMPTY, iv((1000, 1001)), max_n_fraction=0.1)
    full = SPEC.grid(4000)
    # blacklist base 1000 lies in bins starting 850..1000
    assert not set(range(850, 1001, 50)) & set(grid.tolist())
    # bins whose 1000-bp context holds > 100 N are gone; N fraction stored for the others
    assert (nfrac <= 0.1).all() and len(grid) < len(full) - 4
    ctx = SPEC.context_start(grid)
    assert all((codes[s:s + 1000] == 4).mean() <= 0.1 for s in ctx)


def _sample(seed=3, ratio=1.0, fractions=None):
    size = 30000
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, size).astype(np.uint8)
    target = iv((5000, 5200), (12000, 12400), (20000, 20200))
    elsewhere = iv((8000, 8400), (15000, 15400), (25000, 25600))
    black = iv((27000, 27100))
    return sample_examples(SPEC, size, codes, target, elsewhere, black, flank_bins=3, neg_ratio=ratio,
                           fractions=fractions or {"flank": 0.4, "elsewhere": 0.3, "random": 0.3}, seed=seed), target


def test_sampling_positives_negatives_and_provenance():
    cb, target = _sample()
    ex_bins = cb.bin_start[cb.ex_index]
    ex_lab = cb.label[cb.ex_index]
    assert (ex_lab[cb.ex_source == POSITIVE] == 1).all()
    assert (ex_lab[cb.ex_source != POSITIVE] == 0).all()
    assert (cb.ex_source == POSITIVE).sum() == cb.label.sum()  # every positive bin is an example
    n_pos = int((cb.ex_source == POSITIVE).sum())
    assert (cb.ex_source != POSITIVE).sum() == n_pos  # ratio 1:1
    # flanks: within 3 grid steps of a positive bin
    pos_bins = ex_bins[cb.ex_source == POSITIVE]
    for b in ex_bins[cb.ex_source == FLANK]:
        assert np.abs(pos_bins - b).min() <= 150
    # elsewhere: >50% inside an elsewhere peak, never overlapping a positive label
    for b in ex_bins[cb.ex_source == ELSEWHERE]:
        assert any(s <= b + 100 < e for s, e in ((8000, 8400), (15000, 15400), (25000, 25600)))
    assert set(np.unique(cb.ex_source)) == {POSITIVE, FLANK, RANDOM, ELSEWHERE}
    assert len(np.unique(cb.ex_index)) == len(cb.ex_index)  # no duplicates


def test_sampling_is_deterministic_per_seed():
    a, _ = _sample(seed=5)
    b, _ = _sample(seed=5)
    c, _ = _sample(seed=6)
    assert (a.ex_index == b.ex_index).all() and (a.ex_source == b.ex_source).all()
    assert not np.array_equal(a.ex_index, c.ex_index)


def test_short_pool_passes_remainder_to_random():
    cb, _ = _sample(ratio=2.0, fractions={"flank": 1.0, "elsewhere": 0.0, "random": 0.0})
    n_pos = int((cb.ex_source == POSITIVE).sum())
    assert (cb.ex_source != POSITIVE).sum() == 2 * n_pos
    assert (cb.ex_source == RANDOM).sum() > 0  # flank pool (6 per run) is too small for 2x


def test_bad_spec_rejected():
    with pytest.raises(ArgumentError, match=r"argument 'context': context 999 must be >= bin_size 200"):
        BinSpec(200, 50, 999, 0.5)
    with pytest.raises(ArgumentError, match=r"argument 'stride': 0 bp must be positive"):
        BinSpec(200, 0, 1000, 0.5)
