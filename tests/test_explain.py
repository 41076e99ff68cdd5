"""`seq2acc explain` / `seq2acc.explain` on a tiny trained project (issue 15): well-formed outputs whose values are
exactly the attribution library's for the same windows and model, planted motifs significant, and bad input named
with its fix."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import yaml

from test_evaluation import _project

N_REFS, SHUFFLES, BATCH = 4, 2, 64


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory):
    """The predict tests' project (3 chromosomes, 3 folds, a tiny 1000 bp model per fold), with few references and
    shuffles; nothing evaluated (explain needs no calibration)."""
    d = tmp_path_factory.mktemp("explain")
    p, g, sizes = _project(d)
    p.data["attribute"].update(n_refs=N_REFS, null_shuffles=SHUFFLES, batch_size=BATCH, top_logos=2, logo_width=40)
    (d / "params.yaml").write_text(yaml.safe_dump(p.data))
    return d, g, p


@pytest.fixture
def project(project_dir, monkeypatch):
    monkeypatch.chdir(project_dir[0])
    return project_dir


def _cli(*args):
    from seq2acc.cli import main

    main(["--params", "params.yaml", "explain", *args])


def _reference(model, x, p, method="deepshap"):
    """What the attribution library gives for these windows and this model (the attribute stage's calls)."""
    from seq2acc.interpret.attribution import contributions, null_contributions
    from seq2acc.interpret.null import null_test

    a = p.data["attribute"]
    c, _ = contributions(model, x, method, a["n_refs"], p.data["seed"], a["batch_size"], a["task"])
    _, nc = null_contributions(model, x, a["null_shuffles"], method, a["n_refs"], p.data["seed"], a["batch_size"],
                               a["task"])
    return c, null_test(c, nc, a["window"], a["tail"])


def test_region_tracks_are_the_attribution_of_the_same_windows(project):
    import pyBigWig

    from seq2acc.artifacts.tables import read_table
    from seq2acc.interpret.null import significant_regions
    from seq2acc.model.load import load_model
    from seq2acc.model.predict import predict_logits
    from seq2acc.seq.encoding import onehot_codes

    root, g, p = project
    # windows (1000 bp, centred): c1:1600-2600, c1:2550-3550 (overlaps the first by 50 bp), c3:2000-3000
    (root / "r.bed").write_text("c1\t2000\t2200\nc1\t3000\t3100\tpeak\nc3\t2400\t2600\n")
    _cli("--regions", "r.bed", "--model", "fold1", "--out", "ex")
    out = root / "ex"
    assert {f.name for f in out.iterdir()} == {"regions.tsv", "significant.bed", "contrib.h5", "contrib.bw",
                                               "qvalue_base.bw", "qvalue_window.bw", "logos.png", "explain.json"}
    model = load_model(root / "models/fold1/model.keras")
    starts = [("c1", 1600), ("c1", 2550), ("c3", 2000)]
    x = onehot_codes(np.stack([g.codes(c)[s:s + 1000] for c, s in starts]))
    c, test = _reference(model, x, p)
    per_base = c.sum(-1)
    bws = {n: pyBigWig.open(str(out / f"{n}.bw")) for n in ("contrib", "qvalue_base", "qvalue_window")}
    for bw in bws.values():
        assert bw.isBigWig() and bw.chroms() == {"c1": 6000, "c3": 5000}
    # each base from the window where it is most central: the two c1 windows meet half-way between their centres
    cut = (1600 + 2550 + 1000 + 1) // 2
    want = {"c1": np.concatenate([per_base[0, :cut - 1600], per_base[1, cut - 2550:]]), "c3": per_base[2]}
    got = {"c1": np.array(bws["contrib"].values("c1", 1600, 3550)), "c3": np.array(bws["contrib"].values("c3", 2000,
                                                                                                         3000))}
    for ch in want:
        np.testing.assert_array_equal(got[ch].astype(np.float32), want[ch])  # identical values
    assert np.isnan(bws["contrib"].values("c1", 1590, 1600)).all()  # outside every window: no value
    np.testing.assert_allclose(bws["qvalue_base"].values("c3", 2000, 3000), -np.log10(test.position_q[2]), rtol=1e-6)
    w = p.data["attribute"]["window"]
    np.testing.assert_allclose(bws["qvalue_window"].values("c3", 2000 + w // 2, 2000 + w // 2 + 991),
                               -np.log10(test.window_q[2]), rtol=1e-6)  # window j drawn on its centre j + w // 2
    # the table and the BED of significant windows
    tab = read_table(out / "regions.tsv")
    assert list(zip(tab.chrom, tab.start)) == starts and list(tab.region_start) == [2000, 3000, 2400]
    np.testing.assert_allclose(tab.logit, predict_logits(model, x, 0), rtol=1e-5)
    np.testing.assert_allclose(tab.contrib_sum, per_base.sum(1), rtol=1e-4, atol=1e-6)
    bed = read_table(out / "significant.bed")
    sig = significant_regions(test, p.data["attribute"]["alpha"])
    assert len(bed) == len(sig) and (bed.min_q < p.data["attribute"]["alpha"]).all()
    assert sorted(zip(bed.start, bed.end)) == sorted((starts[r.seq][1] + r.start, starts[r.seq][1] + r.end)
                                                     for r in sig.itertuples())
    info = json.loads((out / "explain.json").read_text())
    assert info["method"] == "deepshap" and info["null_shuffles"] == SHUFFLES and info["folds"] == [1]
    assert (out / "logos.png").stat().st_size > 1000


def test_fold_ensemble_is_the_mean_over_folds_and_sequences_match_regions(project, tmp_path):
    import h5py

    import seq2acc
    from seq2acc.model.load import load_model
    from seq2acc.seq.encoding import onehot_codes

    root, g, p = project
    s1 = "".join("ACGTN"[c] for c in g.codes("c1")[1600:2600])  # = the region window c1:1600-2600
    s2 = "".join("ACGTN"[c] for c in g.codes("c3")[100:1600])  # 1500 bp: tiled at 0 and 500
    e = seq2acc.explain({"a": s1, "b": s2}, "ensemble", out=tmp_path / "fa", method="grad_x_input", progress=False)
    assert list(zip(e.regions.chrom, e.regions.start)) == [("a", 0), ("b", 0), ("b", 500)]
    assert e.contrib.shape == e.hyp.shape == (3, 1000, 4) and e.per_base.shape == e.test.position_q.shape == (3, 1000)
    x = onehot_codes(np.stack([g.codes("c1")[1600:2600], g.codes("c3")[100:1100], g.codes("c3")[600:1600]]))
    per_fold = [_reference(load_model(root / f"models/fold{k}/model.keras"), x, p, "grad_x_input")[0] for k in range(3)]
    np.testing.assert_allclose(e.contrib, np.mean(per_fold, axis=0), rtol=1e-5, atol=1e-7)
    assert (e.regions.n_models == 3).all()
    # sequences give FASTA-style outputs: per-base values per record instead of bigWigs
    files = {f.name for f in (tmp_path / "fa").iterdir()}
    assert "bases.h5" in files and "contrib.h5" in files and not any(f.endswith(".bw") for f in files)
    with h5py.File(tmp_path / "fa" / "bases.h5") as f:
        assert [n.decode() for n in f["names"][:]] == ["a", "b"] and list(f["offsets"][:]) == [0, 1000, 2500]
        np.testing.assert_array_equal(f["contrib"][:1000], e.per_base[0])
        b = f["contrib"][1000:]
        np.testing.assert_array_equal(b[:750], e.per_base[1, :750])  # tiles meet half-way between centres
        np.testing.assert_array_equal(b[750:], e.per_base[2, 250:])
    # the same window given as a region: the same numbers (to float rounding: another batch shape)
    r = seq2acc.explain("c1:2000-2200", "ensemble", method="grad_x_input", progress=False)
    np.testing.assert_allclose(r.contrib[0], e.contrib[0], rtol=1e-4, atol=1e-8)
    assert r.regions.start.tolist() == [1600] and r.genomic and not e.genomic


def test_planted_motif_is_significant_where_the_model_learnt_it(project, tmp_path):
    """A model that learnt one motif (its only filter is the motif): explaining sequences with the motif planted
    at 500 marks that site, and little else, significant against the shuffled null."""
    import keras

    import seq2acc
    from seq2acc.seq.encoding import onehot

    motif = "TTACCCGG"
    inp = keras.Input((1000, 4))
    conv = keras.layers.Conv1D(1, len(motif), name="motif")
    out = keras.layers.Dense(1, name="logit")(keras.layers.GlobalMaxPooling1D()(keras.layers.Activation("relu")(
        conv(inp))))
    model = keras.Model(inp, out)
    conv.set_weights([onehot(motif)[:, :, None], np.array([-(len(motif) - 1.0)], np.float32)])
    model.get_layer("logit").set_weights([np.array([[3.0]], np.float32), np.array([-1.0], np.float32)])
    model.save(tmp_path / "motif.keras")
    rng = np.random.default_rng(2)
    seqs = ["".join(rng.choice(list("ACG"), 1000)) for _ in range(4)]  # no T: no other match
    seqs = [s[:500] + motif + s[508:] for s in seqs]
    e = seq2acc.explain(seqs, str(tmp_path / "motif.keras"), null_shuffles=3, progress=False)
    w = e.test.window
    assert (e.test.window_q[:, 500 + len(motif) - w:501] < e.attrs["alpha"]).any(1).all()  # windows on the site
    sig = e.significant
    assert set(sig.seq) == {0, 1, 2, 3} and ((sig.start <= 508) & (sig.end >= 500)).all()
    assert (e.test.position_q[:, :450] >= e.attrs["alpha"]).mean() > 0.95  # away from it, nothing much


@pytest.mark.parametrize("args, needle", [
    (["--region", "c1:10-500"], "too close to a chromosome end"),
    (["--region", "chrZ:1000-3000"], "are not in"),
    (["--fasta", "bad.fa"], "characters other than DNA letters"),
    (["--fasta", "short.fa"], "shorter than the model's 1000 bp input"),
    (["--region", "c1:2000-2100", "--model", "nonsense"], "no such model"),
    (["--region", "c1:2000-2100", "--model", "models:/nope@champion"], "no MLflow store at"),
    (["--region", "c1:2000-2100", "--out", "taken"], "is not an earlier `seq2acc explain` output"),
])
def test_bad_input_names_the_input_and_the_fix(project, args, needle, capsys, monkeypatch):
    root, g, p = project
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    (root / "short.fa").write_text(">s\n" + "ACGT" * 10 + "\n")
    (root / "bad.fa").write_text(">s\n" + "ACGU" * 300 + "\n")
    (root / "taken").mkdir(exist_ok=True)
    (root / "taken" / "mine.txt").write_text("keep me")
    if "--out" not in args:
        args = [*args, "--out", "bad_out"]
    with pytest.raises(SystemExit) as e:
        _cli(*args)
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert needle in err and "fix:" in err
    assert not (root / "bad_out").exists() and (root / "taken" / "mine.txt").read_text() == "keep me"
    assert not [f for f in os.listdir(root) if f.startswith(".bad_out") or f.startswith(".taken")]


def test_bad_api_input_names_the_sequence(project):
    import seq2acc
    from seq2acc.errors import InputError

    with pytest.raises(InputError, match=r"sequence 'seq2': characters other than DNA letters.*\n.*fix:"):
        seq2acc.explain(["ACGT" * 250, "ACGU" * 250], "fold0")
    with pytest.raises(InputError, match=r"'seq1' is 40 bp, shorter than the model's 1000 bp input"):
        seq2acc.explain(["ACGT" * 10], "fold0")
    with pytest.raises(InputError, match=r"one-hot input: sequences are 999 bp.*\n.*fix: give windows of exactly"):
        seq2acc.explain(np.zeros((2, 999, 4), np.float32), "fold0")
    with pytest.raises(InputError, match=r"missing\.bed: no such file"):
        seq2acc.explain("missing.bed", "fold0")
    with pytest.raises(InputError, match=r"regions table: chromosome\(s\) \['chrZ'\] are not in"):
        seq2acc.explain(pd.DataFrame({"chrom": ["chrZ"], "start": [1000], "end": [1100]}), "fold0")
