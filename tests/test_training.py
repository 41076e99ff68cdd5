"""Training, MLflow tracking/registry and promotion on a tiny genome with a planted, learnable motif.

Real TF/Keras and a real MLflow SQLite store in tmp_path; models and data are tiny (200 bp inputs, 1-3 epochs).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import shipped_params, write_fasta
from seq2acc.errors import ParamsError
from seq2acc.config import Params

MOTIF = "TTACCCGG"
SIZES = {"chrA": 40000, "chrB": 36000, "chrC": 32000}
TINY_MODEL = {"name": "small", "conv_filters": [8, 8], "conv_widths": [9, 5], "pool_sizes": [5, 2],
              "dense_units": [16], "dropout": 0.1, "conv_dropout": 0.0, "l2": 0.0}


def _toy_genome(seed=0):
    """Random chromosomes; every 600 bp a 100 bp 'peak' (on the 50 bp grid) with the motif at its centre."""
    rng = np.random.default_rng(seed)
    seqs, peaks = {}, []
    for c, n in SIZES.items():
        s = rng.choice(list("ACGT"), size=n)
        for start in range(300, n - 300, 400):
            mid = start + 50 - len(MOTIF) // 2
            motif = MOTIF if rng.random() < 0.5 else MOTIF[::-1].translate(str.maketrans("ACGT", "TGCA"))
            s[mid:mid + len(MOTIF)] = list(motif)
            peaks.append((c, start, start + 100))
        seqs[c] = "".join(s)
    return seqs, peaks


def make_toy_project(root: Path, model: dict | None = None, **train_overrides) -> Params:
    """Datasets, folds and params of a 3-chromosome toy genome (no DVC: the library functions directly)."""
    from seq2acc.data.bins import BinSpec, sample_examples
    from seq2acc.data.store import dataset_path, write_chrom_dataset
    from seq2acc.data.folds import make_folds
    from seq2acc.seq.encoding import encode

    root.mkdir(parents=True, exist_ok=True)
    (root / ".dvc").mkdir(exist_ok=True)  # marks the project root (MLflow artifacts go to <root>/mlartifacts)
    seqs, peaks = _toy_genome()
    write_fasta(root / "genome.fa", seqs)
    spec = BinSpec(100, 50, 200, 0.5)
    for c, s in seqs.items():
        ps = np.array([p[1] for p in peaks if p[0] == c]), np.array([p[2] for p in peaks if p[0] == c])
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        cb = sample_examples(spec, len(s), encode(s), ps, empty, empty, flank_bins=1, neg_ratio=1.5, seed=1)
        write_chrom_dataset(dataset_path(root / "datasets", c), c, len(s), spec, cb)
    folds = make_folds([["chrA"], ["chrB"], ["chrC"]])
    (root / "folds.json").write_text(json.dumps({"n_folds": 3, "folds": folds}))
    train = {"folds": [0, 1], "epochs": 2, "patience": 5, "batch_size": 16, "lr": 0.01, "rc_augment": True,
             "max_shift": 0, "genomewide_negatives": 1.0, "monitor": "val_loss", "out_dir": str(root / "models"),
             "plots_dir": str(root / "metrics/train"), "deterministic": True}
    train.update(train_overrides)
    data = {"seed": 7, "genome": {"fasta_out": str(root / "genome.fa")},
            "peaks": {"target": "data/raw/toyset/peaks/Toy1.bed"},
            "dataset": {"out_dir": str(root / "datasets"), "context": 200, "bin_size": 100},
            "folds": {"out": str(root / "folds.json")}, "model": {**TINY_MODEL, **(model or {})}, "train": train,
            "validate": {"report": str(root / "validation/summary.json")},
            "tracking": {"experiment": None, "model_name": None},
            "promote": {"out": str(root / "reports/train.json")},
            "evaluate": {"metrics_dir": str(root / "metrics"), "out_dir": str(root / "predictions")}}
    return Params(shipped_params(data), str(root / "params.yaml"))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A fresh MLflow SQLite store for this module (env var, as users override it)."""
    d = tmp_path_factory.mktemp("mlstore")
    old = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "DVC_ROOT")}
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{d / 'mlflow.db'}"
    os.environ["DVC_ROOT"] = str(d)
    yield d
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def trained(store, tmp_path_factory):
    """Folds 0 and 1 of the toy project trained, tracked and registered, then promoted."""
    from seq2acc.pipeline.promote import promote
    from seq2acc.pipeline.train import train_fold

    root = tmp_path_factory.mktemp("toy")
    p = make_toy_project(root)
    for k in (0, 1):
        train_fold(p, k)
    for k, cal in CALIBRATIONS.items():  # as evaluate@K writes it (fitted on the fold's validation chromosomes)
        (root / f"predictions/fold{k}").mkdir(parents=True, exist_ok=True)
        (root / f"predictions/fold{k}/info.json").write_text(json.dumps({"calibration": {"cnn": cal}}))
    summary = promote(p)
    return p, root, summary


CALIBRATIONS = {0: {"method": "platt", "a": 1.7, "b": -0.3}, 1: {"method": "platt", "a": 0.6, "b": 0.4}}


# ----------------------------------------------------------------------------- architecture
def _expected_basset_params(L, filters=(300, 200, 200), widths=(19, 11, 7), pools=(3, 4, 4), dense=(1000, 1000)):
    """Parameter count of Basset from its definition: conv (w*c_in + 1)*f, BN 4 per channel, dense (in + 1)*out."""
    n, c_in, length, shapes = 0, 4, L, []
    for f, w, pl in zip(filters, widths, pools):
        n += (w * c_in + 1) * f + 4 * f
        length = (length - w + 1) // pl
        c_in = f
        shapes.append((length, f))
    flat = length * c_in
    for u in dense:
        n += (flat + 1) * u + 4 * u
        flat = u
    return n + flat + 1, shapes


@pytest.mark.parametrize("L", [600, 1000])
def test_basset_matches_published_architecture(L):
    from seq2acc.model.zoo import build_model, trunk_stride

    m = build_model({"name": "basset"}, input_length=L)
    expected, shapes = _expected_basset_params(L)
    assert m.count_params() == expected
    convs = [layer for layer in m.layers if layer.name.startswith("conv")]
    assert [layer.filters for layer in convs] == [300, 200, 200]
    assert [layer.kernel_size[0] for layer in convs] == [19, 11, 7]
    assert all(layer.padding == "valid" for layer in convs)
    assert tuple(m.get_layer("trunk_out").output.shape[1:]) == shapes[-1]
    assert [m.get_layer(f"dense{i}").units for i in (1, 2)] == [1000, 1000]
    assert m.get_layer("dropout1").rate == pytest.approx(0.3)
    assert sum(type(layer).__name__ == "BatchNormalization" for layer in m.layers) == 5
    assert tuple(m.output.shape) == (None, 1) and m.get_layer("logit").activation.__name__ == "linear"
    assert trunk_stride(m) == 48


def test_small_model_trunk_stride_divides_grid_stride():
    from seq2acc.model.zoo import build_model, trunk_stride

    m = build_model({"name": "small"}, input_length=1000)
    assert 50 % trunk_stride(m) == 0
    assert m.get_layer("logit").activation.__name__ == "linear"


@pytest.mark.parametrize("name", ["residual", "residual_pooled", "basset_p50", "small"])
def test_zoo_models_share_their_trunk_and_say_how_many_positions_the_head_sees(name):
    from seq2acc.model.zoo import build_model, output_length, trunk_stride

    m = build_model({"name": name}, input_length=1000)
    assert 50 % trunk_stride(m) == 0  # genome-wide scoring shares the trunk between windows 50 bp apart
    assert m.get_layer("trunk_out").output.shape[1] == output_length({"name": name}, 1000)
    if name == "residual":  # 4 dilated layers (2, 4, 8, 16) of width 3 remove 60 positions before pooling
        assert output_length({"name": name}, 1000) == (1000 - 19 + 1 - 60) // 50
        assert output_length({"name": name, "dilated_layers": 0}, 1000) == (1000 - 19 + 1) // 50
    if name == "residual_pooled":  # pooled to 10 bp first (98 positions), the same tower removes 60 of them
        assert output_length({"name": name}, 1000) == ((1000 - 19 + 1) // 10 - 60) // 5
        assert m.get_layer("tower_pool").pool_size[0] == 10 and trunk_stride(m) == 50


def test_motif_initialised_filters_score_the_motif_and_its_reverse_complement():
    from seq2acc.model.zoo import build_model, init_first_filters
    from seq2acc.seq.encoding import onehot, reverse_complement

    rng = np.random.default_rng(0)
    pwm = np.log2(rng.dirichlet(np.ones(4) * 0.3, size=9) / 0.25 + 1e-3)  # a 9-bp motif, log-odds bits
    site = "".join("ACGT"[i] for i in pwm.argmax(1))
    m = build_model({"name": "small", "conv_filters": [8], "conv_widths": [19]}, input_length=200, seed=1)
    assert init_first_filters(m, [pwm], scale=2.0, threshold=0.5) == 2
    conv = m.get_layer("conv1")
    kernel, bias = conv.get_weights()
    assert np.allclose(bias[:2], -1.0)
    seq = "".join(rng.choice(list("ACGT"), 200))
    seq = seq[:100] + site + seq[109:]
    pre = np.asarray(conv(onehot(seq)[None].astype("float32")))[0] - bias  # (182, 8), before the bias
    rc = np.asarray(conv(reverse_complement(onehot(seq))[None].astype("float32")))[0] - bias
    # the best-scoring word scores exactly `scale` on its own filter (kernel centred: offset (19 - 9) // 2 = 5)
    assert pre[100 - 5, 0] == pytest.approx(2.0, abs=1e-5) and pre[:, 0].max() == pytest.approx(2.0, abs=1e-5)
    assert rc[:, 1].max() == pytest.approx(2.0, abs=1e-5)  # the RC filter finds the site on the other strand
    assert np.abs(kernel[:, :, 2:]).sum() > 0  # other filters keep their random start
    with pytest.raises(Exception, match="filters"):
        init_first_filters(m, [pwm] * 5)  # 10 filters needed, 8 there


# ----------------------------------------------------------------------------- params
@pytest.mark.parametrize("key,value,needle", [
    ("train.lr", -0.01, "train.lr"),
    ("train.lr", "fast", "train.lr"),
    ("train.epochs", 2.5, "train.epochs"),
    ("train.optimizer", "sgd", "train.optimizer"),
    ("train.batch_size", 0, "train.batch_size"),
    ("train.max_shift", 500, "train.max_shift"),
    ("train.class_weight", {1: -2}, "train.class_weight"),
    ("model.name", "resnet", "model.name"),
    ("model.conv_widths", [300, 9], "model.conv_widths"),
    ("model.conv_filters", [8, "8"], "model.conv_filters"),
    ("model.dropout", 1.5, "model.dropout"),
    ("model.norm", "group", "model.norm"),
    ("model.kernel", 3, "model.kernel"),
    ("model.dilated_width", 0, "model.dilated_width"),
    ("model.dilated_layers", -1, "model.dilated_layers"),
    ("train.motif_init", "reb1", "train.motif_init"),
    ("train.motif_init", ["MA9999"], "train.motif_init"),
])
def test_bad_params_fail_before_training(tmp_path, key, value, needle):
    from seq2acc.pipeline.train import train_fold

    p = make_toy_project(tmp_path)
    sect, k = key.split(".")
    p.data[sect][k] = value
    p.data["dataset"]["out_dir"] = str(tmp_path / "no-such-dir")  # would fail later if data were read first
    with pytest.raises(ParamsError) as e:
        train_fold(p, 0)
    assert needle in str(e.value) and "fix:" in str(e.value)
    assert not (tmp_path / "models").exists()


def test_failed_data_checks_stop_training(tmp_path):
    from seq2acc.errors import Seq2AccError
    from seq2acc.pipeline.train import train_fold

    p = make_toy_project(tmp_path)
    (tmp_path / "validation").mkdir()
    (tmp_path / "validation/summary.json").write_text(json.dumps({"success": False, "n_passed": 3, "n_checks": 4}))
    with pytest.raises(Seq2AccError, match="data checks failed"):
        train_fold(p, 0)
    assert not (tmp_path / "models").exists()


def test_missing_fold_names_the_param(tmp_path):
    from seq2acc.errors import Seq2AccError
    from seq2acc.pipeline.train import train_fold

    p = make_toy_project(tmp_path)
    with pytest.raises(Seq2AccError, match="train.folds"):
        train_fold(p, 7)


# ----------------------------------------------------------------------------- input
def test_epoch_source_uses_only_training_chromosomes_and_is_deterministic(tmp_path):
    from seq2acc.io.fasta import Genome
    from seq2acc.data.loader import fold_data
    from seq2acc.pipeline.train import train_config

    p = make_toy_project(tmp_path, genomewide_negatives=3.0)
    tc = train_config(p)
    g = Genome(tmp_path / "genome.fa")
    d = fold_data(g, tmp_path / "datasets", tmp_path / "folds.json", 0, tc, 200)
    assert set(d.fold["train"]) == {"chrC"} and d.fold["valid"] == ["chrB"] and d.fold["test"] == ["chrA"]
    t0, t1 = d.train.table(0), d.train.table(1)
    assert set(t0.chrom) == {"chrC"} and set(d.valid.table(0).chrom) == {"chrB"}
    n_pos = int((t0.label == 1).sum())
    assert (t0.source == 4).sum() == round(3.0 * n_pos) and (t0[t0.source == 4].label == 0).all()
    assert not t0.equals(t1)  # fresh genome-wide negatives each epoch
    assert t0.equals(d.train.table(0))  # ... but the same ones for the same epoch and seed
    xb = [x for x, _ in d.train.epoch_batches()]
    d.train.epoch = 0
    xb2 = [x for x, _ in d.train.epoch_batches()]
    assert all(np.array_equal(a, b) for a, b in zip(xb, xb2))


def test_genomewide_validation_set_is_every_bin_of_the_validation_chromosomes(tmp_path):
    from seq2acc.data.store import dataset_path, read_genomewide
    from seq2acc.io.fasta import Genome
    from seq2acc.data.loader import fold_data
    from seq2acc.pipeline.train import train_config

    p = make_toy_project(tmp_path, valid_set="genomewide", elsewhere_negatives=0, flank_negatives=1.0)
    tc = train_config(p)
    d = fold_data(Genome(tmp_path / "genome.fa"), tmp_path / "datasets", tmp_path / "folds.json", 0, tc, 200)
    v = d.valid.table(0)
    _, _, _, gw = read_genomewide(dataset_path(tmp_path / "datasets", "chrB"))
    assert len(v) == len(gw) and (v.chrom == "chrB").all() and v.label.sum() == gw.label.sum()
    assert np.array_equal(v.start.to_numpy(), gw.start.to_numpy())
    t = d.train.table(0)
    flank = t[t.source == 6]
    pos = np.sort(t[t.label == 1].bin_start.to_numpy())
    assert len(flank) and (flank.label == 0).all()
    assert all(np.min(np.abs(pos - b)) <= 3 * 50 for b in flank.bin_start)  # next to a positive bin


# ----------------------------------------------------------------------------- learning
def test_loss_goes_down_on_learnable_toy_task(tmp_path):
    from seq2acc.io.fasta import Genome
    from seq2acc.data.loader import fold_data
    from seq2acc.model.fit import build_and_fit
    from seq2acc.pipeline.train import validate_params

    p = make_toy_project(tmp_path, epochs=6, genomewide_negatives=0.0)
    tc, mc, context = validate_params(p)
    g = Genome(tmp_path / "genome.fa")
    d = fold_data(g, tmp_path / "datasets", tmp_path / "folds.json", 0, tc, context)
    _, h = build_and_fit(g, d, tc, mc, context)
    assert h["loss"][-1] < 0.7 * h["loss"][0]
    assert min(h["val_loss"]) < 0.55  # chance level is ln 2 = 0.693
    assert h["val_auprc"][h["best_epoch"] - 1] > 0.75


def test_collapsed_training_restarts_from_a_new_initialisation(tmp_path, monkeypatch):
    import seq2acc.model.fit as tr
    from seq2acc.data.loader import fold_data
    from seq2acc.io.fasta import Genome
    from seq2acc.pipeline.train import validate_params

    assert tr.constant_loss(np.array([0, 1, 0, 1])) == pytest.approx(np.log(2))
    calls = []

    def flaky(history, labels, tc, margin=0.97):
        calls.append(history["val_loss"][:])
        return len(calls) > 1  # the first attempt "collapsed"

    monkeypatch.setattr(tr, "learned_something", flaky)
    p = make_toy_project(tmp_path, epochs=1, restarts=2, genomewide_negatives=0.0)
    tc, mc, context = validate_params(p)
    g = Genome(tmp_path / "genome.fa")
    d = fold_data(g, tmp_path / "datasets", tmp_path / "folds.json", 0, tc, context)
    logged = []
    _, h = tr.build_and_fit(g, d, tc, mc, context, epoch_hook=lambda e, logs: logged.append((e, logs["attempt"])))
    assert [a["learned"] for a in h["attempts"]] == [False, True]
    assert h["seed"] == tc.seed + 1000 and len(calls) == 2
    assert logged == [(0, 0.0), (1, 1.0)]  # MLflow steps keep counting across attempts


def test_training_is_reproducible(tmp_path):
    from seq2acc.io.fasta import Genome
    from seq2acc.data.loader import fold_data
    from seq2acc.model.fit import build_and_fit
    from seq2acc.pipeline.train import validate_params

    p = make_toy_project(tmp_path, epochs=1)
    tc, mc, context = validate_params(p)
    g = Genome(tmp_path / "genome.fa")
    ws = []
    for _ in range(2):
        d = fold_data(g, tmp_path / "datasets", tmp_path / "folds.json", 0, tc, context)
        m, _ = build_and_fit(g, d, tc, mc, context)
        ws.append(m.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*ws))


# ----------------------------------------------------------------------------- tracking / registry
def test_fold_runs_are_tracked_with_lineage(trained):
    import mlflow
    from mlflow.tracking import MlflowClient

    p, root, _ = trained
    infos = [json.loads((root / f"models/fold{k}/mlflow_run.json").read_text()) for k in (0, 1)]
    client = MlflowClient()
    assert infos[0]["parent_run_id"] == infos[1]["parent_run_id"]  # one cross-validation parent
    parent = client.get_run(infos[0]["parent_run_id"])
    assert parent.info.status == "FINISHED" and "mean_val_loss" in parent.data.metrics
    for k, info in enumerate(infos):
        run = client.get_run(info["run_id"])
        assert run.info.status == "FINISHED"
        t = run.data.tags
        assert t["fold"] == str(k) and t["chromosomes.test"] == ",".join(json.loads(
            (root / "folds.json").read_text())["folds"][k]["test"])
        assert t["mlflow.parentRunId"] == info["parent_run_id"]
        assert any(key.startswith("input.") and key.endswith("folds.json") for key in t)
        assert "git_commit" in t and "dvc_stage" in t
        assert run.data.params["train.optimizer"] == "adam" and run.data.params["model.conv_filters"] == "[8, 8]"
        hist = client.get_metric_history(info["run_id"], "val_loss")
        assert len(hist) == json.loads((root / f"models/fold{k}/history.json").read_text())["epochs_run"]
        assert info["registered_model_name"] == "toyset-Toy1"
        assert (root / f"models/fold{k}/model.keras").exists()
        assert (root / f"metrics/train/fold{k}.csv").read_text().startswith("epoch,loss,val_loss")
    assert mlflow.get_tracking_uri().startswith("sqlite:///")


def _toy_sequences(n=12, L=200, seed=0):
    rng = np.random.default_rng(seed)
    seqs = ["".join(rng.choice(list("ACGT"), size=L)) for _ in range(n)]
    seqs[0] = seqs[0][:90] + MOTIF + seqs[0][98:]
    seqs[1] = seqs[1][:50].lower() + "N" * 10 + seqs[1][60:]  # lower case and N are DNA too
    return seqs


def _expected_ensemble(root, seqs):
    """Mean over folds of the calibrated, strand-averaged logits of each models/fold<K>/model.keras."""
    from seq2acc.evaluate.calibration import apply_calibration
    from seq2acc.model.load import load_model
    from seq2acc.model.predict import predict_logits
    from seq2acc.seq.encoding import onehot

    x = np.stack([onehot(s) for s in seqs])
    return x, np.mean([apply_calibration(predict_logits(load_model(root / f"models/fold{k}/model.keras"), x, 0,
                                                        rc_average=True), CALIBRATIONS[k]) for k in (0, 1)], axis=0)


def test_registry_champion_is_the_calibrated_fold_ensemble(trained):
    import mlflow
    import pandas as pd
    from mlflow.tracking import MlflowClient

    p, root, summary = trained
    name = summary["registered_model_name"]
    ens = summary["ensemble"]
    assert summary["champion_version"] == ens["version"] == summary["aliases"]["champion"]
    assert ens["folds"] == [0, 1] and ens["calibrated_folds"] == [0, 1] and ens["uncalibrated_folds"] == []
    mv = MlflowClient().get_model_version_by_alias(name, "champion")
    assert str(mv.version) == ens["version"] and mv.tags["kind"] == "ensemble" and mv.tags["folds"] == "0,1"
    assert "genomewide_auprc" not in mv.tags  # no metrics/headline.json in this project yet
    model = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert "keras" not in model.metadata.flavors
    seqs = _toy_sequences()
    x, expected = _expected_ensemble(root, seqs)
    out = model.predict(pd.DataFrame({"sequence": seqs}))
    assert list(out.columns) == ["logit", "probability"] and len(out) == len(seqs)
    np.testing.assert_allclose(out["logit"].to_numpy(), expected, atol=1e-5, rtol=0)
    np.testing.assert_allclose(out["probability"].to_numpy(), 1 / (1 + np.exp(-expected)), atol=1e-6)
    from_onehot = model.unwrap_python_model().predict(None, x)  # one-hot arrays (the signature is for strings)
    np.testing.assert_allclose(from_onehot["logit"].to_numpy(), out["logit"].to_numpy(), atol=1e-6, rtol=0)


def test_ensemble_rejects_bad_sequences_naming_row_and_fix(trained):
    import mlflow
    import pandas as pd

    from seq2acc.errors import InputError

    p, root, summary = trained
    model = mlflow.pyfunc.load_model(f"models:/{summary['registered_model_name']}@champion").unwrap_python_model()
    seqs = _toy_sequences(3)
    with pytest.raises(InputError, match=r"row 2: sequence is 150 bp but the model takes 200 bp[\s\S]*fix: give "
                       r"sequences of exactly 200 bp"):
        model.predict(None, pd.DataFrame({"sequence": seqs[:2] + [seqs[2][:150]]}))
    with pytest.raises(InputError, match=r"row 1: character 'X' at position 5 is not a DNA letter[\s\S]*fix: use only"):
        model.predict(None, pd.DataFrame({"sequence": [seqs[0], seqs[1][:5] + "X" + seqs[1][6:]]}))
    with pytest.raises(InputError, match="no 'sequence' column"):
        model.predict(None, pd.DataFrame({"seq": seqs}))
    with pytest.raises(InputError, match=r"one-hot \(n, 200, 4\)"):
        model.predict(None, np.zeros((2, 150, 4), np.float32))


def test_registry_champion_loads_in_a_fresh_process(trained):
    import subprocess
    import sys

    p, root, summary = trained
    seqs = _toy_sequences(4)
    _, expected = _expected_ensemble(root, seqs)
    code = ("import json, sys, mlflow, pandas as pd\n"
            f"m = mlflow.pyfunc.load_model('models:/{summary['registered_model_name']}@champion')\n"
            "print(json.dumps(m.predict(pd.DataFrame({'sequence': json.loads(sys.argv[1])}))['logit'].tolist()))")
    res = subprocess.run([sys.executable, "-c", code, json.dumps(seqs)], capture_output=True, text=True,
                         timeout=300, env=dict(os.environ))
    assert res.returncode == 0, res.stderr[-3000:]
    np.testing.assert_allclose(json.loads(res.stdout.strip().splitlines()[-1]), expected, atol=1e-5, rtol=0)


def test_mlflow_models_serve_answers_dna_sequences_with_the_ensemble(trained):
    """A real `mlflow models serve` of `@champion`: POST DNA strings, get the ensemble's logits (issue 15)."""
    import shutil
    import subprocess
    import sys
    import urllib.request

    from conftest import free_port, stop_process_group, wait_http

    p, root, summary = trained
    mlflow_bin = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or shutil.which("mlflow")
    assert mlflow_bin, "the mlflow CLI is part of the pinned environment"
    port = free_port()
    server = subprocess.Popen([mlflow_bin, "models", "serve", "-m", f"models:/{summary['registered_model_name']}@champion",
                               "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
                              env={**os.environ, "PATH": f"{Path(mlflow_bin).parent}{os.pathsep}{os.environ['PATH']}"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/ping", server, timeout=240)
        seqs = _toy_sequences(3)
        _, expected = _expected_ensemble(root, seqs)
        # the plain list of DNA strings the issue asks for, and MLflow's column-oriented records
        for payload in ({"inputs": seqs}, {"dataframe_records": [{"sequence": s} for s in seqs]}):
            req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=json.dumps(payload).encode(),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=120) as r:
                preds = json.loads(r.read())["predictions"]
            np.testing.assert_allclose([row["logit"] for row in preds], expected, atol=1e-5, rtol=0)
            assert all(0 < row["probability"] < 1 for row in preds)
    finally:
        stop_process_group(server)


def test_registry_best_fold_gives_identical_predictions(trained):
    import keras
    import mlflow

    p, root, summary = trained
    v = summary["best_fold_version"]
    assert summary["aliases"]["best_fold"] == v
    fold = next(int(k[4:]) for k, f in summary["folds"].items() if f["version"] == v)
    local = keras.models.load_model(root / f"models/fold{fold}/model.keras")
    remote = mlflow.keras.load_model(f"models:/{summary['registered_model_name']}@best_fold")
    x = np.random.default_rng(0).random((16, 200, 4)).astype(np.float32)
    assert np.array_equal(np.asarray(local(x)), np.asarray(remote(x)))
    assert summary["criterion"] == "val_loss"
    best = min(summary["folds"].values(), key=lambda f: f["val_loss"])
    assert best["version"] == v


def test_promotion_uses_auprc_and_only_moves_on_improvement(trained):
    from mlflow.tracking import MlflowClient

    from seq2acc.pipeline.promote import promote

    p, root, first = trained
    name = first["registered_model_name"]
    client = MlflowClient()
    versions = {k: f["version"] for k, f in first["folds"].items()}
    for k, auprc in (("fold0", 0.30), ("fold1", 0.55)):
        (root / "metrics" / k).mkdir(parents=True, exist_ok=True)
        (root / "metrics" / k / "evaluate.json").write_text(json.dumps({"genomewide": {"auprc": auprc}}))
    # an older best_fold (not among the current folds) that scored better than any candidate: kept
    src = client.get_model_version(name, versions["fold0"])
    old = client.create_model_version(name, src.source, run_id=src.run_id).version
    client.set_model_version_tag(name, old, "genomewide_auprc", "0.9")
    client.set_registered_model_alias(name, "best_fold", old)
    s = promote(p)
    assert s["criterion"] == "genomewide_auprc" and not s["promoted"] and s["best_fold_version"] == str(old)
    # same folds and calibrations: the ensemble version is reused, and stays champion
    assert s["ensemble"]["reused"] and s["champion_version"] == first["champion_version"]
    assert str(client.get_model_version_by_alias(name, "champion").version) == first["champion_version"]
    # the best_fold scored worse: the best candidate (fold1, AUPRC 0.55) takes the alias
    client.set_model_version_tag(name, old, "genomewide_auprc", "0.1")
    s = promote(p)
    assert s["promoted"] and s["best_fold_version"] == versions["fold1"]
    assert str(client.get_model_version_by_alias(name, "best_fold").version) == versions["fold1"]
    assert client.get_model_version(name, versions["fold1"]).tags["genomewide_auprc"] == "0.55"
    report = json.loads((root / "reports/train.json").read_text())
    assert report["best_fold_version"] == versions["fold1"] and report["aliases"]["best_fold"] == versions["fold1"]
    # a new calibration (evaluate@1 re-run) and a cross-validation headline: a new ensemble version is champion
    (root / "metrics/headline.json").write_text(json.dumps({"pooled_auprc": 0.42}))
    (root / "predictions/fold1/info.json").write_text(json.dumps({"calibration": {"cnn": {"a": 2.0, "b": 0.0}}}))
    try:
        s = promote(p)
    finally:
        (root / "predictions/fold1/info.json").write_text(json.dumps({"calibration": {"cnn": CALIBRATIONS[1]}}))
    assert not s["ensemble"]["reused"] and int(s["champion_version"]) > int(first["champion_version"])
    mv = client.get_model_version_by_alias(name, "champion")
    assert str(mv.version) == s["champion_version"] and mv.tags["genomewide_auprc"] == "0.42"
    assert report["champion_version"] == first["champion_version"]  # the report of the promotion before
    assert json.loads((root / "reports/train.json").read_text())["champion_version"] == s["champion_version"]


def test_ensemble_without_a_calibration_uses_the_identity_and_says_so(trained, tmp_path):
    from seq2acc.mlops.ensemble_model import FoldEnsemble  # noqa: F401 - importable without a run
    from seq2acc.artifacts.fold_calibration import fold_calibrations

    (tmp_path / "fold0").mkdir()
    (tmp_path / "fold0/info.json").write_text(json.dumps({"calibration": {"cnn": CALIBRATIONS[0]}}))
    assert fold_calibrations([0, 1], tmp_path) == {0: CALIBRATIONS[0]}
    assert fold_calibrations([0, 1], tmp_path, require_all=True) is None


# ----------------------------------------------------------------------------- faults
def test_interrupted_training_leaves_nothing_and_marks_run_failed(store, tmp_path, monkeypatch):
    import mlflow.keras
    from mlflow.tracking import MlflowClient

    from seq2acc.mlops import tracking
    from seq2acc.pipeline.train import train_fold

    p = make_toy_project(tmp_path, epochs=1, folds=[2])
    p.data["tracking"]["experiment"] = "interrupt-test"

    def boom(*a, **k):  # the model file is already written in the temporary directory at this point
        raise KeyboardInterrupt("simulated Ctrl-C")

    monkeypatch.setattr(mlflow.keras, "log_model", boom)
    with pytest.raises(KeyboardInterrupt):
        train_fold(p, 2)
    models = tmp_path / "models"
    assert not (models / "fold2").exists()
    assert not models.exists() or list(models.iterdir()) == []  # no temporary leftovers either
    exp = tracking.setup("interrupt-test")
    runs = MlflowClient().search_runs([exp], filter_string="tags.fold = '2'")
    assert [r.info.status for r in runs] == ["FAILED"]
    monkeypatch.undo()
    out = train_fold(p, 2)  # re-running works
    assert (out / "model.keras").exists() and (out / "mlflow_run.json").exists()


def test_outputs_of_folds_not_run_are_removed(tmp_path):
    from seq2acc.artifacts.fold_model import prune_other_folds

    for name in ("fold0", "fold3", "fold12"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "evaluate.json").write_text("{}")
    for name in ("fold0.csv", "fold3.csv", "summary.json", "folds.json"):
        (tmp_path / name).write_text("x")
    gone = prune_other_folds(tmp_path, [0, 12], "metrics")
    assert sorted(g.name for g in gone) == ["fold3", "fold3.csv"]
    assert sorted(f.name for f in tmp_path.iterdir()) == ["fold0", "fold0.csv", "fold12", "folds.json", "summary.json"]


# ----------------------------------------------------------------------------- seed ensembles (train.seeds)
@pytest.mark.parametrize("cfg", [{"name": "small", "conv_filters": [6]},
                                 {"name": "residual_pooled", "conv_filters": [4], "norm": "batch"},
                                 {**TINY_MODEL, "dense_units": [], "norm": "batch"}])
def test_merged_seed_ensemble_is_exactly_the_mean_of_its_members(cfg):
    from seq2acc.model.seed_ensemble import merge_members
    from seq2acc.model.zoo import build_model

    rng = np.random.default_rng(0)
    members = [build_model(cfg, 1000, seed=s) for s in (1, 2, 3)]
    for m in members:  # perturb every weight (biases, batch-norm statistics) so nothing is trivially zero/one
        for lay in m.layers:
            ws = lay.get_weights()
            if ws:
                lay.set_weights([w + rng.normal(0, 0.1, w.shape).astype(np.float32) if "norm" not in lay.name
                                 else np.abs(w) + 0.5 for w in ws])
    merged, mcfg = merge_members(members, cfg, 1000)
    assert mcfg["groups"] == 3 and mcfg["conv_filters"][0] == 3 * members[0].get_layer("conv1").filters
    x = rng.random((5, 1000, 4)).astype(np.float32)
    want = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    assert np.abs(merged.predict(x, verbose=0) - want).max() < 1e-5
    assert np.abs(members[0].predict(x, verbose=0) - want).max() > 1e-3  # the members do differ


def test_train_seeds_registers_one_merged_model_whose_members_had_their_own_seeds(store, tmp_path):
    from seq2acc.errors import ArgumentError, ParamsError
    from seq2acc.model.load import load_model
    from seq2acc.model.seed_ensemble import MEMBER_SEED_STEP, merged_config
    from seq2acc.pipeline.train import train_fold

    with pytest.raises(ArgumentError, match="seeds"):
        merged_config(TINY_MODEL, 2)  # hidden dense layers would mix the members
    with pytest.raises(ParamsError, match="train.seeds"):  # refused before any data is read
        train_fold(make_toy_project(tmp_path / "dense", seeds=2), 0)
    p = make_toy_project(tmp_path, model={"dense_units": []}, epochs=1, genomewide_negatives=0.0, restarts=0,
                         seeds=2)
    out = train_fold(p, 0)
    cfg = json.loads((out / "config.json").read_text())
    h = json.loads((out / "history.json").read_text())
    assert cfg["seeds"] == 2 and cfg["model"]["conv_filters"] == [16, 16] and cfg["model"]["groups"] == 2
    assert [a["seed"] for a in h["attempts"]] == [7, 7 + MEMBER_SEED_STEP] and len(h["members"]) == 2
    assert load_model(out / "model.keras").get_layer("conv2").groups == 2
    run = json.loads((out / "mlflow_run.json").read_text())
    assert run["best_val_loss"] == pytest.approx(h["ensemble"]["val_loss"])  # promotion compares the ensemble
