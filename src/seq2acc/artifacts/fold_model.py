"""``models/fold<K>/``: one trained fold model as the ``train@K`` stage leaves it.

``model.keras`` (the Keras model), ``history.json`` (per-epoch metrics, best epoch, attempts), ``config.json``
(fold, input length, model and train config), ``loss.png`` and ``mlflow_run.json`` (run id, parent run id, model
URI, registered name/version) so that later stages log into the same MLflow run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from seq2acc.errors import InputError

log = logging.getLogger(__name__)

MODEL_FILE = "model.keras"
RUN_FILE = "mlflow_run.json"


def fold_dir(models_dir, k: int) -> Path:
    """``<models_dir>/fold<k>``."""
    return Path(models_dir) / f"fold{k}"


def model_path(models_dir, k: int) -> Path:
    """The Keras file of fold ``k``'s model."""
    return fold_dir(models_dir, k) / MODEL_FILE


def run_file(models_dir, k: int) -> Path:
    """``mlflow_run.json`` of fold ``k``."""
    return fold_dir(models_dir, k) / RUN_FILE


def read_run_info(models_dir, k: int, missing_ok: bool = False) -> dict | None:
    """The MLflow run record of fold ``k`` (``mlflow_run.json``); None when missing and ``missing_ok``."""
    path = run_file(models_dir, k)
    if not path.exists():
        if missing_ok:
            return None
        raise InputError(path, "MLflow run record of the fold model missing", f"run `dvc repro train@{k}`")
    return json.loads(path.read_text())


def run_id(models_dir, folds, parent: bool = False) -> str | None:
    """The MLflow run id of fold ``folds`` (an int), or with ``parent`` the cross-validation run of the first of
    ``folds`` (an int or a list) that has a run record; None, with a warning, when there is none."""
    for k in [folds] if isinstance(folds, int) else folds:
        run = read_run_info(models_dir, k, missing_ok=True)
        rid = run and (run.get("parent_run_id") if parent else run["run_id"])
        if rid:
            return rid
    log.warning("no MLflow run record in %s/fold*/%s: results not logged to MLflow", models_dir, RUN_FILE)
    return None


def prune_other_folds(folder, keep, what: str) -> list[Path]:
    """Remove ``fold<N>`` entries (directories, or files ``fold<N>.*``) of ``folder`` for folds N not in ``keep``.

    The outputs of folds a run did not train must not look current beside the new ones (they belong to no stage
    of the current dvc.yaml any more, so DVC would leave them in place). Returns what was removed; logs it."""
    import re
    import shutil

    folder, keep = Path(folder), {int(k) for k in keep}
    gone = []
    if not folder.is_dir():
        return gone
    for entry in sorted(folder.iterdir()):
        m = re.fullmatch(r"fold(\d+)(\..+)?", entry.name)
        if m and int(m.group(1)) not in keep:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
            gone.append(entry)
    if gone:
        log.warning("%s: removed the %s of folds not in train.folds: %s", folder, what, ", ".join(e.name for e in gone))
    return gone
