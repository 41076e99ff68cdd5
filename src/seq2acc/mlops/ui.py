"""The MLflow UI on the project's store: the command, and a saved "fold runs" view per experiment.

``seq2acc ui`` (README) starts ``mlflow ui`` bound to 127.0.0.1 on :func:`seq2acc.mlops.tracking.tracking_uri`
and prints, per experiment, a link to its runs table with the AUPRC/AUROC/loss columns already shown and
the runs sorted by AUPRC. The link uses MLflow's own shared-view mechanism (an experiment tag
``mlflow.sharedViewState.<key>`` holding the table state, opened with ``?viewStateShareKey=<key>``): the
MLflow 3 UI otherwise shows no metric column until you pick one under "Columns".
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

VIEW_KEY = "seq2acc-folds"
VIEW_TAG_PREFIX = "mlflow.sharedViewState."
KIND_TAG = "mlflow.experimentKind"
KIND_TRAINING = "custom_model_development"
# Metric names shown as columns (last dotted component), in this order of preference.
COLUMN_METRICS = ("auprc", "auroc", "loss", "best_val_loss", "best_val_auprc", "mean_genomewide_auprc")
# Whole-key summaries worth a column (the per-epoch training-set "auprc"/"loss" of a fold run are not).
SUMMARY_METRICS = ("best_val_loss", "best_val_auprc", "mean_genomewide_auprc")
MAX_COLUMNS = 6


def ui_command(store_uri: str | None = None, host: str = "127.0.0.1", port: int = 5000, workers: int = 1,
               artifacts: str | Path | None = None) -> list[str]:
    """argv of ``mlflow ui`` on the project's store (bound to localhost by default)."""
    from seq2acc.mlops import tracking

    uri = store_uri or tracking.tracking_uri()
    art = Path(artifacts) if artifacts else tracking.artifact_root()
    mlflow = Path(sys.executable).with_name("mlflow")
    return [str(mlflow) if mlflow.exists() else "mlflow", "ui", "--backend-store-uri", uri,
            "--default-artifact-root", art.resolve().as_uri() if "://" not in str(art) else str(art),
            "--host", host, "--port", str(int(port)), "--workers", str(int(workers))]


def _metric_rank(key: str) -> tuple:
    parts = key.split(".")
    last = parts[-1]
    pref = COLUMN_METRICS.index(last) if last in COLUMN_METRICS else len(COLUMN_METRICS)
    if "genomewide" in parts and "baselines" not in parts:
        group = 0          # the model, genome-wide (eval.genomewide.auprc, ...)
    elif "genomewide" in parts:
        group = 1          # baselines on the same bins
    elif key in SUMMARY_METRICS:
        group = 2          # training / cross-validation summary
    else:
        group = 3          # sampled-set and other views
    return (group, pref, len(parts), key)


def view_columns(metric_keys) -> list[str]:
    """Metric keys worth a column: the model's genome-wide AUPRC/AUROC/loss first, then the training summary
    (best validation loss; the cross-validation parent's mean AUPRC). Baselines, the sampled-set view and the
    per-chromosome / per-negative-type breakdowns are left to the model card: the UI sorts the chosen columns
    alphabetically and a wide table hides the AUPRC off-screen."""
    keys = [k for k in set(metric_keys) if k.rsplit(".", 1)[-1] in COLUMN_METRICS and _metric_rank(k)[0] in (0, 2)]
    return sorted(keys, key=_metric_rank)[:MAX_COLUMNS]


def save_runs_view(experiment_id: str, client=None, key: str = VIEW_KEY, max_runs: int = 1000) -> str:
    """Save the "fold runs" table view on an experiment (and mark it a training experiment); returns its URL path.

    Columns: the AUPRC/AUROC/loss metrics its runs have; sorted by the first AUPRC column, best first.
    """
    from mlflow.tracking import MlflowClient

    client = client or MlflowClient()
    runs = client.search_runs([experiment_id], max_results=max_runs)
    keys = {k for r in runs for k in r.data.metrics}
    cols = view_columns(keys)
    auprc = [c for c in cols if "auprc" in c.rsplit(".", 1)[-1]]
    state = {"selectedColumns": [f"metrics.`{c}`" for c in cols]}
    if auprc:
        state.update(orderByKey=f"metrics.`{auprc[0]}`", orderByAsc=False)
    exp = client.get_experiment(experiment_id)
    if exp.tags.get(KIND_TAG) is None:
        client.set_experiment_tag(experiment_id, KIND_TAG, KIND_TRAINING)
    client.set_experiment_tag(experiment_id, VIEW_TAG_PREFIX + key, json.dumps(state))
    return runs_view_path(experiment_id, key)


def runs_view_path(experiment_id: str, key: str = VIEW_KEY) -> str:
    return f"#/experiments/{experiment_id}/runs?viewStateShareKey={key}"


def prepare_views(store_uri: str | None = None, name_pattern: str = ".*") -> list[tuple[str, str, str]]:
    """Save the fold-runs view on every active experiment whose name matches; [(name, id, url path)]."""
    from mlflow.tracking import MlflowClient

    from seq2acc.mlops import tracking
    from seq2acc.mlops.store import ensure_store

    uri = ensure_store(store_uri or tracking.tracking_uri(), tracking.artifact_root())
    client = MlflowClient(tracking_uri=uri)
    out = []
    for exp in client.search_experiments():
        if exp.name == "Default" or not re.search(name_pattern, exp.name):
            continue
        out.append((exp.name, exp.experiment_id, save_runs_view(exp.experiment_id, client)))
    return out


def serve(host: str = "127.0.0.1", port: int = 5000, store_uri: str | None = None, workers: int = 1) -> int:
    """``seq2acc ui``: save the views, print their links, run ``mlflow ui`` until Ctrl-C; returns its exit code."""
    from seq2acc.mlops import tracking

    uri = store_uri or tracking.tracking_uri()
    base = f"http://{host}:{port}/"
    views = prepare_views(uri)
    from seq2acc.mlops.store import describe

    print(f"MLflow UI on {describe(uri)} at {base}")
    for name, _, path in views:
        print(f"  {name}: {base}{path}")
    if not views:
        print("  (no experiment yet: run `dvc repro` to train, then reload)")
    cmd = ui_command(uri, host, port, workers)
    log.info("$ %s", " ".join(cmd))
    # The server's job runner (huey consumers for GenAI judge jobs) is not needed to browse runs: it starts a
    # handful of extra processes that outlive the server; off unless the user turned it on.
    env = dict(os.environ)
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    proc = subprocess.Popen(cmd, env=env)

    def _stop(signum, frame):  # forward SIGTERM/SIGINT to the server and wait for it
        proc.terminate()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                proc.terminate()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
