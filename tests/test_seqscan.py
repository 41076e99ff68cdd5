"""The numba sequence scanner (issue 17): the k-mer index + branch and bound reports exactly the windows a direct
scan does, and PWMScanner's numba engine gives the convolution's hits, scores and p-values."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seq2acc.interpret import seqscan
from seq2acc.interpret.motifs import PWMScanner, fetch_jaspar, log_odds
from seq2acc.seq.encoding import onehot_codes


def _direct(seqs, pwms, cuts):
    """(seq, start, row) of every window whose score (N adds 0) is >= its row's cut, by a plain loop."""
    out = set()
    for i, c in enumerate(seqs):
        for r, p in enumerate(pwms):
            w = len(p)
            p5 = np.hstack([p, np.zeros((w, 1))])
            for x in range(len(c) - w + 1):
                if p5[np.arange(w), c[x:x + w]].sum() >= cuts[r]:
                    out.add((i, x, r))
    return out


def _sequences(rng, n, max_len):
    seqs = []
    for _ in range(n):
        c = rng.integers(0, 4, size=int(rng.integers(1, max_len))).astype(np.uint8)
        kind = rng.integers(0, 4)
        if kind == 1:
            c[rng.random(len(c)) < 0.1] = 4  # scattered N
        elif kind == 2:
            a = rng.integers(0, len(c))
            c[a:a + rng.integers(1, 40)] = 4  # an N run
        elif kind == 3 and rng.random() < 0.3:
            c[:] = 4  # all N
        seqs.append(c)
    return seqs


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from([1 / 64, 0.0, -1.0, 1e9]))
def test_index_scan_reports_exactly_the_windows_at_or_above_the_cut(seed, dense):
    """Random sequences with N (scattered, runs, all-N), PWMs of 1-24 columns (integer weights: ties), cuts from
    strict to below 0, k-mer lengths 1-8; every layout (one block, pigeonhole split, streamed) is forced."""
    rng = np.random.default_rng(seed)
    seqs = _sequences(rng, int(rng.integers(1, 6)), 120)
    pwms = [np.round(rng.normal(size=(w, 4)) * 2) if rng.random() < 0.5 else rng.normal(size=(w, 4))
            for w in rng.integers(1, 25, size=int(rng.integers(1, 5)))]
    cuts = []
    for p in pwms:
        top, low = np.maximum(p.max(1), 0).sum(), p.min(1).sum()
        cuts.append(float(top - rng.uniform(0, 0.6) * (top - low)) if rng.random() < 0.9 else float(rng.uniform(-3, 0.5)))
    old = seqscan.DENSE_FRACTION
    seqscan.DENSE_FRACTION = dense  # -1 streams every row, 0 every row with candidates, 1e9 none
    try:
        index = seqscan.KmerIndex.build(seqs, k=int(rng.integers(1, 9)))
        r = seqscan.scan(index, seqscan.ScanPlan.build(pwms, pwms, [np.round(p).astype(int) for p in pwms], cuts))
    finally:
        seqscan.DENSE_FRACTION = old
    got = list(zip(r["seq"].tolist(), r["start"].tolist(), r["row"].tolist()))
    assert len(got) == len(set(got)), "a window reported twice"
    assert set(got) == _direct(seqs, pwms, cuts)
    for s, x, row, score in zip(r["seq"], r["start"], r["row"], r["score"]):
        p = pwms[row]
        want = np.hstack([p, np.zeros((len(p), 1))])[np.arange(len(p)), seqs[s][x:x + len(p)]].sum()
        assert abs(score - want) < 1e-9


def _compare(a: pd.DataFrame, b: pd.DataFrame):
    key = ["seq", "start", "end", "strand", "motif_idx", "motif_id", "motif_name"]
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a[key].reset_index(drop=True), b[key].reset_index(drop=True), check_dtype=False)
    assert np.abs(a.score.to_numpy() - b.score.to_numpy()).max(initial=0) < 1e-9
    assert np.array_equal(a.p_value.to_numpy(), b.p_value.to_numpy())


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["word", "score"]), st.booleans())
def test_numba_engine_gives_the_convolutions_hits(seed, lookup, asymmetric):
    """Same windows, strands, p-values (word and score look-ups, strand-symmetric or not backgrounds) and scores
    (float64 sums) as the convolution, on random sequences with N and PWMs of different widths with ties."""
    rng = np.random.default_rng(seed)
    n, L = int(rng.integers(1, 12)), int(rng.integers(25, 200))
    codes = rng.integers(0, 4, size=(n, L)).astype(np.uint8)
    codes[rng.random((n, L)) < 0.03] = 4
    codes[0, 5:5 + int(rng.integers(0, 20))] = 4
    counts = [rng.integers(0, 30, size=(int(w), 4)).astype(float) for w in rng.integers(3, 23, size=4)]
    counts.append(np.repeat([[20.0, 0, 0, 0], [0, 0, 20, 0]], 4, axis=0))  # repeated columns: many tied words
    bg = [0.35, 0.15, 0.2, 0.3] if asymmetric else None
    sc = PWMScanner([log_odds(c, bg) for c in counts], [f"m{i}" for i in range(len(counts))], background=bg,
                    pvalue_bin=0.01 if lookup == "word" else 0.1, pvalue_lookup=lookup)
    x = onehot_codes(codes)
    pvalue = float(rng.choice([1e-2, 1e-3, 1e-4]))
    ours = sc.hits(x, pvalue, engine="numba")
    conv = sc.hits(x, pvalue, engine="conv")
    assert len(conv) > 0 or pvalue < 1e-2 or n * L < 1000  # (~100 hits expected at p < 0.01 over 1000 bp)
    _compare(ours, conv)
    assert sc.hits(x, pvalue).equals(ours)  # "auto" picks numba for one-hot input


def test_hits_of_long_and_uneven_sequences_in_overlapping_pieces(monkeypatch):
    """Sequences of different lengths, longer ones cut into overlapping pieces (a tiny chunk here): the same hits as
    each sequence scanned alone, every window once."""
    motifs = fetch_jaspar(ids=["MA0363", "MA0265", "MA0290"], release="JASPAR2024")
    sc = PWMScanner.from_motifs(motifs, pvalue_bin=0.1)
    rng = np.random.default_rng(3)
    seqs = [rng.integers(0, 4, size=n).astype(np.uint8) for n in (5, 300, 2000, 80)]
    for s in seqs[1:]:
        for a in rng.integers(0, len(s) - 10, size=4):
            s[a:a + 9] = [2, 3, 3, 0, 1, 1, 1, 2, 2]  # REB1 GTTACCCGG
    whole = [sc.hits_codes([s], 1e-3).assign(seq=i) for i, s in enumerate(seqs)]
    whole = pd.concat(whole, ignore_index=True).sort_values(["seq", "start", "motif_idx", "strand"], kind="stable")
    monkeypatch.setattr(seqscan, "CHUNK_BP", 64)
    pieces = sc.hits_codes(seqs, 1e-3)
    assert len(pieces) > 10 and (pieces.motif_id.str.startswith("MA0363")).sum() >= 12
    _compare(pieces, whole.reset_index(drop=True))
    with pytest.raises(ValueError, match="cannot hold"):
        seqscan.batches(seqs, max_width=100, chunk_bp=64)


def test_dense_scores_max_scores_and_soft_inputs():
    rng = np.random.default_rng(4)
    pwms = [rng.normal(size=(w, 4)) for w in (3, 7, 12)]
    codes = rng.integers(0, 4, size=(5, 60)).astype(np.uint8)
    codes[1, 10:20] = 4
    x = onehot_codes(codes)
    sc = PWMScanner(pwms, ["a", "b", "c"])
    conv = sc.scan(x)  # (n, L - 3 + 1, M, 2) by the convolution
    assert np.allclose(sc.max_scores(x), sc.max_scores(x, engine="conv"), atol=1e-4)
    assert np.allclose(sc.max_scores(x, both_strands=False), sc.max_scores(x, engine="conv", both_strands=False),
                       atol=1e-4)
    for k, w in enumerate((3, 7, 12)):
        got = sc.position_scores(codes[1], k)
        assert got.shape == (60 - w + 1,) and got.dtype == np.float32
        assert np.allclose(got, conv[1, :60 - w + 1, k].max(-1), atol=1e-4)
    soft = x * 0.5
    assert sc.hits(soft, 0.5).equals(sc.hits(soft, 0.5, engine="conv"))  # not one-hot: the convolution scans it
    with pytest.raises(ValueError, match="one-hot"):
        sc.hits(soft, engine="numba")
    with pytest.raises(ValueError, match="shorter"):
        sc.position_scores(codes[0, :5], 2)
