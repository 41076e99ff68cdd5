"""Parallel folds through DVC's experiment queue, all logging to the one MLflow store (issue 8).

The documented workflow (docs/team-workflow.md): queue one experiment per fold with
``dvc exp run --queue -S 'train.folds=[K]'``, run them with ``dvc queue start -j N``, then ``dvc repro``
in the workspace restores every fold from DVC's run-cache instead of training it again.

Here the stage is a tiny foreach stage whose body logs a fold run through seq2acc.mlops.tracking (the code the
train stage uses), so the test is about the queue and the store, not about TensorFlow. Both queued runs
start together on a fresh SQLite store.
"""

import json
import subprocess
import time

import pytest

from _workflow_project import BIN, dvc, env, git

STAGE = '''\
import json, os, sys
import mlflow
from seq2acc.mlops import tracking

fold = int(sys.argv[1])
exp = tracking.setup("seq2acc/queue/Reb1")
with mlflow.start_run(experiment_id=exp, run_name=f"fold{fold}") as run:
    for step in range(30):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_params({f"train.p{i}": i for i in range(40)})
    mlflow.log_metric("genomewide.auprc", 0.5 + 0.01 * fold)
os.makedirs("models", exist_ok=True)
with open(f"models/fold{fold}.json", "w") as fh:
    json.dump({"run_id": run.info.run_id, "tracking_uri": tracking.tracking_uri()}, fh)
'''

DVC_YAML = '''\
stages:
  train:
    foreach: ${train.folds}
    do:
      cmd: python stages/train.py ${item}
      deps:
        - stages/train.py
      params:
        - seed
      outs:
        - models/fold${item}.json
'''


def wait_queue(root, timeout=400):
    t0 = time.time()
    while time.time() - t0 < timeout:
        out = dvc("queue", "status", cwd=root).stdout
        if "Running" not in out and "Queued" not in out:
            return out
        time.sleep(3)
    raise AssertionError(f"queue did not finish in {timeout} s:\n{out}")


@pytest.mark.slow
def test_two_queued_folds_land_in_one_store_then_repro_restores_them(tmp_path):
    import mlflow

    root = tmp_path / "proj"
    (root / "stages").mkdir(parents=True)
    (root / "stages/train.py").write_text(STAGE)
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "params.yaml").write_text("seed: 1\ntrain:\n  folds: [0, 1]\n")
    (root / ".gitignore").write_text("/mlflow.db*\n/mlartifacts/\n")
    git("init", "-q", cwd=root)
    dvc("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "init", cwd=root)
    try:
        for k in (0, 1):
            dvc("exp", "run", "--queue", "-S", f"train.folds=[{k}]", "-n", f"fold-{k}", cwd=root)
        # not through a pipe: the spawned workers inherit stdout and would hold a pipe open until they exit
        start = subprocess.run([str(BIN / "dvc"), "queue", "start", "-j", "2"], cwd=root, env=env(),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert start.returncode == 0
        status = wait_queue(root)
    finally:
        dvc("queue", "stop", "--kill", cwd=root, check=False)
    assert status.count("Success") == 2, status
    for k in (0, 1):
        logs = dvc("queue", "logs", f"fold-{k}", cwd=root).stdout
        assert "locked" not in logs.lower() and "Traceback" not in logs, logs

    # both runs are in the project's one store (not in the queue's temporary workspaces)
    uri = f"sqlite:///{root.resolve() / 'mlflow.db'}"
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("seq2acc/queue/Reb1")
    runs = client.search_runs([exp.experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["fold0", "fold1"]
    assert all(r.info.status == "FINISHED" and len(r.data.params) == 40 for r in runs)
    assert all(len(client.get_metric_history(r.info.run_id, "loss")) == 30 for r in runs)

    # the workspace (train.folds: [0, 1]) gets both folds from the run-cache: nothing trains again
    out = dvc("repro", cwd=root).stdout
    assert "Stage 'train@0' is cached - skipping run" in out and "Stage 'train@1' is cached - skipping run" in out, out
    assert "Running stage" not in out
    ids = {json.loads((root / f"models/fold{k}.json").read_text())["run_id"] for k in (0, 1)}
    assert ids == {r.info.run_id for r in runs}
    assert len(client.search_runs([exp.experiment_id])) == 2
