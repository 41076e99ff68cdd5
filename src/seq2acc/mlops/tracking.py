"""MLflow tracking and model registry conventions of seq2acc.

- Store: ``MLFLOW_TRACKING_URI`` if set, else ``sqlite:///<project root>/mlflow.db`` (absolute, so `dvc exp run
  --queue` workers in temporary workspaces write to the same store); artifacts in ``<project root>/mlartifacts``.
  Neither is versioned by git or DVC. The project root is DVC's ``DVC_ROOT`` (set by DVC for every stage, and
  pointing at the parent repository for queued experiments), else the nearest directory holding ``.dvc``.
- One parent run per cross-validation (all folds trained with the same code, params and data), one child run
  per fold. The parent is found again by its ``seq2acc.cv_key`` tag, so separate ``train@K`` processes share it.
- Lineage tags on every fold run: git commit (+ dirty flag), DVC stage, md5 of each input (the hash DVC records
  in dvc.lock), fold and chromosomes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from importlib import metadata
from pathlib import Path

from seq2acc.errors import ArgumentError


log = logging.getLogger(__name__)

TRACKING_ENV = "MLFLOW_TRACKING_URI"
CV_KEY_TAG = "seq2acc.cv_key"
RUN_KIND_TAG = "seq2acc.run_kind"
# Installed versions of these are pinned into every logged model's requirements.
PINNED_PACKAGES = ("tensorflow-cpu", "keras", "numpy", "mlflow", "h5py")
# Registry aliases (set by the promote stage): the fold ensemble, and the best single fold model.
CHAMPION_ALIAS = "champion"
BEST_FOLD_ALIAS = "best_fold"


def project_root(start: Path | None = None) -> Path:
    """DVC_ROOT if set (DVC sets it for stages and queued experiments), else the nearest dir with ``.dvc``."""
    env = os.environ.get("DVC_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / ".dvc").is_dir():
            return d
    return here


def tracking_uri(root: Path | None = None) -> str:
    """The MLflow tracking (and registry) URI: env ``MLFLOW_TRACKING_URI`` or the project's SQLite file."""
    env = os.environ.get(TRACKING_ENV)
    if env:
        return env
    return f"sqlite:///{(Path(root) if root else project_root()).resolve() / 'mlflow.db'}"


def artifact_root(root: Path | None = None) -> Path:
    return (Path(root) if root else project_root()).resolve() / "mlartifacts"


def setup(experiment: str, root: Path | None = None) -> str:
    """Point MLflow at the store and return the experiment id (created with artifacts under ``mlartifacts``)."""
    import mlflow

    from seq2acc.mlops.store import ensure_store

    uri = ensure_store(tracking_uri(root), artifact_root(root))  # schema once + WAL: safe for `dvc queue -j N`
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    exp = mlflow.get_experiment_by_name(experiment)
    if exp is None:
        # A tracking server (http[s]://) keeps artifacts where it was told (--artifacts-destination); any
        # other store gets them under the project's mlartifacts/.
        loc = None if uri.startswith(("http://", "https://")) else (artifact_root(root) / slug(experiment)).as_uri()
        try:
            # experimentKind: the MLflow 3 UI opens this experiment on its "Training runs" table (not GenAI).
            return mlflow.create_experiment(experiment, artifact_location=loc,
                                            tags={"mlflow.experimentKind": "custom_model_development"})
        except Exception:  # noqa: BLE001 - created concurrently by another fold process
            exp = mlflow.get_experiment_by_name(experiment)
            if exp is None:
                raise
    mlflow.set_experiment(experiment_id=exp.experiment_id)
    return exp.experiment_id


def slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", s).strip("-") or "default"


def target_name(target_peaks, task: str | None = None) -> tuple[str, str]:
    """(dataset name, target name) of a peaks file path ``data/raw/<dataset>/peaks/<target>.bed``; ``task`` (a
    ``peaks.tasks`` entry's name) names the target instead of the file."""
    target = Path(target_peaks)
    stem = task or target.name.split(".")[0]
    parts = [q for q in target.parent.parts if q not in ("peaks", "raw", "data", ".", "..")]
    dataset = parts[-1] if parts else "dataset"
    return slug(dataset), slug(stem)


def experiment_name(target_peaks, name: str | None = None, task: str | None = None) -> str:
    """``name`` if given, else ``seq2acc/<dataset>/<target>`` of the target peaks file (``task``: of that task)."""
    if name:
        return name
    ds, tg = target_name(target_peaks, task)
    return f"seq2acc/{ds}/{tg}"


def registered_model_name(target_peaks, name: str | None = None, task: str | None = None) -> str:
    """``name`` if given (checked), else ``<dataset>-<target>`` (e.g. ``yeast-chipexo-Reb1``; ``task``: the target is
    that task)."""
    if name:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", name):
            raise ArgumentError("name", f"{name!r} is not a valid registered model name",
                                "use letters, digits, '.', '_' and '-'")
        return name
    ds, tg = target_name(target_peaks, task)
    return f"{ds}-{tg}"


def pinned_requirements() -> list[str]:
    reqs = []
    for pkg in PINNED_PACKAGES:
        try:
            reqs.append(f"{pkg}=={metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            continue
    return reqs


def cv_key(payload: dict) -> str:
    """Stable key of one cross-validation: hash of code commit, params and input hashes shared by its folds."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def get_or_create_parent(experiment_id: str, key: str, run_name: str, tags: dict | None = None) -> str:
    """The parent run of cross-validation ``key`` (created on first use); returns its run id."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    found = client.search_runs([experiment_id], filter_string=f"tags.`{CV_KEY_TAG}` = '{key}'",
                               order_by=["attributes.start_time ASC"], max_results=1)
    if found:
        run = found[0]
        if run.info.status != "RUNNING":
            client.update_run(run.info.run_id, status="RUNNING")
        return run.info.run_id
    run = client.create_run(experiment_id, run_name=run_name,
                            tags={CV_KEY_TAG: key, RUN_KIND_TAG: "cross-validation", **(tags or {})})
    return run.info.run_id


def flatten(d: dict, prefix: str = "") -> dict[str, str]:
    """Nested params -> {'a.b': 'value'} with values as strings (MLflow params are strings, max 6000 chars)."""
    out = {}
    for k, v in (d or {}).items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = str(v)[:6000]
    return out


def log_to_run(run_id: str | None, metrics: dict | None = None, tags: dict | None = None, artifacts=(),
               artifact_path: str | None = None) -> str | None:
    """Log finite numeric ``metrics``, ``tags`` and existing ``artifacts`` files into the existing run ``run_id``.

    The one way later stages add to a training (or cross-validation) run. A tracking outage only warns: the
    stage's own outputs are never lost for it. Returns the run id, or None when nothing was logged."""
    if not run_id:
        return None
    import math

    import mlflow
    from mlflow.entities import Metric, RunTag

    try:
        mlflow.set_tracking_uri(tracking_uri())
        client = mlflow.tracking.MlflowClient()
        now = int(time.time() * 1000)
        ms = [Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()
              if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        ts = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
        for i in range(0, max(len(ms), len(ts)), 500):
            client.log_batch(run_id, metrics=ms[i:i + 500], tags=ts[i:i + 500])
        for a in artifacts:
            if Path(a).exists():
                client.log_artifact(run_id, str(a), artifact_path=artifact_path)
    except Exception as e:  # noqa: BLE001 - a tracking outage must not lose the results themselves
        log.warning("could not log to MLflow run %s: %s", run_id, e)
        return None
    return run_id
