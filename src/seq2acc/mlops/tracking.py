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
import subprocess
from importlib import metadata
from pathlib import Path

from seq2acc.errors import ParamsError
from seq2acc.config import Params

log = logging.getLogger(__name__)

TRACKING_ENV = "MLFLOW_TRACKING_URI"
CV_KEY_TAG = "seq2acc.cv_key"
RUN_KIND_TAG = "seq2acc.run_kind"
# Installed versions of these are pinned into every logged model's requirements.
PINNED_PACKAGES = ("tensorflow-cpu", "keras", "numpy", "mlflow", "h5py")


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
        loc = None if uri.startswith(("http://", "https://")) else (artifact_root(root) / _slug(experiment)).as_uri()
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


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", s).strip("-") or "default"


def target_name(p: Params) -> tuple[str, str]:
    """(dataset name, target name) derived from the peaks file: ``data/raw/<dataset>/peaks/<target>.bed``."""
    target = Path(p.get("peaks.target", str, "target.bed"))
    stem = target.name.split(".")[0]
    parts = [q for q in target.parent.parts if q not in ("peaks", "raw", "data", ".", "..")]
    dataset = parts[-1] if parts else "dataset"
    return _slug(dataset), _slug(stem)


def experiment_name(p: Params) -> str:
    """``tracking.experiment`` or ``seq2acc/<dataset>/<target>``."""
    name = p.get("tracking.experiment", str, None, allow_none=True)
    if name:
        return name
    ds, tg = target_name(p)
    return f"seq2acc/{ds}/{tg}"


def registered_model_name(p: Params) -> str:
    """``tracking.model_name`` or ``<dataset>-<target>`` (e.g. ``yeast-chipexo-Reb1``)."""
    name = p.get("tracking.model_name", str, None, allow_none=True)
    if name:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", name):
            raise ParamsError("tracking.model_name", f"{name!r} is not a valid registered model name",
                              "use letters, digits, '.', '_' and '-'")
        return name
    ds, tg = target_name(p)
    return f"{ds}-{tg}"


# ----------------------------------------------------------------------------- lineage
def git_commit(root: Path | None = None) -> tuple[str, bool]:
    """(HEAD commit, dirty?) of the project's git repository; ('unknown', False) outside git."""
    cwd = str(root or project_root())
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=20)
        if sha.returncode != 0:
            return "unknown", False
        st = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True,
                            text=True, timeout=20)
        return sha.stdout.strip(), bool(st.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return "unknown", False


def file_md5(path) -> str:
    """md5 of a file's bytes (the hash DVC 3 stores for a file in dvc.lock)."""
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dvc_lock_hashes(lock_path="dvc.lock") -> dict[str, str]:
    """path -> md5 of every stage output recorded in dvc.lock (empty when there is none)."""
    import yaml

    lock = Path(lock_path)
    if not lock.exists():
        return {}
    try:
        data = yaml.safe_load(lock.read_text()) or {}
    except yaml.YAMLError:
        return {}
    out = {}
    for st in (data.get("stages") or {}).values():
        for o in st.get("outs") or []:
            if "path" in o and "md5" in o:
                out[str(o["path"])] = str(o["md5"])
    return out


def input_hashes(paths, lock_path="dvc.lock") -> dict[str, dict]:
    """For each input file: its md5 now and the md5 dvc.lock records for it (they differ if the file changed)."""
    lock = dvc_lock_hashes(lock_path)
    out = {}
    for p in paths:
        p = Path(p)
        rel = str(p)
        out[rel] = {"md5": file_md5(p) if p.is_file() else None, "dvc_lock_md5": lock.get(rel)}
    return out


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
