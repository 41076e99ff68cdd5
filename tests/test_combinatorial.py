"""Motif scrambling, DFIM and their controls on a hand-built model with a known interaction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shipped_params
from seq2acc.interpret.combinatorial import (control_sites, dfim, dfim_matrix, dfim_summary, normalize_sites, pair_matrix,
                                   plot_matrices, scramble_interactions, scramble_site, summarize_pairs,
                                   summarize_sites)
from seq2acc.seq.encoding import decode, onehot

MOTIFS = {"A": "TTACCCGG", "B": "GATAAGCA", "C": "CACGTGAC"}
L = 120
POS = {"A": 10, "B": 50, "C": 90}


# ----------------------------------------------------------------------------- scrambling a site
@settings(max_examples=60, deadline=None)
@given(seq=st.text(alphabet="ACGT", min_size=12, max_size=60), data=st.data())
def test_scramble_keeps_composition_and_changes_the_site(seq, data):
    x = onehot(seq)
    start = data.draw(st.integers(0, len(seq) - 2))
    end = data.draw(st.integers(start + 2, len(seq)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    y, changed = scramble_site(x, start, end, rng)
    site, new = seq[start:end], decode(y[start:end])
    assert sorted(new) == sorted(site)  # same composition
    assert decode(y[:start]) == seq[:start] and decode(y[end:]) == seq[end:]  # nothing else touched
    assert changed == (len(set(site)) > 1)
    if changed:
        assert new != site
    assert decode(x) == seq  # input not modified


# ----------------------------------------------------------------------------- a model with known logic
def _detector(keras, motif, name):
    w = -np.ones((len(motif), 4, 1), dtype=np.float32)
    w[np.arange(len(motif)), ["ACGT".index(b) for b in motif], 0] = 1.0
    conv = keras.layers.Conv1D(1, len(motif), padding="valid", name=f"det_{name}")
    return conv, [w, np.array([-(len(motif) - 1)], dtype=np.float32)]


@pytest.fixture(scope="module")
def logic_model():
    """logit = det_A * det_B + det_C: A and B interact (AND), C is additive."""
    import keras

    inp = keras.Input((L, 4))
    dets = {}
    for name, m in MOTIFS.items():
        conv, weights = _detector(keras, m, name)
        h = keras.layers.ReLU()(conv(inp))
        dets[name] = keras.layers.GlobalMaxPooling1D()(h)
        conv.set_weights(weights)
    out = keras.layers.Add()([keras.layers.Multiply()([dets["A"], dets["B"]]), dets["C"]])
    return keras.Model(inp, out)


def _seqs(n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        s = list(rng.choice(list("ACGT"), size=L))
        for k, p in POS.items():
            s[p:p + 8] = MOTIFS[k]
        out.append("".join(s))
    return np.stack([onehot(s) for s in out])


def _sites(n):
    return pd.DataFrame([(i, POS[k], POS[k] + 8, k) for i in range(n) for k in MOTIFS], columns=["seq", "start", "end", "motif"])


def _grad_x_input(model):
    import tensorflow as tf

    def fn(x):
        x = tf.convert_to_tensor(x, tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(model(x))
        return (tape.gradient(y, x) * x).numpy()

    return fn


def test_scrambling_finds_the_and_pair_and_only_it(logic_model):
    x = _seqs(6)
    sites = normalize_sites(_sites(6), L)
    predict = lambda b: np.asarray(logic_model(b)).reshape(-1)  # noqa: E731
    assert np.allclose(predict(x), 2.0)  # A*B + C = 1 + 1
    eff, pairs = scramble_interactions(predict, x, sites, n_scrambles=3, seed=1, progress=False)
    assert len(eff) == 18 and len(pairs) == 18
    assert np.allclose(eff.effect, -1.0) and eff.changed.all()
    summ = summarize_pairs(pairs).set_index(["motif_a", "motif_b"])
    assert summ.loc[("A", "B"), "interaction_mean"] == pytest.approx(1.0)  # removing both costs 1, not 2
    assert summ.loc[("A", "C"), "interaction_mean"] == pytest.approx(0.0, abs=1e-6)
    assert summ.loc[("B", "C"), "interaction_mean"] == pytest.approx(0.0, abs=1e-6)
    assert (summ.n == 6).all()
    # controls: random sites of equal length do nothing to this model
    ctrl = control_sites(sites, L, seed=3)
    assert len(ctrl) == len(sites)
    ceff, cpairs = scramble_interactions(predict, x, ctrl, n_scrambles=3, seed=1, progress=False)
    assert np.allclose(ceff.effect, 0.0) and np.allclose(cpairs.interaction, 0.0)
    full = summarize_pairs(pairs, cpairs).set_index(["motif_a", "motif_b"])
    assert full.loc[("A", "B"), "control_mean"] == pytest.approx(0.0)
    assert full.loc[("A", "B"), "p_vs_control"] < 0.01
    s = summarize_sites(eff, ceff).set_index("motif")
    assert s.loc["A", "effect_mean"] == pytest.approx(-1.0) and s.loc["A", "control_mean"] == pytest.approx(0.0)


def test_dfim_finds_the_interacting_pair_and_not_the_others(logic_model, tmp_path):
    x = _seqs(4, seed=5)
    sites = normalize_sites(_sites(4), L)
    d = dfim(_grad_x_input(logic_model), x, sites, n_scrambles=2, seed=0, progress=False)
    assert len(d) == 4 * 6  # 3 sites -> 6 ordered pairs per sequence
    mats = dfim_matrix(d)
    mean = mats["mean"]
    # grad x input at B is det_A * 8 (eight matching bases); scrambling A removes it, and vice versa
    assert mean.loc["A", "B"] == pytest.approx(8.0) and mean.loc["B", "A"] == pytest.approx(8.0)
    for s, t in (("A", "C"), ("C", "A"), ("B", "C"), ("C", "B")):
        assert mean.loc[s, t] == pytest.approx(0.0, abs=1e-5)
    assert (mats["count"].values[~np.eye(3, dtype=bool)] == 4).all()
    ctrl = control_sites(sites, L, seed=2)
    cd = dfim(_grad_x_input(logic_model), x, ctrl, n_scrambles=2, seed=0, progress=False)
    assert np.allclose(cd.delta, 0.0, atol=1e-5)
    summ = dfim_summary(d, cd)
    assert set(summ.columns) >= {"delta_mean", "control_mean", "p_vs_control", "n"}
    png = tmp_path / "dfim.png"
    plot_matrices(png, [("motif sites", mean, mats["count"]), ("control", dfim_matrix(cd)["mean"], None)], "delta")
    assert png.stat().st_size > 1000
    m, c = pair_matrix(pd.DataFrame({"motif_a": ["A"], "motif_b": ["B"], "n": [3], "interaction_mean": [1.0]}))
    assert m.loc["B", "A"] == 1.0 and c.loc["A", "B"] == 3


def test_sites_are_deduplicated_and_controls_do_not_overlap():
    sites = pd.DataFrame({"seq": [0, 0, 0, 1], "start": [5, 8, 30, 0], "end": [15, 18, 40, 300],
                          "motif": ["A", "A", "B", "C"], "score": [1.0, 2.0, 0.5, 1.0]})
    s = normalize_sites(sites, 100)
    assert s[["start", "end"]].values.tolist() == [[8, 18], [30, 40]]  # overlap -> higher score; out of bounds dropped
    assert normalize_sites(sites, 100, max_sites_per_seq=1)[["start"]].values.ravel().tolist() == [8]
    c = control_sites(s, 100, seed=0)
    assert ((c.end - c.start).values == (s.end - s.start).values).all()
    spans = list(zip(s.start, s.end)) + list(zip(c.start, c.end))
    for i, (a, b) in enumerate(spans):
        for j, (u, v) in enumerate(spans):
            if i != j:
                assert b <= u or a >= v


# ----------------------------------------------------------------------------- the `combinatorial` stage
def _fake_modisco(path, n, L):
    """A modiscolite-layout results file with two patterns whose seqlets sit on the planted A and B sites
    (A seqlets stored in reverse-complement orientation, to exercise the coordinate mirroring)."""
    import h5py

    width = 12  # pattern length; its core (|CWM| >= 0.3 max) is positions 2..10 = the 8-bp motif
    cwm = np.zeros((width, 4), np.float32)
    cwm[2:10, 0] = 1.0
    with h5py.File(path, "w") as f:
        f.attrs["window_size"] = L
        f.attrs["seq2acc_offset"] = 0
        for i, (name, motif_pos, rc) in enumerate((("A", POS["A"], True), ("B", POS["B"], False))):
            g = f.create_group(f"pos_patterns/pattern_{i}")
            g["sequence"] = np.full((width, 4), 0.25, np.float32)
            g["contrib_scores"] = cwm
            g["hypothetical_contribs"] = cwm
            s = g.create_group("seqlets")
            s["n_seqlets"] = np.array([n])
            s["start"] = np.full(n, motif_pos - 2)
            s["end"] = np.full(n, motif_pos - 2 + width)
            s["example_idx"] = np.arange(n)
            s["is_revcomp"] = np.full(n, rc)


def test_combinatorial_stage_on_modisco_sites(logic_model, tmp_path, monkeypatch):
    import json

    import h5py
    import yaml

    from seq2acc.config import Params
    from seq2acc.pipeline.combinatorial import combinatorial

    monkeypatch.chdir(tmp_path)
    n = 6
    x = _seqs(n, seed=9)
    for k in (0, 1):
        (tmp_path / f"models/fold{k}").mkdir(parents=True)
        logic_model.save(tmp_path / f"models/fold{k}/model.keras")
    (tmp_path / "attribution/ensemble").mkdir(parents=True)
    with h5py.File(tmp_path / "attribution/ensemble/contrib.h5", "w") as f:
        f["input_seqs"] = x
        f["regions/chrom"] = np.array([b"chrA"] * n)
        f["regions/start"] = np.array([0, 1000, 0, 3000, 4000, 5000])  # sequence 2 repeats sequence 0's sites
        f["regions/source_fold"] = np.array([0, 1] * (n // 2), np.int16)  # each sequence held out by one fold
    (tmp_path / "modisco/ensemble").mkdir(parents=True)
    _fake_modisco(tmp_path / "modisco/ensemble/modisco.h5", n, L)
    (tmp_path / "modisco/ensemble/patterns.tsv").write_text(
        "## fake\npattern\tlabel\tsign\tn_seqlets\tq_value\npos_patterns.pattern_0\tmotifA\t+\t6\t0.001\n"
        "pos_patterns.pattern_1\tmotifB\t+\t6\t0.001\n")
    params = shipped_params({"seed": 0, "train": {"folds": [0, 1]},
                             "combinatorial": {"n_scrambles": 2, "dfim_scrambles": 2, "rc_average": False,
                                               "max_sequences": 10, "method": "grad_x_input", "n_refs": 2}})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    out = combinatorial(Params.load("params.yaml"))
    sites = pd.read_csv(out / "sites.tsv", sep="\t", skiprows=1)
    real = sites[sites.kind == "motif"]
    assert len(real) == 2 * (n - 1) and set(real.name) == {"motifA", "motifB"}  # the repeated sites only once
    a = real[real.name == "motifA"]
    assert (a.seq_start == POS["A"]).all() and (a.seq_end == POS["A"] + 8).all()  # rc seqlet mirrored onto the core
    assert sorted(a.start - a.seq_start) == [0, 1000, 3000, 4000, 5000]  # genome coordinates
    assert set(real.unit) == {"held out by fold 0", "held out by fold 1"}
    summ = pd.read_csv(out / "pair_summary.tsv", sep="\t", skiprows=1)
    row = summ.iloc[0]
    assert row.n == n - 1 and row.interaction_mean == pytest.approx(1.0) and row.control_mean == pytest.approx(0.0)
    d = pd.read_csv(out / "dfim_summary.tsv", sep="\t", skiprows=1).set_index(["source_motif", "target_motif"])
    assert d.loc[("motifA", "motifB"), "delta_mean"] == pytest.approx(8.0, rel=1e-4)
    assert d.loc[("motifA", "motifB"), "control_mean"] == pytest.approx(0.0, abs=1e-5)
    js = json.loads((out / "summary.json").read_text())
    assert js["pair_interaction"]["motifA+motifB"]["n"] == n - 1
    for png in ("interaction_heatmap.png", "dfim_heatmap.png"):
        assert (out / png).stat().st_size > 1000


def test_report_says_too_few_instead_of_nan(tmp_path):
    from seq2acc.config import Params
    from seq2acc.pipeline.combinatorial import report_lines

    out = tmp_path / "comb"
    out.mkdir()
    (out / "pair_summary.tsv").write_text("## x\nmotif_a\tmotif_b\tinteraction_mean\tinteraction_sd\tn\tcontrol_mean\t"
                                          "p_vs_control\nA\tB\t0.5\tnan\t1\tnan\tnan\nA\tC\t0.2\t0.1\t9\t0.0\t0.01\n")
    lines = report_lines(Params(shipped_params({"combinatorial": {"out_dir": str(out)}})))
    text = "\n".join(lines)
    assert "nan" not in text
    assert "n=1: too few for an sd" in text and "no test (n=1)" in text and "p=0.01" in text


def test_duplicate_modisco_matches_are_one_motif():
    from seq2acc.pipeline.combinatorial import motif_of_pattern

    t = pd.DataFrame({"label": ["RAP1", "REB1", "RAP1_pos3", "pos_4", "ABF1_pos5"]})
    # RAP1_pos3 is a second pattern matching RAP1; pos_4 is unmatched; ABF1_pos5 has no plain ABF1 pattern
    assert motif_of_pattern(t) == ["RAP1", "REB1", "RAP1", "pos_4", "ABF1_pos5"]
