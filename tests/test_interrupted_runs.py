"""A killed `dvc repro` leaves nothing running and nothing DVC did not record: no orphan stage process, no
registered model version without a dvc.lock entry, and a re-run that succeeds (issue 13, item 2)."""

from __future__ import annotations

import os
import signal
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

    client = mlflow.tracking.MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    try:
        return client.search_model_versions()
    except Exception:  # noqa: BLE001 - no store yet
        return []


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
