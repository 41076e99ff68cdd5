"""PWM scanning as a convolution (protocol note 27): JASPAR, log-odds, conv == naive loop, exact p-values, FIMO."""

import itertools

import numpy as np
import pandas as pd
import pytest

from seq2acc.errors import ArgumentError
from seq2acc.interpret.enrichment import motif_enrichment
from seq2acc.interpret.motifs import Motif, PWMScanner, ScoreDistribution, fetch_jaspar, log_odds
from seq2acc.seq.encoding import onehot, onehot_codes, reverse_complement

REB1_SITE = "GTTACCCGG"  # MA0363 consensus


@pytest.fixture(scope="module")
def fungi():
    return fetch_jaspar(tax_group=["fungi"], release="JASPAR2024")


def test_fetch_jaspar_reb1_and_bad_params(fungi):
    reb1 = fetch_jaspar(ids=["MA0363"], release="JASPAR2024")[0]
    assert reb1.name.upper() == "REB1" and reb1.id.startswith("MA0363.") and reb1.counts.shape[1] == 4
    assert any(m.base_id == "MA0363" for m in fungi) and len(fungi) > 100
    assert [m.id for m in fungi] == sorted(m.id for m in fungi)
    with pytest.raises(ArgumentError, match=r"argument 'release': 'JASPAR1999' is not a JASPAR release"):
        fetch_jaspar(release="JASPAR1999")
    with pytest.raises(ArgumentError, match=r"argument 'tax_group': .*martians"):
        fetch_jaspar(tax_group=["martians"])
    with pytest.raises(ArgumentError, match=r"argument 'ids': 'MA9999' is not in"):
        fetch_jaspar(ids=["MA9999"])


def test_log_odds_formula_and_background():
    counts = np.array([[10, 0, 0, 0], [2, 3, 3, 2]], dtype=float)
    lo = log_odds(counts, pseudocount=0.8)
    assert lo[0, 0] == pytest.approx(np.log2((10 + 0.8) / (10 + 3.2) / 0.25))
    assert lo[0, 1] == pytest.approx(np.log2(0.8 / 13.2 / 0.25))
    bg = np.array([0.3, 0.2, 0.2, 0.3])
    lo2 = log_odds(counts, background=bg, pseudocount=0.8)
    assert np.allclose((2.0 ** lo2 * bg).sum(1), 1.0)  # frequencies sum to 1
    with pytest.raises(ArgumentError, match=r"argument 'background': .*not 4 positive ACGT frequencies"):
        log_odds(counts, background=[0.5, 0.5, 0.5, 0.5])


def _naive_scan(x, pwms):
    n, L, _ = x.shape
    out = np.full((n, L - min(len(p) for p in pwms) + 1, len(pwms), 2), -np.inf)
    for s in range(n):
        for k, p in enumerate(pwms):
            w = len(p)
            rc = p[::-1, ::-1]
            for i in range(L - w + 1):
                out[s, i, k, 0] = (x[s, i:i + w] * p).sum()
                out[s, i, k, 1] = (x[s, i:i + w] * rc).sum()
    return out


def test_conv_scan_equals_naive_loop_both_strands():
    rng = np.random.default_rng(0)
    pwms = [rng.normal(size=(w, 4)) for w in (3, 7, 5)]
    codes = rng.integers(0, 4, size=(4, 40)).astype(np.uint8)
    codes[1, 10:14] = 4  # N rows add nothing
    x = onehot_codes(codes)
    sc = PWMScanner(pwms, ["a", "b", "c"])
    got = sc.scan(x, batch_size=3)
    want = _naive_scan(x, pwms)
    assert got.shape == want.shape == (4, 38, 3, 2)
    assert (np.isinf(got) == np.isinf(want)).all()
    fin = np.isfinite(want)
    assert np.abs(got[fin] - want[fin]).max() < 1e-4
    assert np.allclose(sc.max_scores(x), np.where(fin, want, -np.inf).max(axis=(1, 3)), atol=1e-4)
    # the '-' strand of a sequence is the '+' strand of its reverse complement
    rc = sc.scan(reverse_complement(x))
    for k, w in enumerate((3, 7, 5)):
        n_win = 40 - w + 1
        assert np.allclose(got[:, :n_win, k, 1], rc[:, :n_win, k, 0][:, ::-1], atol=1e-4)


def test_pvalues_match_exact_enumeration():
    rng = np.random.default_rng(1)
    bg = np.array([0.32, 0.18, 0.18, 0.32])
    pwm = log_odds(rng.integers(0, 50, size=(7, 4)).astype(float), background=bg)
    words = np.array(list(itertools.product(range(4), repeat=7)))
    score = pwm[np.arange(7), words].sum(1)
    prob = bg[words].prod(1)
    order = np.argsort(score)
    s_sorted, tail = score[order], np.cumsum(prob[order][::-1])[::-1]
    test = s_sorted[-3000::100]
    exact = tail[np.searchsorted(s_sorted, test - 1e-9)]
    d = ScoreDistribution.build(pwm, bg, bin_size=0.001)
    p = d.pvalue(test)
    assert np.abs(p / exact - 1).max() < 0.03
    # the default look-up: a word's own grid score (what PWMScanner.hits reports)
    top = order[-3000::100]
    z = d.q[np.arange(7), words[top]].sum(1)
    exact_top = tail[np.searchsorted(s_sorted, score[top] - 1e-9)]
    assert np.abs(d.word_pvalue(z) / exact_top - 1).max() < 0.01
    sc = PWMScanner([pwm], ["m"], background=bg)
    x = np.eye(4, dtype=np.float32)[words[top]]  # the words themselves as sequences
    h = sc.hits(x, pvalue=1.0)
    h = h[(h.start == 0) & (h.strand == "+")].set_index("seq").p_value
    assert np.allclose(h.loc[np.arange(len(top))].to_numpy(), d.word_pvalue(z))
    assert np.all(np.diff(d.pvalue(np.sort(test))) <= 0)  # p-value falls with the score
    assert d.pvalue(score.min() - 1) == 1.0
    assert d.threshold(1e-12) == float("inf")  # unreachable


def test_hits_agree_with_memelite_fimo(fungi):
    """Same positions, scores within 1e-4, p-values within 1% (with FIMO's score discretisation)."""
    from memelite import fimo

    motifs = [m for m in fungi if m.base_id == "MA0363"] + fungi[:15]
    rng = np.random.default_rng(2)
    seqs = ["".join(rng.choice(list("ACGT"), 300)) for _ in range(25)]
    seqs = [s[:100] + REB1_SITE + s[109:] if i % 2 == 0 else s for i, s in enumerate(seqs)]
    seqs[3] = seqs[3][:50] + "N" * 20 + seqs[3][70:]
    x = np.stack([onehot(s) for s in seqs])
    sc = PWMScanner.from_motifs(motifs, pvalue_bin=0.1, pvalue_lookup="score")  # FIMO's grid and look-up
    ours = sc.hits(x, pvalue=1e-3)
    # memelite takes probabilities and scores log2(p + eps) - log2(0.25): feed it our log-odds exactly
    pwms = {m.id: (0.25 * 2.0 ** p - 1e-4).T for m, p in zip(motifs, sc.pwms)}
    theirs = pd.concat(fimo(pwms, x.transpose(0, 2, 1), threshold=1e-3), ignore_index=True)
    a = ours.set_index(["seq", "start", "strand", "motif_id"]).sort_index()
    b = theirs.rename(columns={"sequence_name": "seq", "motif_name": "motif_id"}).set_index(
        ["seq", "start", "strand", "motif_id"]).sort_index()
    assert len(a) > 20 and list(a.index) == list(b.index)
    assert np.abs(a.score.to_numpy() - b.score.to_numpy()).max() < 1e-4
    assert np.abs(a.p_value.to_numpy() / b["p-value"].to_numpy() - 1).max() < 0.01
    planted = ours[(ours.start == 100) & (ours.strand == "+") & ours.motif_id.str.startswith("MA0363")]
    assert sorted(planted.seq) == list(range(0, 25, 2))


def test_contribution_scan_requires_a_sequence_match():
    """Note 27: high contribution that looks PWM-like is reported only where the sequence matches too."""
    pwm = log_odds(np.array([[97, 1, 1, 1], [1, 1, 1, 97], [1, 97, 1, 1], [1, 1, 97, 1], [97, 1, 1, 1]], float))
    sc = PWMScanner([pwm], ["ATCGA"], pvalue_bin=0.01)
    rng = np.random.default_rng(4)
    s = list("".join(rng.choice(list("CG"), 60)))
    s[10:15] = "ATCGA"  # real site, high contribution
    s[40:45] = "ATCCA"  # mismatching site, high contribution
    x = onehot("".join(s))[None]
    contrib = np.zeros_like(x)
    contrib[0, 10:15] = x[0, 10:15] * 2.0
    contrib[0, 40:45] = x[0, 40:45] * 8.0  # even larger contributions on a poor match
    null = np.stack([x[0] * rng.normal(0, 0.1, size=(60, 1)) for _ in range(30)])
    hits = sc.contribution_hits(x, contrib, pvalue=1e-2, null_contrib=null, contrib_pvalue=0.01)
    assert hits.start.tolist() == [10] and hits.strand.tolist() == ["+"]
    assert hits.contrib_sum.iloc[0] == pytest.approx(10.0)
    # on contributions alone the poor match outscores the real site: the sequence check removed it
    assert sc.scan(contrib)[0, 40, 0, 0] > sc.scan(contrib)[0, 10, 0, 0]


def test_enrichment_ranks_planted_motif_first(fungi):
    motifs = [m for m in fungi if m.base_id in ("MA0363", "MA0265", "MA0266", "MA0267")]
    rng = np.random.default_rng(5)

    def seqs(n, plant):
        out = []
        for _ in range(n):
            s = "".join(rng.choice(list("ACGT"), 200))
            out.append(s[:90] + REB1_SITE + s[99:] if plant else s)
        return np.stack([onehot(s) for s in out])

    sc = PWMScanner.from_motifs(motifs)
    pos, neg = seqs(40, True), seqs(40, False)
    enr = motif_enrichment(sc.hits(pos, 1e-4), 40, sc.hits(neg, 1e-4), 40, sc.ids, sc.names)
    assert enr.iloc[0].motif_id.startswith("MA0363") and enr.iloc[0].q_value < 1e-6
    assert enr.iloc[0].pos_with_hit == 40 and (enr.q_value.iloc[1:] > 0.01).all()


def test_bad_input():
    with pytest.raises(ValueError):
        PWMScanner([np.zeros((3, 5))], ["x"])
    sc = PWMScanner([np.zeros((6, 4))], ["x"])
    with pytest.raises(ValueError, match="shorter"):
        sc.scan(np.zeros((1, 4, 4), np.float32))
    assert sc.hits(np.zeros((2, 20, 4), np.float32)).empty
    assert isinstance(Motif("MA1.1", "x", np.ones((3, 4))).base_id, str)
