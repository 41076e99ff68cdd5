"""`seq2acc leaderboard`: the cross-validations in a real MLflow store, ranked, with the params that differ."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _cv(client, exp_id, name, params, fold_auprcs, mean_val_loss):
    from seq2acc.mlops.tracking import RUN_KIND_TAG

    run = client.create_run(exp_id, run_name=name, tags={RUN_KIND_TAG: "cross-validation", "git_commit": "abc1234567"})
    rid = run.info.run_id
    for k, v in params.items():
        client.log_param(rid, k, v)
    for k, a in fold_auprcs.items():
        client.log_metric(rid, f"fold{k}.genomewide_auprc", a)
    if fold_auprcs:
        client.log_metric(rid, "mean_genomewide_auprc", sum(fold_auprcs.values()) / len(fold_auprcs))
    client.log_metric(rid, "mean_val_loss", mean_val_loss)
    client.set_terminated(rid)
    return rid


@pytest.fixture
def store(tmp_path):
    from mlflow.tracking import MlflowClient

    from seq2acc.mlops.store import ensure_store

    uri = ensure_store(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "art")
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("seq2acc/yeast/Reb1", artifact_location=(tmp_path / "art").as_uri())
    other = client.create_experiment("seq2acc/yeast/Ume6", artifact_location=(tmp_path / "art2").as_uri())
    base = {"model.name": "small", "train.lr": "0.003"}
    ids = {"gw5": _cv(client, exp, "cv-small-aaa", base | {"train.genomewide_negatives": "5"}, {0: 0.60, 1: 0.47}, 0.09),
           "gw20": _cv(client, exp, "cv-small-bbb", base | {"train.genomewide_negatives": "20"}, {0: 0.61, 1: 0.54}, 0.05),
           "untested": _cv(client, exp, "cv-small-ccc", base | {"train.genomewide_negatives": "40"}, {}, 0.04),
           "ume6": _cv(client, other, "cv-small-ddd", base | {"train.genomewide_negatives": "20"}, {0: 0.30}, 0.02)}
    return uri, ids


def test_ranks_by_mean_auprc_shows_only_the_params_that_differ(store):
    from seq2acc.mlops.leaderboard import leaderboard, markdown

    uri, ids = store
    t = leaderboard(uri, "seq2acc/yeast/Reb1")
    assert list(t.run_id) == [ids["gw20"], ids["gw5"], ids["untested"]]  # not yet evaluated: last
    assert list(t["rank"]) == [1, 2, 3] and list(t.n_folds) == [2, 2, 0]
    assert t.mean_genomewide_auprc.iloc[0] == pytest.approx(0.575)
    assert "train.genomewide_negatives" in t.columns and "train.lr" not in t.columns  # same everywhere: not shown
    assert list(leaderboard(uri).run_id)[:2] == [ids["gw20"], ids["gw5"]]  # all experiments
    assert list(leaderboard(uri, metric="mean_val_loss").run_id)[0] == ids["ume6"]  # a loss ranks ascending
    assert len(leaderboard(uri, top=1)) == 1
    text = markdown(t, "mean_genomewide_auprc")
    assert text.splitlines()[2].startswith("| 1 | seq2acc/yeast/Reb1 | cv-small-bbb | 0.5750 | 2 |")


def test_unknown_experiment_and_empty_store_say_what_to_do(store, tmp_path):
    from seq2acc.errors import ArgumentError
    from seq2acc.mlops.leaderboard import leaderboard, markdown
    from seq2acc.mlops.store import ensure_store

    uri, _ = store
    with pytest.raises(ArgumentError, match="no MLflow experiment named 'nope'"):
        leaderboard(uri, "nope")
    empty = ensure_store(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "art3")
    assert "no cross-validation runs" in markdown(leaderboard(empty), "mean_genomewide_auprc")


def test_cli_prints_the_leaderboard(store, monkeypatch):
    uri, _ = store
    res = subprocess.run([sys.executable, "-m", "seq2acc.cli", "leaderboard", "--experiment", "seq2acc/yeast/Reb1"],
                         capture_output=True, text=True, env={**__import__("os").environ, "MLFLOW_TRACKING_URI": uri},
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "cv-small-bbb" in res.stdout and res.stdout.index("cv-small-bbb") < res.stdout.index("cv-small-aaa")
