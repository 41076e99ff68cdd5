"""Genome-wide evaluation: metrics, the bin set, fold isolation, shared-trunk scoring, baselines, tracks, summary."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import random_seqs, write_fasta
from seq2acc.data.bins import BinSpec, sample_examples
from seq2acc.data.store import read_genomewide, write_chrom_dataset
from seq2acc.errors import ArgumentError, ParamsError, Seq2AccError
from seq2acc.evaluate.metrics import (auprc_by_negative_type, bce_with_logits, binary_metrics, interpolated_precision,
                                pr_curve, roc_curve)
from seq2acc.data.folds import make_folds
from seq2acc.io.fasta import Genome
from seq2acc.seq.encoding import encode
from seq2acc.config import Params

TINY = {"conv_filters": [8, 8], "conv_widths": [9, 5], "pool_sizes": [5, 10], "dense_units": [8]}


# ----------------------------------------------------------------------------- metrics
def test_metrics_match_scikit_learn_and_keras_on_a_toy_prediction():
    import keras
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.1).astype(int)
    z = rng.normal(size=500) + 2.0 * y
    m = binary_metrics(y, z)
    assert m["auprc"] == pytest.approx(average_precision_score(y, z), abs=1e-12)
    assert m["auroc"] == pytest.approx(roc_auc_score(y, z), abs=1e-12)
    assert m["loss"] == pytest.approx(log_loss(y, 1 / (1 + np.exp(-z))), rel=1e-9)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)(y[:, None].astype("float32"), z[:, None].astype("float32"))
    assert m["loss"] == pytest.approx(float(bce), rel=1e-5)
    assert m["positive_rate"] == pytest.approx(y.mean()) and m["n_bins"] == 500 and m["n_positive"] == y.sum()
    # a random model's AUPRC is the positive rate
    assert binary_metrics(y, rng.random(500))["auprc"] == pytest.approx(y.mean(), abs=0.06)
    # baselines: no loss; -inf (no motif site) ranks last instead of failing
    s = np.where(rng.random(500) < 0.2, -np.inf, z)
    mb = binary_metrics(y, s, is_logit=False)
    assert mb["loss"] is None and mb["auprc"] == pytest.approx(average_precision_score(y, np.where(np.isinf(s), -99, s)))
    # degenerate sets give None, never NaN (metric files stay valid JSON)
    assert binary_metrics(np.zeros(5), np.arange(5.0))["auprc"] is None
    with pytest.raises(ValueError):
        binary_metrics(y, np.full(500, np.nan))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(-20, 20)), min_size=2, max_size=60))
def test_auprc_and_bce_properties(rows):
    from sklearn.metrics import average_precision_score

    y = np.array([r[0] for r in rows], dtype=int)
    z = np.array([r[1] for r in rows])
    m = binary_metrics(y, z)
    if 0 < y.sum() < len(y):
        assert m["auprc"] == pytest.approx(average_precision_score(y, z), abs=1e-12)
    assert m["loss"] == pytest.approx(np.mean(np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0) - y * z), rel=1e-9)
    assert bce_with_logits(y, z) >= 0


def test_negative_type_breakdown_and_curves():
    from sklearn.metrics import average_precision_score

    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0])
    src = np.array([0, 0, 0, 1, 1, 2, 2, 3, 3])  # positive, flank, random, elsewhere
    s = np.array([0.9, 0.8, 0.3, 0.85, 0.5, 0.1, 0.2, 0.4, 0.0])
    out = auprc_by_negative_type(y, s, src)
    for code, name in ((1, "flank"), (2, "random"), (3, "elsewhere")):
        sel = (src == 0) | (src == code)
        assert out[name]["auprc"] == pytest.approx(average_precision_score(y[sel], s[sel]))
        assert out[name]["n_negative"] == 2
    assert out["flank"]["auprc"] < out["random"]["auprc"]  # flanks are the hard negatives here
    pr = pr_curve(y, s)
    assert pr.recall.is_monotonic_increasing and pr.recall.iloc[-1] == 1.0
    roc = roc_curve(y, s)
    assert roc.fpr.iloc[0] == 0 and roc.fpr.iloc[-1] == 1 and roc.tpr.iloc[-1] == 1
    assert len(pr_curve(np.r_[y, y, y, y], np.r_[s, s + 1, s + 2, s + 3], max_points=5)) <= 5
    ip = interpolated_precision(y, s, np.linspace(0, 1, 11))
    assert np.all(np.diff(ip) <= 1e-12) and ip[-1] == pytest.approx(3 / 6)  # all 3 positives within the top 6


# ----------------------------------------------------------------------------- scoring
def _model(cfg=None, seed=1, context=1000):
    from seq2acc.model.zoo import build_model

    return build_model({**TINY, **(cfg or {})}, context, seed=seed)


def _genome(tmp_path, sizes, seed=3, n_run=None):
    seqs = random_seqs(sizes, seed)
    if n_run:
        c, a, b = n_run
        seqs[c] = seqs[c][:a] + "N" * (b - a) + seqs[c][b:]
    return Genome(write_fasta(tmp_path / "g.fa", seqs)), seqs


@pytest.mark.parametrize("cfg,rc", [({}, False), ({"norm": "batch"}, True), ({"norm": "layer",
                                     "first_activation": "exponential"}, False),
                                     ({"dilated_layers": 3, "norm": "batch"}, True),  # a residual tower: a graph
                                     ({"dilated_layers": 2, "tower_pool": 5, "pool_sizes": [2, 5]}, False)])
def test_shared_trunk_equals_window_by_window(tmp_path, cfg, rc):
    from seq2acc.evaluate.scorers import SharedTrunkScorer, WindowScorer, make_scorer

    g, _ = _genome(tmp_path, {"c1": 9000}, n_run=("c1", 3000, 3300))
    model = _model(cfg)
    # grid windows with gaps (blacklist-like holes), given out of order, chunked across several chunks
    starts = np.arange(0, 8000, 50)
    starts = np.delete(starts, np.r_[10:14, 60:90])[::-1]
    shared = SharedTrunkScorer(model, 1000, 50, chunk_windows=17, rc_average=rc)
    a = shared.score(g, "c1", starts, progress=False)
    b = WindowScorer(model, 1000, batch_size=33, rc_average=rc).score(g, "c1", starts, progress=False)
    assert a.shape == b.shape == (len(starts), 1)
    assert np.max(np.abs(a - b)) < 1e-5
    assert np.std(b) > 1e-4  # windows really differ, so the comparison means something
    assert isinstance(make_scorer(model, 1000, 50), SharedTrunkScorer)
    # misaligned windows (a shift that is not a multiple of the trunk stride) would give other numbers
    off = WindowScorer(model, 1000).score(g, "c1", starts + 10, progress=False)
    assert np.max(np.abs(off - b)) > 1e-4


def test_scorer_falls_back_when_the_trunk_cannot_be_shared(tmp_path):
    import keras

    from seq2acc.evaluate.scorers import SharedTrunkNotApplicable, WindowScorer, make_scorer, shared_trunk_support

    stride48 = _model({"pool_sizes": [4, 12]})  # 48 does not divide the 50 bp grid stride
    with pytest.raises(SharedTrunkNotApplicable, match="does not divide"):
        shared_trunk_support(stride48, 50)
    assert isinstance(make_scorer(stride48, 1000, 50), WindowScorer)
    with pytest.raises(Seq2AccError, match="shared-trunk scoring is not possible"):
        make_scorer(stride48, 1000, 50, method="shared")
    inp = keras.Input((1000, 4))
    x = keras.layers.Conv1D(4, 5, padding="same")(inp)  # 'same' padding: edges differ inside a long chunk
    x = keras.layers.MaxPooling1D(10, name="trunk_out")(x)
    out = keras.layers.Dense(1)(keras.layers.Flatten()(x))
    with pytest.raises(SharedTrunkNotApplicable, match="valid"):
        shared_trunk_support(keras.Model(inp, out), 50)


def test_scoring_fetches_bounded_chunks_not_whole_chromosomes(tmp_path, monkeypatch):
    from seq2acc.evaluate import scorers as scoring

    g, _ = _genome(tmp_path, {"c1": 30000})
    spans = []
    real = scoring._fetch

    def spy(genome, chrom, a, b):
        spans.append(b - a)
        return real(genome, chrom, a, b)

    monkeypatch.setattr(scoring, "_fetch", spy)
    model = _model()
    starts = np.arange(0, 29000, 50)
    scoring.SharedTrunkScorer(model, 1000, 50, chunk_windows=64).score(g, "c1", starts, progress=False)
    assert max(spans) <= 63 * 50 + 1000 and sum(spans) < 2 * (29000 + 1000)
    spans.clear()
    scoring.WindowScorer(model, 1000, batch_size=32).score(g, "c1", starts, progress=False)
    assert max(spans) <= 31 * 50 + 1000
    assert "c1" not in g._cache  # no whole-chromosome array was cached


# ----------------------------------------------------------------------------- baselines
def test_kmer_baseline_running_sum_equals_sklearn(tmp_path):
    from seq2acc.evaluate.baselines import KmerBaseline, canonical_kmer_index, kmer_ids

    lookup, n = canonical_kmer_index(3)
    assert n == 32  # 64 3-mers, no palindromes for odd k
    ids = kmer_ids(encode("ACGTN"), 3)
    assert ids.tolist() == [0 * 16 + 1 * 4 + 2, 1 * 16 + 2 * 4 + 3, -1]
    assert lookup[int("012", 4)] == lookup[int("123", 4)]  # ACG and its reverse complement CGT
    g, _ = _genome(tmp_path, {"a": 8000, "b": 6000}, n_run=("a", 2000, 2100))
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"chrom": ["a"] * 40 + ["b"] * 30,
                          "start": np.r_[rng.integers(0, 7000, 40), rng.integers(0, 5000, 30)],
                          "label": rng.integers(0, 2, 70)})
    km = KmerBaseline(1000, k=4, window=400, C=[0.01, 1.0])
    valid = [("b", np.arange(0, 5000, 50), (np.arange(0, 5000, 50) % 400 == 0).astype(int))]
    km.fit(g, table, valid)
    assert km.chosen_C in (0.01, 1.0) and len(km.selection) == 2
    # the chosen model's validation logits, kept for the fold's calibration, are exactly its scores of those bins
    np.testing.assert_array_equal(km.valid_scores, km.score(g, "b", valid[0][1], progress=False))
    starts = np.arange(0, 7000, 50)
    X = km.counts(g, "a", starts)
    assert X.shape == (len(starts), km.n_features) and np.all(X.sum(1) <= 400 - 4 + 1)
    assert np.allclose(km.score(g, "a", starts, progress=False), km.pipeline.decision_function(X), atol=1e-4)


def test_kmer_C_search_extends_past_an_edge_until_interior_or_the_bound():
    from seq2acc.evaluate.baselines import search_C

    calls = []

    def peak(at):  # a validation score peaked at C = at (log scale)
        def f(C):
            calls.append(C)
            return -abs(np.log10(C) - np.log10(at))
        return f

    step = 10 ** 0.5
    best, bound = search_C(peak(1e-2), [1e-5, 1e-4], (1e-7, 1.0), step)  # best beyond the grid's top edge
    assert bound is None and best == pytest.approx(1e-2, rel=0.01) and max(calls) > best  # interior of the tried
    calls.clear()
    best, bound = search_C(peak(1e-9), [1e-5, 1e-4], (1e-7, 1.0), step)  # beyond the low bound: stops there
    assert bound == "low" and best == 1e-7 and min(calls) == 1e-7
    best, bound = search_C(peak(1e3), [1e-5, 1e-4], (1e-7, 1.0), step)
    assert bound == "high" and best == 1.0
    calls.clear()
    best, bound = search_C(peak(1e-4), [1e-5, 1e-4, 1e-3], (1e-7, 1.0), step)  # interior already: no extension
    assert (best, bound) == (1e-4, None)
    assert sorted(calls) == [1e-5, 1e-4, 1e-3]
    best, bound = search_C(peak(1e-9), [1e-5, 1e-4], (1e-5, 1e-4), step)  # bounds = the grid: the old fixed grid
    assert (best, bound) == (1e-5, "low")


def test_kmer_fit_records_the_extended_C_search(tmp_path):
    from seq2acc.evaluate.baselines import KmerBaseline

    g, seqs = _genome(tmp_path, {"a": 20000, "b": 12000}, seed=11)
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"chrom": "a", "start": rng.integers(0, 19000, 200), "label": rng.integers(0, 2, 200)})
    vs = np.arange(0, 11000, 50)
    valid = [("b", vs, rng.integers(0, 2, len(vs)))]  # labels unrelated to sequence: no C is really better
    km = KmerBaseline(1000, k=3, window=200, C=[1e-3, 1e-2], C_bounds=(1e-5, 10.0), C_step=10.0)
    km.fit(g, table, valid)
    info = km.info()
    tried = sorted(s["C"] for s in info["selection"])
    assert info["chosen_C"] == km.chosen_C in tried and info["C_bounds"] == [1e-5, 10.0]
    assert info["n_train"] == 200 and info["n_train_positive"] == int(table.label.sum())
    if info["C_at_bound"] is None:  # interior of what was tried
        assert tried[0] < km.chosen_C < tried[-1]
    else:
        assert km.chosen_C == {"low": 1e-5, "high": 10.0}[info["C_at_bound"]]
    vals = {s["C"]: s["valid_genomewide_auprc"] for s in info["selection"]}
    assert vals[km.chosen_C] == max(vals.values())
    with pytest.raises(ArgumentError, match="C_bounds"):
        KmerBaseline(1000, C=[1e-3, 1e-2], C_bounds=(1e-2, 1.0))  # low above min(C)


def test_pwm_baseline_is_best_score_in_central_window_both_strands(tmp_path):
    from seq2acc.evaluate.baselines import PWMBaseline
    from seq2acc.interpret.motifs import log_odds
    from seq2acc.seq.encoding import onehot_codes

    g, seqs = _genome(tmp_path, {"a": 6000})
    b = PWMBaseline("MA0363", 1000, central=400)
    pwm = log_odds(b.motif, None, 0.8)
    w = len(pwm)
    starts = np.array([0, 50, 1000, 4950])
    got = b.score(g, "a", starts, progress=False)
    for s, v in zip(starts, got):
        x = onehot_codes(encode(seqs["a"][s + 300:s + 700]))
        best = max(max((x[i:i + w] * pwm).sum(), (x[i:i + w] * pwm[::-1, ::-1]).sum()) for i in range(400 - w + 1))
        assert v == pytest.approx(best, abs=1e-4)


# ----------------------------------------------------------------------------- tracks
def test_tracks_tile_bins_without_overlap_and_round_trip(tmp_path):
    import pyBigWig

    from seq2acc.io.bigwig import bin_segments, write_bedgraph, write_bigwig

    bs = np.array([400, 450, 500, 700])
    s, e = bin_segments(bs, 200, 50, 3000)
    assert s.tolist() == [475, 525, 575, 775] and e.tolist() == [525, 575, 625, 825]
    vals = np.array([0.1, 0.2, 0.3, 0.9])
    bg = write_bedgraph(tmp_path / "x.bedGraph", "c1", bs[::-1], vals[::-1], 200, 50, 3000, view_limits=(0, 1))
    lines = bg.read_text().splitlines()
    assert lines[0].startswith("track type=bedGraph") and lines[1] == "c1\t475\t525\t0.1" and len(lines) == 5
    bw = write_bigwig(tmp_path / "x.bw", {"c2": (np.array([400]), np.array([0.5])), "c1": (bs, vals)}, 200, 50,
                      {"c1": 3000, "c2": 2000, "c3": 100})
    f = pyBigWig.open(str(bw))
    assert f.chroms() == {"c1": 3000, "c2": 2000}
    assert f.values("c1", 475, 476)[0] == pytest.approx(0.1) and f.values("c1", 800, 801)[0] == pytest.approx(0.9)
    assert np.isnan(f.values("c1", 700, 701)[0])  # gap: bin 600 left out
    f.close()


# ----------------------------------------------------------------------------- evaluate stage on a tiny project
def _project(tmp_path, blacklist=("c2", 1000, 1100)):
    """Three chromosomes, datasets written by the real binning code, 3 folds, a tiny model per fold."""
    import yaml

    from conftest import ROOT

    sizes = {"c1": 6000, "c2": 3000, "c3": 5000}
    g, seqs = _genome(tmp_path, sizes, seed=5)
    spec = BinSpec(200, 50, 1000, 0.5)
    peaks = {"c1": ([1500, 4000], [1700, 4300]), "c2": ([1500], [1800]), "c3": ([2000], [2400])}
    ddir = tmp_path / "data" / "datasets"
    for c, n in sizes.items():
        bl = (np.array([blacklist[1]]), np.array([blacklist[2]])) if c == blacklist[0] else (np.zeros(0, int),) * 2
        tg = tuple(np.array(v) for v in peaks[c])
        cb = sample_examples(spec, n, g.codes(c), tg, (np.zeros(0, int),) * 2, bl, seed=1)
        write_chrom_dataset(ddir / f"{c}.h5", c, n, spec, cb)
    folds = make_folds([["c1"], ["c2"], ["c3"]])
    (tmp_path / "data" / "folds.json").write_text(json.dumps({"n_folds": 3, "folds": folds}))
    (tmp_path / "data" / "chrom.sizes").write_text("".join(f"{c}\t{n}\n" for c, n in sizes.items()))
    for k in range(3):
        (tmp_path / "models" / f"fold{k}").mkdir(parents=True)
        _model(seed=k).save(tmp_path / "models" / f"fold{k}" / "model.keras")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["genome"].update(fasta_out=str(tmp_path / "g.fa"), chrom_sizes=str(tmp_path / "data" / "chrom.sizes"))
    params["dataset"]["out_dir"] = str(ddir)
    params["folds"]["out"] = str(tmp_path / "data" / "folds.json")
    params.setdefault("train", {}).update(out_dir=str(tmp_path / "models"), folds=[0, 1, 2],
                                          plots_dir=str(tmp_path / "metrics" / "train"))  # cv_summary prunes it
    params["evaluate"].update(out_dir=str(tmp_path / "predictions"), metrics_dir=str(tmp_path / "metrics"),
                              summary_tracks=str(tmp_path / "tracks"), chunk_windows=16)
    params["baselines"]["kmer"].update(k=4, C=[0.01, 1.0])
    return Params(params), g, sizes


def test_genomewide_bins_are_complete_and_exclude_the_blacklist(tmp_path):
    from seq2acc.pipeline.evaluate import score_fold

    p, g, sizes = _project(tmp_path)
    # c2: 3000 bp, 1000 bp context -> bin starts on the 50 bp grid from 400 to 3000-200-400 = 2400: 41 bins;
    # the blacklist [1000, 1100) overlaps the 200 bp bins starting at 850, 900, 950, 1000, 1050: 36 bins left.
    scored = score_fold(p, 1, progress=False)
    assert list(scored["genomewide"]) == ["c2"]
    bins = scored["genomewide"]["c2"].bin_start.to_numpy()
    expected = [b for b in range(400, 2401, 50) if not (b < 1100 and b + 200 > 1000)]
    assert len(expected) == 36 and bins.tolist() == expected
    _, _, _, df = read_genomewide(tmp_path / "data" / "datasets" / "c2.h5")
    assert df.bin_start.tolist() == expected
    lab = scored["genomewide"]["c2"].set_index("bin_start").label
    # more than 50% of the 200 bp bin inside the peak [1500, 1800): 1400 (100 bp) no, 1450..1650 yes, 1700 no
    assert [lab[b] for b in (1400, 1450, 1650, 1700)] == [0, 1, 1, 0]
    # every sampled test example is among the scored bins, with the same score
    sm = scored["sampled"]
    merged = sm.merge(scored["genomewide"]["c2"], on="bin_start", suffixes=("", "_gw"))
    assert len(merged) == len(sm) > 0 and np.allclose(merged.cnn, merged.cnn_gw)


def test_evaluation_never_touches_a_training_chromosome(tmp_path, monkeypatch):
    from seq2acc.artifacts.scores import read_scores
    from seq2acc.evaluate import baselines
    from seq2acc.evaluate import scorers as scoring
    from seq2acc.pipeline import evaluate as ev

    p, g, sizes = _project(tmp_path)
    scored_chroms = {"cnn": [], "pwm": [], "kmer": []}
    for cls, key in ((scoring.SharedTrunkScorer, "cnn"), (scoring.WindowScorer, "cnn"),
                     (baselines.PWMBaseline, "pwm"), (baselines.KmerBaseline, "kmer")):
        real = cls.score

        def spy(self, genome, chrom, starts, progress=True, _real=real, _key=key):
            scored_chroms[_key].append(chrom)
            return _real(self, genome, chrom, starts, progress=progress)

        monkeypatch.setattr(cls, "score", spy)
    metrics = ev.evaluate_fold(p, 0)  # fold 0: test c1, valid c2, train c3
    assert set(scored_chroms["cnn"]) == {"c1", "c2"} and set(scored_chroms["pwm"]) == {"c1"}  # PWM: no calibration
    assert set(scored_chroms["kmer"]) <= {"c1", "c2"}  # c2 = validation bins, only to choose C and to calibrate
    assert metrics["calibration"]["cnn"]["n_bins"] == len(read_genomewide(tmp_path / "data/datasets/c2.h5")[3])
    pred = tmp_path / "predictions" / "fold0"
    assert list(read_scores(pred / "scores.h5")["genomewide"]) == ["c1"]
    assert set(read_scores(pred / "scores.h5")["sampled"].chrom) == {"c1"}
    assert sorted(f.name for f in pred.glob("*.bedGraph")) == ["c1.bedGraph"]
    assert metrics["genomewide"]["n_bins"] == len(read_genomewide(tmp_path / "data" / "datasets" / "c1.h5")[3])
    # the DVC metric is the headline (a few numbers); evaluate.json keeps the detail
    head = json.loads((tmp_path / "metrics" / "fold0" / "headline.json").read_text())
    assert head == {"auprc": metrics["genomewide"]["auprc"], "auroc": metrics["genomewide"]["auroc"],
                    "loss": metrics["genomewide"]["loss"], "positive_rate": metrics["genomewide"]["positive_rate"],
                    "loss_calibrated": metrics["calibration"]["cnn"]["test_loss_after"],
                    **{f"{n}_auprc": b["genomewide"]["auprc"] for n, b in metrics["baselines"].items()}}
    with pytest.raises(Seq2AccError, match="also training"):
        ev.check_fold({"fold": 0, "test": ["c1"], "valid": ["c2"], "train": ["c1", "c3"]})


def test_kmer_baseline_trains_on_examples_plus_genomewide_negatives(tmp_path, monkeypatch):
    from seq2acc.evaluate import baselines
    from seq2acc.pipeline import evaluate as ev

    p, g, sizes = _project(tmp_path)
    ddir = tmp_path / "data" / "datasets"
    seen = []
    real = baselines.KmerBaseline.fit

    def spy(self, genome, table, valid_bins=None, **kw):  # kw: the label column, shared counts (several tasks)
        seen.append(table)
        return real(self, genome, table, valid_bins, **kw)

    monkeypatch.setattr(baselines.KmerBaseline, "fit", spy)
    fold = {"fold": 0, "test": ["c1"], "valid": ["c2"], "train": ["c3"]}
    _, _, _, gw = read_genomewide(ddir / "c3.h5")
    for ratio in (0, 2, 10_000):
        p.data["baselines"]["kmer"]["genomewide_negatives"] = ratio
        km = ev.build_baselines(p, g, fold, ddir, 1000)["kmer"]
        t = seen[-1]
        ex, extra = t[~t.genomewide], t[t.genomewide]
        n_pos = int(ex.label.sum())
        assert n_pos > 0 and len(ex) == len(ev.read_examples([ddir / "c3.h5"]))
        assert len(extra) == min(round(ratio * n_pos), int((gw.label == 0).sum()))  # 10_000: every negative bin
        assert (extra.label == 0).all() and set(extra.chrom) <= {"c3"}
        assert set(extra.start) <= set(gw.start[gw.label == 0])  # genome-wide negative bins of the training chromosome
        assert km.n_train == len(t)
    assert len(seen[1][seen[1].genomewide]) == 2 * n_pos > 0
    # a fixed (seeded) sample: the same table twice
    p.data["baselines"]["kmer"]["genomewide_negatives"] = 2
    a = ev.kmer_training_table(ddir, ["c3"], 2, 7)
    assert a.equals(ev.kmer_training_table(ddir, ["c3"], 2, 7))


@pytest.mark.parametrize("key,value", [("genomewide_negatives", -1), ("genomewide_negatives", "many"),
                                       ("C", [1e-4, -1.0]), ("C", "small"), ("C_bounds", [0.1, 1.0]),
                                       ("C_bounds", [1e-7]), ("C_bounds", [1e-7, float("inf")]), ("C_step", 1.0),
                                       ("k", 11), ("window", 999)])
def test_bad_kmer_params_name_their_key(tmp_path, key, value):
    from seq2acc.pipeline import evaluate as ev

    p, g, sizes = _project(tmp_path)
    p.data["baselines"]["kmer"][key] = value
    fold = {"fold": 0, "test": ["c1"], "valid": ["c2"], "train": ["c3"]}
    with pytest.raises(ParamsError, match=f"baselines.kmer.{key}") as e:
        ev.build_baselines(p, g, fold, tmp_path / "data" / "datasets", 1000)
    assert e.value.key == f"baselines.kmer.{key}"


def test_evaluate_outputs_mlflow_and_cv_summary(tmp_path, monkeypatch):
    import mlflow
    import pyBigWig

    from seq2acc.artifacts.scores import read_scores
    from seq2acc.pipeline.evaluate import evaluate_fold
    from seq2acc.pipeline.cv_summary import cv_summary

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    p, g, sizes = _project(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = mlflow.create_experiment("t", artifact_location=(tmp_path / "art").as_uri())
    with mlflow.start_run(experiment_id=exp) as run:
        pass
    (tmp_path / "models" / "fold0" / "mlflow_run.json").write_text(json.dumps({"run_id": run.info.run_id}))
    per_fold = [evaluate_fold(p, k) for k in range(3)]
    m0 = json.loads((tmp_path / "metrics" / "fold0" / "evaluate.json").read_text())
    assert m0["genomewide"]["auprc"] == pytest.approx(per_fold[0]["genomewide"]["auprc"])
    assert set(m0) >= {"genomewide", "sampled", "by_negative_type", "baselines", "per_chromosome"}
    assert set(m0["baselines"]) == {"pwm", "pwm_200", "kmer"}  # params.yaml: central [400, 200]
    for f in ("pr.csv", "roc.csv", "curves.png"):
        assert (tmp_path / "metrics" / "fold0" / f).stat().st_size > 0
    assert list(pd.read_csv(tmp_path / "metrics" / "fold0" / "pr.csv").columns) == ["recall", "precision"]
    logged = mlflow.get_run(run.info.run_id)
    assert logged.data.metrics["eval.genomewide.auprc"] == pytest.approx(m0["genomewide"]["auprc"])
    assert logged.data.metrics["eval.baselines.pwm.genomewide.auprc"] == pytest.approx(
        m0["baselines"]["pwm"]["genomewide"]["auprc"])
    arts = [a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "evaluation")]
    assert "evaluation/curves.png" in arts
    # calibration (params.yaml: platt) fitted on the validation chromosome c2, recorded in info.json,
    # evaluate.json and the MLflow run; the per-fold AUPRC is that of the raw logits (a monotone map keeps it)
    info0 = json.loads((tmp_path / "predictions" / "fold0" / "info.json").read_text())
    cal = info0["calibration"]["cnn"]
    assert set(info0["calibration"]) == {"cnn", "kmer"} and cal["method"] == "platt" and cal["a"] > 0
    assert cal["n_bins"] == len(read_genomewide(tmp_path / "data" / "datasets" / "c2.h5")[3])
    assert m0["calibration"]["cnn"]["a"] == cal["a"] and m0["calibration"]["cnn"]["test_loss_before"] == \
        pytest.approx(m0["genomewide"]["loss"])
    assert logged.data.metrics["eval.calibration.cnn.a"] == pytest.approx(cal["a"])
    assert logged.data.tags["eval.calibration.cnn.method"] == "platt"
    # bigWig of the fold holds the sigmoid of the calibrated logits
    s0 = read_scores(tmp_path / "predictions" / "fold0" / "scores.h5")["genomewide"]["c1"]
    bw = pyBigWig.open(str(tmp_path / "predictions" / "fold0" / "cnn.bw"))
    b0 = int(s0.bin_start.iloc[3])
    z = cal["a"] * s0.cnn.iloc[3] + cal["b"]
    assert bw.values("c1", b0 + 100, b0 + 101)[0] == pytest.approx(1 / (1 + np.exp(-z)), abs=1e-5)
    bw.close()

    summary = cv_summary(p)
    js = json.loads((tmp_path / "metrics" / "summary.json").read_text())
    assert js["n_folds"] == 3 and js["n_chromosomes"] == 3
    all_y = np.concatenate([read_scores(tmp_path / "predictions" / f"fold{k}" / "scores.h5")["genomewide"][c].label
                            for k, c in enumerate(["c1", "c2", "c3"])])
    assert js["pooled"]["cnn"]["n_bins"] == len(all_y) == sum(m["genomewide"]["n_bins"] for m in per_fold)
    assert js["pooled"]["cnn"]["positive_rate"] == pytest.approx(all_y.mean())
    assert js["mean"]["cnn_auprc"] == pytest.approx(np.mean([m["genomewide"]["auprc"] for m in per_fold]))
    assert js["folds"]["fold2"]["pwm_auprc"] == pytest.approx(per_fold[2]["baselines"]["pwm"]["genomewide"]["auprc"])
    md = (tmp_path / "metrics" / "summary.md").read_text()
    assert "| **pooled** |" in md and "PWM 400 bp AUPRC" in md and "4-mer LR AUPRC" in md and md.count("\n| 0 |") + md.count("\n| 1 |") == 2
    assert (tmp_path / "metrics" / "summary_pr.png").stat().st_size > 0
    assert list(pd.read_csv(tmp_path / "metrics" / "summary_pr.csv").columns) == ["recall", "cnn", "pwm", "pwm_200",
                                                                                   "kmer"]
    bw = pyBigWig.open(str(tmp_path / "tracks" / "cnn_heldout.bw"))
    assert bw.chroms() == sizes
    assert bw.values("c1", b0 + 100, b0 + 101)[0] == pytest.approx(1 / (1 + np.exp(-z)), abs=1e-5)  # calibrated
    bw.close()
    assert summary["pooled"]["cnn"]["auprc"] == js["pooled"]["cnn"]["auprc"]
    # pooled: calibrated scores; the raw pool next to it
    head = json.loads((tmp_path / "metrics" / "headline.json").read_text())
    assert head["pooled_auprc"] == js["pooled"]["cnn"]["auprc"]
    assert head["pooled_auprc_uncalibrated"] == js["pooled_uncalibrated"]["cnn"]["auprc"]
    assert set(js["pooled_uncalibrated"]) == {"cnn", "kmer"} and set(js["calibration"]) == {"fold0", "fold1", "fold2"}
    assert "Pooled AUPRC without calibration" in md


def test_summary_refuses_a_chromosome_tested_twice(tmp_path):
    from seq2acc.evaluate.cv import summarize

    d = pd.DataFrame({"bin_start": [0, 50], "label": [0, 1], "cnn": [0.1, 0.2]})
    sm = pd.DataFrame({"chrom": ["c1"], "bin_start": [50], "label": [1], "source": [0], "cnn": [0.2]})
    s = {"fold": 0, "genomewide": {"c1": d}, "sampled": sm, "info": {"test": ["c1"]}}
    with pytest.raises(Seq2AccError, match="exactly once|once"):
        summarize([s, {**s, "fold": 1}])


@pytest.mark.slow
def test_dvc_evaluate_and_cv_summary_stages(tmp_path):
    """The real dvc.yaml wiring: evaluate@0 then cv_summary on a tiny project; metrics visible to `dvc metrics`."""
    from conftest import dvc, make_project

    sizes = {"chrA": 9000, "chrB": 8000, "chrC": 7000}
    target = [("chrA", 2000, 2001), ("chrA", 5000, 5001), ("chrB", 3000, 3300), ("chrC", 2500, 2501)]
    d = make_project(tmp_path / "proj", sizes, target, [("chrB", 6000, 6001)], [("chrB", 1000, 1300)], n_folds=3,
                     extra_params={"train.folds": [0], "baselines.kmer.k": 4, "evaluate.chunk_windows": 64})
    dvc(d, "repro", "validate")
    (d / "models" / "fold0").mkdir(parents=True)
    _model().save(d / "models" / "fold0" / "model.keras")
    res = dvc(d, "repro", "-s", "evaluate@0")
    assert "Running stage 'evaluate@0'" in res.stdout
    dvc(d, "repro", "-s", "cv_summary")
    shown = json.loads(dvc(d, "metrics", "show", "--json").stdout)
    data = next(iter(shown.values()))["data"]
    # `dvc metrics show` lists the headline numbers only; the detail is in evaluate.json / summary.json
    assert not any(k.endswith(("evaluate.json", "metrics/summary.json")) for k in data)
    head, cv = data["metrics/fold0/headline.json"]["data"], data["metrics/headline.json"]["data"]
    ev = json.loads((d / "metrics/fold0/evaluate.json").read_text())
    test = json.loads((d / "data/folds.json").read_text())["folds"][0]["test"]
    assert ev["genomewide"]["n_bins"] == sum(len(read_genomewide(d / "data/datasets" / f"{c}.h5")[3]) for c in test)
    assert head["auprc"] == ev["genomewide"]["auprc"]
    assert cv["n_folds"] == 1 and cv["pooled_auprc"] == pytest.approx(ev["genomewide"]["auprc"])
    assert (d / "tracks" / "cnn_heldout.bw").exists() and (d / "predictions" / "fold0" / "cnn.bw").exists()
