"""A killed `dvc repro` leaves nothing running and nothing DVC did not record: no orphan stage process, no
registered model version without a dvc.lock entry, and a re-run that succeeds (issue 13, item 2)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import pytest
import yaml

from _workflow_project import BIN, DATA_STAGES, dvc, env, make_project


def _stage_pids(root) -> list[int]:
    """pids of processes running this project's `stages/train.py`."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            cmd = open(f"/proc/{d}/cmdline", "rb").read().split(b"\0")
            cwd = os.readlink(f"/proc/{d}/cwd")
        except OSError:
            continue
        if b"stages/train.py" in cmd and cwd == str(root):
            out.append(int(d))
    return out


def _versions(root) -> list:
    import mlflow

    if not (root / "mlflow.db").exists():  # killed before the store was created (opening it would create it)
        return []
    return mlflow.tracking.MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}").search_model_versions()


def test_a_store_creation_killed_half_way_leaves_no_store_and_the_next_run_creates_it(tmp_path, monkeypatch):
    """MLflow's schema is ~50 migrations: a run killed during the first one must not leave a half-built store
    that every later run fails on ("table ... already exists", as a killed first `dvc repro` once did)."""
    from seq2acc.mlops import store

    db = tmp_path / "mlflow.db"
    real = store._set_wal

    def killed_half_way(path):  # the schema is in the file being built, and the process dies before handing it over
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "_set_wal", killed_half_way)
    with pytest.raises(KeyboardInterrupt):
        store.ensure_store(f"sqlite:///{db}", tmp_path / "art")
    assert not db.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db.lock"]
    monkeypatch.setattr(store, "_set_wal", real)
    uri = store.ensure_store(f"sqlite:///{db}", tmp_path / "art")
    import mlflow

    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    assert client.search_experiments()[0].name == "Default"
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_half_built_store_from_an_older_run_is_a_clear_error(tmp_path):
    from seq2acc.errors import InputError
    from seq2acc.mlops import store

    db = tmp_path / "mlflow.db"
    with sqlite3.connect(db) as con:  # what a killed non-atomic creation left: some tables, no migration record
        con.execute("CREATE TABLE secrets (secret_id VARCHAR(36) PRIMARY KEY)")
    with pytest.raises(InputError) as e:
        store.ensure_store(f"sqlite:///{db}", tmp_path / "art")
    assert str(db) in str(e.value) and "mv " in str(e.value)


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_dvc_repro_during_training_leaves_no_orphan_and_no_unrecorded_model(tmp_path, sig):
    root = make_project(tmp_path / "proj", stages=(*DATA_STAGES, "train"),
                        params={"train.folds": [0], "train.epochs": 30, "train.patience": 30,
                                "train.genomewide_negatives": 0, "train.restarts": 0}, remote=False)
    dvc("repro", "validate", cwd=root)
    proc = subprocess.Popen([str(BIN / "dvc"), "repro", "train@0"], cwd=root, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while not _stage_pids(root) and time.time() < deadline:
            time.sleep(0.2)
        assert _stage_pids(root), "train@0 never started"
        time.sleep(8)  # well into the stage (TensorFlow loaded, MLflow run open)
        os.kill(proc.pid, sig)  # only DVC itself, as a scheduler killing the job's main process would
        proc.wait(timeout=30)
        deadline = time.time() + 60
        while _stage_pids(root) and time.time() < deadline:
            time.sleep(0.5)
        assert not _stage_pids(root), "the stage process outlived dvc repro"
    finally:
        for pid in _stage_pids(root):
            os.kill(pid, signal.SIGKILL)
    assert not (root / "models/fold0").exists()
    lock = yaml.safe_load((root / "dvc.lock").read_text()) if (root / "dvc.lock").exists() else {}
    assert "train@0" not in (lock.get("stages") or {})
    assert _versions(root) == []  # nothing registered that dvc.lock does not record
    dvc("repro", "train@0", cwd=root)  # a re-run succeeds ...
    assert [int(v.version) for v in _versions(root)] == [1]  # ... and registers exactly one version
