"""Contribution scores (protocol 3.4.1, notes 22-26): completeness, linear models, planted motifs, shuffled null."""

import json
import os
import warnings

import numpy as np
import pytest

from seq2acc.interpret.attribution import contributions, null_contributions, shuffled_references
from seq2acc.model.predict import predict_logits
from seq2acc.interpret.null import null_test, significant_regions
from seq2acc.errors import ArgumentError
from seq2acc.model.zoo import build_model
from seq2acc.seq.encoding import onehot, onehot_codes

MOTIF = "TTACCCGG"


def _random_onehot(n, L, seed=0, n_run=None):
    codes = np.random.default_rng(seed).integers(0, 4, size=(n, L)).astype(np.uint8)
    if n_run:
        codes[1, n_run[0]:n_run[1]] = 4  # an N run in one sequence
    return onehot_codes(codes)


@pytest.fixture(scope="module")
def planted_model():
    """One conv filter = the one-hot of MOTIF (bias -(w-1): fires only on a full match), ReLU, max over positions."""
    import keras

    w = len(MOTIF)
    inp = keras.Input((120, 4))
    conv = keras.layers.Conv1D(1, w, name="motif")
    h = keras.layers.GlobalMaxPooling1D()(keras.layers.Activation("relu")(conv(inp)))
    out = keras.layers.Dense(1, name="logit")(h)
    model = keras.Model(inp, out)
    conv.set_weights([onehot(MOTIF)[:, :, None], np.array([-(w - 1.0)], np.float32)])
    model.get_layer("logit").set_weights([np.array([[3.0]], np.float32), np.array([-1.0], np.float32)])
    return model


def _with_motif(n, L=120, at=50, seed=1):
    rng = np.random.default_rng(seed)
    seqs = ["".join(rng.choice(list("ACG"), L)) for _ in range(n)]  # no T: no accidental partial matches
    return np.stack([onehot(s[:at] + MOTIF + s[at + len(MOTIF):]) for s in seqs])


@pytest.mark.parametrize("name,L", [("small", 200), ("basset", 300), ("residual", 300), ("residual_pooled", 1000)])
def test_deepshap_completeness(name, L):
    """Per sequence: sum of contributions = logit(x) - mean logit(references), to 1e-3 relative."""
    model = build_model({"name": name}, input_length=L, seed=3)
    x = _random_onehot(5, L, seed=1, n_run=(20, 45))
    contrib, hyp = contributions(model, x, "deepshap", n_refs=8, seed=4, batch_size=48)
    refs = shuffled_references(x, 8, seed=4)
    want = predict_logits(model, x, 0) - predict_logits(model, refs.reshape(-1, L, 4), 0).reshape(5, 8).mean(1)
    got = contrib.sum((1, 2))
    assert np.abs(got - want).max() <= 1e-3 * np.abs(want).max() + 1e-6
    # contributions sit on the actual base; hypothetical x one-hot gives them back (non-N rows)
    ok = x.sum(-1) == 1
    assert np.allclose(contrib[ok].sum(-1), (hyp * x)[ok].sum(-1), atol=1e-6)
    assert np.all(np.where(x[ok] == 0, contrib[ok], 0) == 0)


def test_deepshap_matches_shap_deepexplainer_and_is_batch_invariant():
    import shap

    model = build_model({"name": "small"}, input_length=150, seed=0)
    x = _random_onehot(3, 150, seed=2)
    c1, h1 = contributions(model, x, n_refs=6, seed=9, batch_size=12)  # one sequence per call
    c2, h2 = contributions(model, x, n_refs=6, seed=9, batch_size=1000)  # all at once
    assert np.allclose(c1, c2, atol=1e-6) and np.allclose(h1, h2, atol=1e-6)
    refs = shuffled_references(x, 6, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sv = np.asarray(shap.DeepExplainer(model, refs[1]).shap_values(x[1:2], check_additivity=False))
    assert np.allclose(sv.reshape(150, 4).sum(-1), c1[1].sum(-1), atol=1e-6)


def test_grad_x_input_on_linear_model_is_weights_times_input():
    import keras

    L = 30
    model = keras.Sequential([keras.Input((L, 4)), keras.layers.Flatten(), keras.layers.Dense(1)])
    W = np.random.default_rng(0).normal(size=(L * 4, 1)).astype(np.float32)
    model.layers[-1].set_weights([W, np.array([0.7], np.float32)])
    x = _random_onehot(4, L, seed=3)
    c, g = contributions(model, x, "grad_x_input", batch_size=3)
    Wm = W.reshape(L, 4)
    assert np.allclose(c, Wm[None] * x, atol=1e-6)
    assert np.allclose(g, np.broadcast_to(Wm, x.shape), atol=1e-6)
    # DeepSHAP on a linear model: W * (x - mean reference), exactly
    cd, hd = contributions(model, x, "deepshap", n_refs=5, seed=1)
    refs = shuffled_references(x, 5, seed=1)
    want = (Wm[None] * (x - refs.mean(1))).sum(-1)
    assert np.allclose(cd.sum(-1), want, atol=1e-5)


def test_ism_and_deepshap_find_the_planted_motif(planted_model):
    x = _with_motif(3)
    site = np.arange(50, 50 + len(MOTIF))
    c, hyp = contributions(planted_model, x, "ism", batch_size=256)
    per_pos = c.sum(-1)
    for s in range(3):
        assert set(np.argsort(per_pos[s])[-len(MOTIF):]) == set(site)
        assert np.all(np.delete(per_pos[s], site) == 0)
    # ISM definition: mutating a site base to any other base kills the match: -3 logit (3 * relu(1) -> 0)
    assert np.allclose(per_pos[:, site], 3.0 * 3 / 4)
    assert np.allclose(hyp.sum(-1), 0, atol=1e-5)
    cd, _ = contributions(planted_model, x, "deepshap", n_refs=10, seed=0)
    # GlobalMaxPooling (a max reduction) keeps completeness too
    refs = shuffled_references(x, 10, seed=0)
    want = predict_logits(planted_model, x, 0) - predict_logits(planted_model, refs.reshape(-1, 120, 4), 0).reshape(3, 10).mean(1)
    assert np.allclose(cd.sum((1, 2)), want, rtol=1e-3, atol=1e-5)
    for s in range(3):
        assert set(np.argsort(cd[s].sum(-1))[-len(MOTIF):]) == set(site)


def test_shuffled_null_marks_the_motif_significant(planted_model):
    x = _with_motif(6, seed=5)
    contrib, _ = contributions(planted_model, x, "deepshap", n_refs=10, seed=0)
    null_x, null_c = null_contributions(planted_model, x, n_shuffles=2, n_refs=10, seed=0)
    assert null_x.shape == (6, 2, 120, 4) and null_c.shape == (6, 2, 120, 4)
    # null sequences are dinucleotide shuffles: same composition as their originals
    assert (null_x.sum(2) == x[:, None].sum(2)).all()
    t = null_test(contrib, null_c, window=8, tail="greater")
    assert t.position_p.shape == (6, 120) and t.window_p.shape == (6, 113)
    assert (t.window_q[:, 50] < 0.05).all()
    reg = significant_regions(t, alpha=0.05)
    assert len(reg) >= 6 and all((r.start <= 50) and (r.end >= 58) for r in reg.itertuples() if r.start <= 58)
    assert (t.window_q[:, :30] > 0.05).mean() > 0.9  # away from the motif, mostly nothing
    # a shuffle against other shuffles (random CNN, continuous scores): p-values roughly uniform
    model = build_model({"name": "small"}, input_length=120, seed=1)
    _, nc = null_contributions(model, _random_onehot(10, 120, seed=8), n_shuffles=2, n_refs=4, seed=3)
    t0 = null_test(nc[:, 0], nc[:, 1], window=8, tail="abs")
    assert 0.4 < t0.position_p.mean() < 0.6 and (t0.position_q < 0.05).mean() < 0.01


def test_bad_input():
    model = build_model({"name": "small"}, input_length=200, seed=0)
    with pytest.raises(ArgumentError, match=r"argument 'onehot': sequences are 150 bp but the model takes 200 bp"):
        contributions(model, _random_onehot(1, 150), "grad_x_input")
    with pytest.raises(ArgumentError, match=r"argument 'method': 'integrated_gradients' is not a method"):
        contributions(model, _random_onehot(1, 200), "integrated_gradients")
    with pytest.raises(ArgumentError, match=r"argument 'task': task 3 does not exist"):
        contributions(model, _random_onehot(1, 200), "grad_x_input", task=3)


# ----------------------------------------------------------------------------- stages on a tiny project
REB1 = "GTTACCCGG"  # JASPAR MA0363 (Reb1) consensus


@pytest.fixture(scope="module")
def interp_project(tmp_path_factory):
    """Tiny genome with Reb1 sites under the target peaks; datasets, folds and untrained fold models (200 bp)."""
    import keras

    from conftest import make_project
    from seq2acc.config import Params
    from seq2acc.pipeline.dataset import build_dataset
    from seq2acc.pipeline.folds import build_folds
    from seq2acc.pipeline.genome import prepare_genome
    from seq2acc.pipeline.peaks import prepare_peaks

    sizes = {"chrA": 5000, "chrB": 4500, "chrC": 4000}
    sites = {c: list(range(600, n - 600, 500)) for c, n in sizes.items()}
    target = [(c, s - 50, s + 60) for c, ss in sites.items() for s in ss]
    d = make_project(tmp_path_factory.mktemp("interp"), sizes, target, n_folds=3, extra_params={
        "dataset.bin_size": 100, "dataset.context": 200, "peaks.min_width": 100,
        "train.folds": [0, 1, 2], "attribute.n_refs": 4, "attribute.batch_size": 64,
        "attribute.top_logos": 3, "attribute.logo_width": 40,
        "motif_scan.jaspar_ids": ["MA0363", "MA0265", "MA0266", "MA0267"], "motif_scan.central": None})
    fa = d / "data/raw/genome.fa"  # plant the sites into the random genome
    seqs, name = {}, None
    for line in fa.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:]
            seqs[name] = []
        else:
            seqs[name].append(line)
    with open(fa, "w") as fh:
        for c, parts in seqs.items():
            s = "".join(parts)
            for pos in sites[c]:
                s = s[:pos] + REB1 + s[pos + len(REB1):]
            fh.write(f">{c}\n{s}\n")
    cwd = os.getcwd()
    os.chdir(d)
    try:
        p = Params.load("params.yaml")
        prepare_genome(p)
        prepare_peaks(p)
        for c in sizes:
            build_dataset(p, c)
        build_folds(p)
        for k in range(3):
            (d / f"models/fold{k}").mkdir(parents=True)
            build_model({"name": "small"}, input_length=200, seed=k).save(d / f"models/fold{k}/model.keras")
    finally:
        os.chdir(cwd)
    keras.backend.clear_session()
    return d, sites


def test_attribute_and_motif_stages_end_to_end(interp_project, monkeypatch):
    import h5py
    import pandas as pd

    from seq2acc.config import Params
    from seq2acc.artifacts.contrib import read_attribution
    from seq2acc.pipeline.attribute import attribute_fold
    from seq2acc.pipeline.attribute_ensemble import attribute_ensemble
    from seq2acc.pipeline.motif_scan import motif_scan_fold
    from seq2acc.pipeline.motif_summary import motif_summary

    d, sites = interp_project
    monkeypatch.chdir(d)
    p = Params.load("params.yaml")
    folds = json.loads((d / "data/folds.json").read_text())["folds"]
    n_total = 0
    for k in range(3):
        out = attribute_fold(p, k)
        a = read_attribution(out / "contrib.h5")
        # default regions = the positive genome-wide bins of the fold's test chromosomes (held out)
        assert set(a.regions.chrom) <= set(folds[k]["test"]) and (a.regions.label == 1).all()
        assert a.onehot.shape == a.contrib.shape == a.hyp.shape == (len(a.regions), 200, 4)
        assert a.null_contrib.shape == (len(a.regions), 1, 200, 4)
        assert ((a.test.position_p > 0) & (a.test.position_p <= 1)).all()
        summary = json.loads((out / "summary.json").read_text())
        assert summary["completeness_max_rel_err"] < 1e-3 and (out / "logos.png").stat().st_size > 1000
        n_total += len(a.regions)
    ens = attribute_ensemble(p)
    with h5py.File(ens / "contrib.h5") as f:  # the keys `modisco motifs -i` reads
        assert f["hyp_scores"].shape == f["input_seqs"].shape == (n_total, 200, 4)
        assert (f["regions/n_models"][:] == 1).all() and sorted(set(f["regions/source_fold"][:])) == [0, 1, 2]
    for k in range(3):
        motif_scan_fold(p, k)
    motif_summary(p)
    hits = pd.read_csv(d / "motifs/folds/fold0/hits.tsv", sep="\t", skiprows=1)
    reb1 = hits[(hits["motif_name"].str.upper() == "REB1") & (hits["set"] == "positive")]
    planted = {(c, s) for c in folds[0]["test"] for s in sites[c]}
    assert planted <= set(zip(reb1["#chrom"], reb1.start))  # genome coordinates of the planted sites
    summ = json.loads((d / "motifs/summary.json").read_text())
    assert summ["target_rank"] == 1 and summ["top"][0].upper().startswith("REB1")


def test_attribute_regions_bed_gives_fold_means(interp_project, monkeypatch):
    from seq2acc.config import Params
    from seq2acc.artifacts.contrib import read_attribution
    from seq2acc.pipeline.attribute import attribute_fold
    from seq2acc.pipeline.attribute_ensemble import attribute_ensemble

    d, sites = interp_project
    monkeypatch.chdir(d)
    (d / "roi.bed").write_text("chrA\t1000\t1100\nchrB\t2000\t2010\nchrC\t0\t50\n")  # the last is too near the end
    p = Params.load("params.yaml")
    p.data["attribute"].update(regions="roi.bed", out_dir="attr_roi")
    sets = [read_attribution(attribute_fold(p, k) / "contrib.h5") for k in range(3)]
    assert [len(s.regions) for s in sets] == [2, 2, 2]
    assert sets[0].regions.start.tolist() == [950, 1905]  # centre -/+ 100
    e = read_attribution(attribute_ensemble(p) / "contrib.h5")
    assert (e.regions.n_models == 3).all() and (e.regions.source_fold == -1).all()
    assert np.allclose(e.contrib, np.mean([s.contrib for s in sets], axis=0), atol=1e-6)
    p.data["attribute"]["regions"] = "missing.bed"
    from seq2acc.errors import InputError

    with pytest.raises(InputError, match="missing.bed"):
        attribute_fold(p, 0)
