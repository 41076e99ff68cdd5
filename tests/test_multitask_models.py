"""Several tasks through training and evaluation (issue 16, second half): the masked per-task loss and metrics, the
(n, n_tasks) training input, one output per task, per-task genome-wide metrics and baselines, and a tiny 3-task
project through every stage up to cv_summary. Tiny data, real Keras / MLflow / scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import random_seqs, write_fasta
from seq2acc.data.store import MISSING_LABEL

RNG = np.random.default_rng(11)


# ----------------------------------------------------------------------------- the masked loss, by hand
def _softplus(z):
    return np.logaddexp(0.0, z)


def test_masked_loss_ignores_missing_labels_and_equals_the_hand_computation():
    """Mean over LABELLED entries of w * (softplus(z) - y z); a missing label (255 or NaN) contributes nothing,
    whatever the logit there, and gets no gradient."""
    import tensorflow as tf

    from seq2acc.model.losses import TaskLoss

    y = np.array([[1, 0, MISSING_LABEL], [0, MISSING_LABEL, 1], [1, 1, 0], [MISSING_LABEL, 0, np.nan]], np.float32)
    z = RNG.normal(size=y.shape).astype(np.float32) * 2
    w = np.array([[1.0, 2.0, 3.0], [0.5, 1.0, 2.0], [1.0, 1.0, 1.0], [4.0, 1.5, 1.0]], np.float32)
    lab = np.isfinite(y) & (y != MISSING_LABEL)
    yy = np.where(lab, y, 0).astype(np.float64)
    per = _softplus(z.astype(np.float64)) - yy * z
    hand = float((per * w * lab).sum() / lab.sum())                 # 8 labelled of 12 entries
    hand_unweighted = float((per * lab).sum() / lab.sum())
    loss = TaskLoss("bce")
    assert float(loss(y, z, sample_weight=w)) == pytest.approx(hand, rel=1e-6)
    assert float(loss(y, z)) == pytest.approx(hand_unweighted, rel=1e-6)
    # per-example weights (one per row) weigh every labelled entry of the row
    wr = np.array([1.0, 2.0, 0.5, 3.0], np.float32)
    assert float(loss(y, z, sample_weight=wr)) == pytest.approx(float((per * wr[:, None] * lab).sum() / lab.sum()),
                                                                 rel=1e-6)
    # anything at a missing entry: the same loss, zero gradient there
    z2 = np.where(lab, z, 1e3).astype(np.float32)
    assert float(loss(y, z2, sample_weight=w)) == pytest.approx(hand, rel=1e-6)
    zt = tf.Variable(z)
    with tf.GradientTape() as tape:
        val = loss(y, zt, sample_weight=w)
    g = tape.gradient(val, zt).numpy()
    assert np.all(g[~lab] == 0) and np.all(g[lab] != 0)
    # the regression loss has the same mask
    assert float(TaskLoss("mse")(y, z)) == pytest.approx(float((((z - yy) ** 2) * lab).sum() / lab.sum()), rel=1e-6)
    # a batch without any label weighs nothing (no NaN)
    assert float(loss(np.full((2, 3), MISSING_LABEL, np.float32), z[:2])) == 0.0


def test_one_task_loss_and_metrics_are_bitwise_kerass():
    """One task, every label present: exactly Keras's BinaryCrossentropy(from_logits) / MSE / AUC / MAE, with and
    without class weights (the default project's numbers do not move)."""
    import keras

    from seq2acc.model.losses import TaskAUC, TaskLoss, TaskMeanAbsoluteError

    y = (RNG.random((257, 1)) < 0.3).astype(np.float32)
    z = RNG.normal(size=(257, 1)).astype(np.float32)
    w = np.where(y[:, 0] > 0.5, 2.5, 0.7).astype(np.float32)
    for sw in (None, w):
        assert np.float32(TaskLoss("bce")(y, z, sample_weight=sw)) == \
            np.float32(keras.losses.BinaryCrossentropy(from_logits=True)(y, z, sample_weight=sw))
        assert np.float32(TaskLoss("mse")(y, z, sample_weight=sw)) == \
            np.float32(keras.losses.MeanSquaredError()(y, z, sample_weight=sw))
        for curve in ("PR", "ROC"):
            ours, theirs = TaskAUC(curve), keras.metrics.AUC(curve=curve, from_logits=True, num_thresholds=1000)
            ours.update_state(y, z, sw)
            theirs.update_state(y, z, sw)
            assert float(ours.result()) == float(theirs.result())
        ours, theirs = TaskMeanAbsoluteError(), keras.metrics.MeanAbsoluteError()
        ours.update_state(y, z, sw)
        theirs.update_state(y, z, sw)
        assert float(ours.result()) == float(theirs.result())


def test_task_auc_is_per_task_over_labelled_entries_and_their_mean():
    import keras

    from seq2acc.model.losses import TaskAUC

    y = (RNG.random((400, 3)) < [0.2, 0.4, 0.1]).astype(np.float32)
    z = (RNG.normal(size=(400, 3)) + 1.5 * y).astype(np.float32)
    y[RNG.random((400, 3)) < 0.2] = MISSING_LABEL
    per = []
    for t in range(3):
        m = TaskAUC("PR", t, 3)
        m.update_state(y, z)
        keep = y[:, t] != MISSING_LABEL
        ref = keras.metrics.AUC(curve="PR", from_logits=True, num_thresholds=1000)
        ref.update_state(y[keep, t:t + 1], z[keep, t:t + 1])
        assert float(m.result()) == pytest.approx(float(ref.result()), abs=1e-6)
        per.append(float(m.result()))
    mean = TaskAUC("PR", None, 3)
    mean.update_state(y, z)
    assert float(mean.result()) == pytest.approx(np.mean(per), abs=1e-6)
    assert len(set(np.round(per, 4))) == 3  # three different tasks, not one pooled curve


def test_class_weights_and_the_collapse_check_are_per_task():
    """balanced weights and the constant predictor use each task's own positive rate over its labelled entries."""
    from types import SimpleNamespace

    from seq2acc.model.fit import constant_loss, learned_something, resolve_class_weight

    y = np.zeros((100, 2), np.float32)
    y[:10, 0] = 1                       # task 0: 10 % positive
    y[:40, 1] = 1                       # task 1: 40 % positive of its 80 labelled entries
    y[80:, 1] = MISSING_LABEL
    tc = SimpleNamespace(class_weight="balanced", task="classification")
    w = resolve_class_weight(tc, y)
    assert w[0] == pytest.approx({0: 100 / 180, 1: 100 / 20}) and w[1] == pytest.approx({0: 80 / 80, 1: 80 / 80})

    def h(q):
        return -(q * np.log(q) + (1 - q) * np.log(1 - q))

    want = (100 * h(0.1) + 80 * h(0.5)) / 180     # the mean over labelled entries of each task's constant loss
    assert constant_loss(y) == pytest.approx(want)
    assert constant_loss(y[:, :1]) == pytest.approx(h(0.1)) == constant_loss(y[:, 0])
    hist = {"val_loss": [0.99 * want, 0.9 * want], "best_epoch": 2}
    assert learned_something(hist, y, tc) and not learned_something({**hist, "best_epoch": 1}, y, tc)


def test_evaluation_leaves_bins_without_a_label_out_of_their_task():
    from seq2acc.pipeline.evaluate import _task_table

    df = pd.DataFrame({"bin_start": [0, 50, 100], "start": [0, 50, 100], "label:a": [1, MISSING_LABEL, 0],
                       "label:b": [0, 1, 0], "n_frac": [0.0, 0.0, 0.0]})
    a = _task_table(df, "label:a", np.array([2.0, 9.0, 0.0]))
    assert a.bin_start.tolist() == [0, 100] and a.label.tolist() == [1, 0] and a.cnn.tolist() == [2.0, 0.0]
    assert _task_table(df, "label:b").label.tolist() == [0, 1, 0]


# ----------------------------------------------------------------------------- the (n, n_tasks) training input
def test_batches_carry_the_label_rows_and_pools_are_negative_for_every_task(tmp_path):
    from seq2acc.data.bins import BinSpec, sample_examples
    from seq2acc.data.loader import BatchSource, genomewide_pools, make_dataset
    from seq2acc.data.store import label_columns, read_genomewide, write_chrom_dataset
    from seq2acc.io.fasta import Genome

    seqs = random_seqs({"c1": 6000}, 2)
    g = Genome(write_fasta(tmp_path / "g.fa", seqs))
    spec = BinSpec(200, 50, 400, 0.5)
    a = (np.array([1000, 3000]), np.array([1300, 3300]))
    b = (np.array([1100, 4500]), np.array([1400, 4800]))           # overlaps a's first peak
    empty = (np.zeros(0, np.int64),) * 2
    cb = sample_examples(spec, 6000, g.codes("c1"), [a, b], empty, empty, seed=3)
    write_chrom_dataset(tmp_path / "c1.h5", "c1", 6000, spec, cb, task_names=["a", "b"])
    cols = label_columns(["a", "b"])
    _, _, _, gw = read_genomewide(tmp_path / "c1.h5", tasks=True)
    pools = genomewide_pools(tmp_path, ["c1"], ("random", "flank"), None, 2)
    for kind, pool in pools.items():
        assert len(pool) and not pool[cols].to_numpy().any(), kind  # 0 for every task
        assert set(pool.bin_start) <= set(gw.bin_start[~gw[cols].to_numpy().any(axis=1)])
    # b's positives that are a's negatives are not in the random pool (they would be drawn as 0 for b)
    only_b = set(gw.bin_start[(gw["label:b"] == 1) & (gw["label:a"] == 0)])
    assert only_b and not only_b & set(pools["random"].bin_start)
    table = gw.assign(chrom="c1", chrom_size=6000)
    src = BatchSource(g, table, batch_size=16, shuffle=False, context=400, label_columns=cols)
    ys = np.concatenate([y for _, y in src.epoch_batches()])
    assert ys.shape == (len(gw), 2) and (ys == gw[cols].to_numpy()).all()
    # class weights per task, per entry
    w = {0: 1.0, 1: 3.0}, {0: 0.5, 1: 7.0}
    for x, y, ww in make_dataset(BatchSource(g, table, batch_size=16, shuffle=False, context=400, label_columns=cols),
                                 list(w)):
        y, ww = y.numpy(), ww.numpy()
        assert ww.shape == y.shape == (len(y), 2)
        for t in range(2):
            assert (ww[:, t] == np.where(y[:, t] > 0.5, w[t][1], w[t][0])).all()


# ----------------------------------------------------------------------------- a tiny 3-task project, every stage
MOTIF_A, MOTIF_B = "TTACCCGG", "CACGTGAC"          # A: the REB1 core (task A's PWM baseline MA0363 finds it)
SIZES = {"chr1": 30000, "chr2": 28000, "chr3": 26000}
TASKS = ("A", "B", "C")


def _planted_genome(seed: int = 5):
    """Random chromosomes; a site every 400 bp holds motif A, motif B or both (cycling, so every chromosome has
    each kind). Task A = sites with A, task B = sites with B, task C = sites with both: overlapping tasks."""
    rng = np.random.default_rng(seed)
    seqs, events = {}, {t: [] for t in TASKS}
    for c, n in SIZES.items():
        s = rng.choice(list("ACGT"), size=n)
        for i, centre in enumerate(range(500, n - 500, 400)):
            kind = ("A", "B", "AB")[i % 3]
            if "A" in kind:
                s[centre - 12:centre - 4] = list(MOTIF_A)
                events["A"].append((c, centre, centre + 1))
            if "B" in kind:
                s[centre + 4:centre + 12] = list(MOTIF_B)
                events["B"].append((c, centre, centre + 1))
            if kind == "AB":
                events["C"].append((c, centre, centre + 1))
        seqs[c] = "".join(s)
    return seqs, events


def _task(name, peaks, jaspar_id=None):
    return {"name": name, "peaks": peaks, "signal": None, "jaspar_id": jaspar_id, "min_width": 200}


def _three_task_params(root):
    import yaml

    from conftest import shipped_params, write_bed

    raw = root / "data/raw/mt/peaks"
    raw.mkdir(parents=True)
    seqs, events = _planted_genome()
    write_fasta(root / "data/raw/genome.fa", seqs)
    for t, rows in events.items():
        write_bed(raw / f"{t}.bed", rows)
    data = shipped_params({
        "seed": 3, "genome": {"fasta": "data/raw/genome.fa"},
        "peaks": {"target": None, "elsewhere": [], "blacklist": None,
                  "tasks": [_task("A", "data/raw/mt/peaks/A.bed", "MA0363"), _task("B", "data/raw/mt/peaks/B.bed"),
                            _task("C", "data/raw/mt/peaks/C.bed", "MA0265")]},
        "dataset": {"chromosomes": list(SIZES), "context": 400},
        "folds": {"n_folds": 3},
        "model": {"name": "small", "conv_filters": [16], "conv_widths": [9], "l2": 0.0},
        "train": {"folds": [0, 1, 2], "epochs": 6, "patience": 3, "batch_size": 32, "lr": 0.02,
                  "genomewide_negatives": 2, "restarts": 0, "class_weight": "balanced"},
        "evaluate": {"chunk_windows": 64},
        "baselines": {"kmer": {"k": 4, "C": [0.01, 1.0], "genomewide_negatives": 2}},
        "attribute": {"method": "grad_x_input", "max_regions": 12, "top_logos": 2}})
    (root / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def mt_project(tmp_path_factory):
    """The 3-task project through genome, peaks, datasets, folds, validate, train@0-2, evaluate@0-2, cv_summary
    and promote (the stage bodies dvc.yaml runs), with its own MLflow store."""
    import contextlib

    from seq2acc.config import Params
    from seq2acc.pipeline.cv_summary import cv_summary
    from seq2acc.pipeline.dataset import build_dataset
    from seq2acc.pipeline.evaluate import evaluate_fold
    from seq2acc.pipeline.folds import build_folds
    from seq2acc.pipeline.genome import prepare_genome
    from seq2acc.pipeline.peaks import prepare_peaks
    from seq2acc.pipeline.promote import promote
    from seq2acc.pipeline.train import train_fold
    from seq2acc.pipeline.validate import validate

    root = tmp_path_factory.mktemp("mt")
    (root / ".dvc").mkdir()
    _three_task_params(root)
    with contextlib.chdir(root), pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        mp.setenv("DVC_ROOT", str(root))
        p = Params.load("params.yaml")
        prepare_genome(p)
        prepare_peaks(p)
        for c in SIZES:
            build_dataset(p, c)
        build_folds(p)
        validate(p)
        for k in (0, 1, 2):
            train_fold(p, k)
        metrics = {k: evaluate_fold(p, k) for k in (0, 1, 2)}
        summary = cv_summary(p)
        promoted = promote(p)
        yield {"root": root, "p": p, "metrics": metrics, "summary": summary, "promoted": promoted}


def test_one_model_per_fold_with_one_output_per_task_and_per_task_validation_auprc(mt_project):
    import json
    import zipfile

    import mlflow

    from seq2acc.model.load import load_model

    root = mt_project["root"]
    for k in (0, 1, 2):
        d = root / f"models/fold{k}"
        cfg = json.loads((d / "config.json").read_text())
        assert cfg["task_names"] == list(TASKS)
        assert load_model(d / "model.keras").outputs[0].shape[-1] == 3
        with zipfile.ZipFile(d / "model.keras") as z:  # saved without compile state: plain Keras loads it
            assert not json.loads(z.read("config.json")).get("compile_config")
        h = json.loads((d / "history.json").read_text())
        for e in range(h["epochs_run"]):  # early stopping's val_auprc: the mean over tasks of each task's
            assert h["val_auprc"][e] == pytest.approx(np.mean([h[f"val_auprc/{t}"][e] for t in TASKS]), abs=1e-5)
        # balanced class weights: per task, from that task's training labels (C is the rarest: heaviest positives)
        cw = h["class_weight"]
        assert len(cw) == 3 and cw[2]["1"] > cw[0]["1"] and cw[2]["1"] > cw[1]["1"]
        run = json.loads((d / "mlflow_run.json").read_text())
        assert run["experiment"] == "seq2acc/mt/A" and run["registered_model_name"] == "mt-A"
        logged = mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}").get_run(run["run_id"]).data
        assert {f"val_auprc/{t}" for t in TASKS} | {f"train_auprc/{t}" for t in TASKS} <= set(logged.metrics)
        assert logged.tags["tasks"] == "A,B,C"
    assert mt_project["promoted"]["registered_model_name"] == "mt-A"


def test_per_task_genomewide_metrics_equal_scikit_learn_on_each_column(mt_project):
    """evaluate@K scores every genome-wide bin once, one logit per task; each task's metrics are scikit-learn's on
    that task's column (labels = the datasets' label matrix column, scores = the model's output for the task), with
    the task's own baselines (PWM only where the task has a JASPAR id) and calibration."""
    import json

    import h5py
    import mlflow
    from sklearn.metrics import average_precision_score, roc_auc_score

    from seq2acc.data.store import read_genomewide
    from seq2acc.io.fasta import Genome
    from seq2acc.model.load import load_model
    from seq2acc.model.predict import predict_logits
    from seq2acc.seq.encoding import onehot_codes

    root = mt_project["root"]
    genome = Genome(root / "data/genome/genome.fa")
    folds = json.loads((root / "data/folds.json").read_text())["folds"]
    for k in (0, 1, 2):
        ev = json.loads((root / f"metrics/fold{k}/evaluate.json").read_text())
        assert ev["task_names"] == list(TASKS)
        # one-task readers read the first task: the top level is task A's
        assert ev["genomewide"] == ev["tasks"]["A"]["genomewide"] and ev["baselines"] == ev["tasks"]["A"]["baselines"]
        assert set(ev["tasks"]["A"]["baselines"]) == {"pwm", "pwm_200", "kmer"}
        assert set(ev["tasks"]["B"]["baselines"]) == {"kmer"}            # jaspar_id null: no PWM baseline
        assert set(ev["tasks"]["C"]["baselines"]) == {"pwm", "pwm_200", "kmer"}
        assert "other_task" in ev["tasks"]["B"]["by_negative_type"]
        info = json.loads((root / f"predictions/fold{k}/info.json").read_text())
        assert info["tasks"]["A"]["baselines"]["pwm"]["motif_id"].startswith("MA0363")
        assert info["tasks"]["C"]["baselines"]["pwm"]["motif_id"].startswith("MA0265")
        model = load_model(root / f"models/fold{k}/model.keras")
        with h5py.File(root / f"predictions/fold{k}/scores.h5") as f:
            assert json.loads(f.attrs["task_names"]) == list(TASKS)
            for j, t in enumerate(TASKS):
                g = f[f"tasks/{t}/genomewide"]
                y = np.concatenate([g[c]["label"][:] for c in folds[k]["test"]])
                for score in ("cnn", *ev["tasks"][t]["baselines"]):
                    s = np.concatenate([g[c][score][:] for c in folds[k]["test"]])
                    want = ev["tasks"][t]["genomewide"] if score == "cnn" else ev["tasks"][t]["baselines"][score]["genomewide"]
                    assert want["auprc"] == pytest.approx(average_precision_score(y, s), abs=1e-12), (k, t, score)
                    assert want["auroc"] == pytest.approx(roc_auc_score(y, s), abs=1e-12), (k, t, score)
                for c in folds[k]["test"]:
                    _, _, _, gw = read_genomewide(root / f"data/datasets/{c}.h5", tasks=True)
                    assert (g[c]["bin_start"][:] == gw.bin_start.to_numpy()).all()
                    assert (g[c]["label"][:] == gw[f"label:{t}"].to_numpy()).all()
                    # the scored logit is the model's output j (strand-averaged), a few bins checked by hand
                    pick = np.linspace(0, len(gw) - 1, 5).astype(int)
                    x = np.stack([onehot_codes(genome.fetch_codes(c, int(s0), int(s0) + 400))
                                  for s0 in gw.start.to_numpy()[pick]])
                    assert np.allclose(g[c]["cnn"][:][pick], predict_logits(model, x, j, rc_average=True), atol=1e-4)
            # k-mer baselines are fitted per task: different scores for different tasks
            c0 = folds[k]["test"][0]
            assert not np.allclose(f[f"tasks/A/genomewide/{c0}/kmer"][:], f[f"tasks/B/genomewide/{c0}/kmer"][:])
        for t in TASKS:  # calibration per task, fitted on the task's validation labels
            cal = info["tasks"][t]["calibration"]["cnn"]
            n_pos = sum(int((read_genomewide(root / f"data/datasets/{c}.h5", tasks=True)[3][f"label:{t}"] == 1).sum())
                        for c in folds[k]["valid"])
            assert cal["n_positive"] == n_pos and ev["tasks"][t]["calibration"]["cnn"]["a"] == cal["a"]
        assert info["calibration"] == info["tasks"]["A"]["calibration"]
        head = json.loads((root / f"metrics/fold{k}/headline.json").read_text())
        assert head["auprc"] == ev["genomewide"]["auprc"]
        assert {t: head["tasks"][t]["auprc"] for t in TASKS} == {t: ev["tasks"][t]["genomewide"]["auprc"] for t in TASKS}
        run_id = json.loads((root / f"models/fold{k}/mlflow_run.json").read_text())["run_id"]
        logged = mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}").get_run(run_id).data.metrics
        for t in TASKS:
            assert logged[f"auprc/{t}"] == pytest.approx(ev["tasks"][t]["genomewide"]["auprc"])
            assert logged[f"auprc/{t}/kmer"] == pytest.approx(ev["tasks"][t]["baselines"]["kmer"]["genomewide"]["auprc"])
    # the planted grammar is learnable: every task's CNN beats its positive rate (a random ranking) when pooled
    table = mt_project["summary"]["task_table"]
    assert all(table[t]["pooled"] > 1.5 * table[t]["positive_rate"] for t in TASKS), table


def test_cv_summary_has_a_task_by_fold_table_and_pooled_auprc_per_task(mt_project):
    import json

    from sklearn.metrics import average_precision_score

    root = mt_project["root"]
    js = json.loads((root / "metrics/summary.json").read_text())
    assert js["task_names"] == list(TASKS)
    assert js["pooled"] == js["tasks"]["A"]["pooled"]                     # the top level: the first task
    for t in TASKS:
        row = js["task_table"][t]
        evs = [json.loads((root / f"metrics/fold{k}/evaluate.json").read_text())["tasks"][t] for k in (0, 1, 2)]
        assert row["folds"] == {f"fold{k}": evs[k]["genomewide"]["auprc"] for k in (0, 1, 2)}
        assert row["mean"] == pytest.approx(np.mean([e["genomewide"]["auprc"] for e in evs]))
        # pooled: every held-out bin of the task, each fold's logits through that fold's calibration of the task
        ys, zs = [], []
        for k, e in enumerate(evs):
            cal = e["calibration"]["cnn"]
            sc = mt_project["metrics"][k]["tasks"][t]
            assert sc["calibration"]["cnn"]["a"] == cal["a"]
            import h5py
            with h5py.File(root / f"predictions/fold{k}/scores.h5") as f:
                for c in f[f"tasks/{t}/genomewide"]:
                    ys.append(f[f"tasks/{t}/genomewide/{c}/label"][:])
                    zs.append(cal["a"] * f[f"tasks/{t}/genomewide/{c}/cnn"][:].astype(np.float64) + cal["b"])
        assert row["pooled"] == pytest.approx(average_precision_score(np.concatenate(ys), np.concatenate(zs)), abs=1e-9)
        assert ("pwm_pooled" in row) == (t != "B") and "kmer_pooled" in row
    head = json.loads((root / "metrics/headline.json").read_text())
    assert head["pooled_auprc"] == js["task_table"]["A"]["pooled"]
    assert {t: head["tasks"][t]["pooled_auprc"] for t in TASKS} == {t: js["task_table"][t]["pooled"] for t in TASKS}
    md = (root / "metrics/summary.md").read_text()
    assert "## Per task: genome-wide AUPRC" in md
    for t in TASKS:
        assert f"\n| {t} | " in md


def test_interpretation_runs_on_a_multitask_model_for_its_first_output(mt_project):
    """attribute@K (attribute.task: 0) on a 3-output model: the regions are the first task's held-out positives
    and the logits explained are output 0's (interpretation per task is not built yet)."""
    import contextlib

    from seq2acc.artifacts.contrib import read_attribution
    from seq2acc.model.load import load_model
    from seq2acc.model.predict import predict_logits
    from seq2acc.pipeline.attribute import attribute_fold

    root = mt_project["root"]
    with contextlib.chdir(root):
        out = attribute_fold(mt_project["p"], 0)
    a = read_attribution(out / "contrib.h5")
    assert int(a.attrs["task"]) == 0 and len(a.regions) == 12
    assert (a.regions.label == 1).all()  # positives of the first task (label = its column)
    model = load_model(root / "models/fold0/model.keras")
    assert np.allclose(a.regions.logit, predict_logits(model, a.onehot.astype(np.float32), 0), atol=1e-5)
    assert not np.allclose(a.regions.logit, predict_logits(model, a.onehot.astype(np.float32), 2), atol=1e-2)
