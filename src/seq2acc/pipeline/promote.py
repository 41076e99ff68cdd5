"""DVC stage ``promote``: register the fold ensemble as ``champion``; move ``best_fold`` to the best fold only if it
beats the current one.

Aliases (registry aliases, not the deprecated stages):

- ``champion``: the fold ensemble (:class:`seq2acc.mlops.ensemble_model.FoldEnsemble`, an MLflow pyfunc): every fold
  in ``train.folds``, its prediction the mean over folds of the calibrated, strand-averaged logits. Each run of the
  stage (it runs only when its deps change) logs it to a run named ``ensemble`` under the cross-validation parent
  run and registers it as a new version of the same registered model (tags ``kind=ensemble``, ``folds``,
  ``genomewide_auprc`` = pooled calibrated AUPRC of ``metrics/headline.json`` when present), unless a version of
  the same inputs (fold versions, calibrations, strand setting: tag ``ensemble_key``) exists already, which is
  reused. ``champion`` always moves to it: the ensemble of the current folds is the project's model. A fold
  without a calibration (``evaluate@K`` not run) enters the ensemble uncalibrated (identity; tag
  ``uncalibrated_folds``, warning).
- ``best_fold``: the best single fold model, moved only if it beats the current ``best_fold``. Criterion:
  genome-wide AUPRC (higher is better) from ``metrics/foldK/evaluate.json`` (key ``genomewide.auprc``, written by
  ``evaluate@K``) when every trained fold has one; otherwise the best validation loss (lower is better) from
  ``models/foldK/mlflow_run.json``. Scores are stored as model-version tags (``genomewide_auprc``, ``val_loss``)
  so the current ``best_fold`` can be compared on the same criterion; one without a score on the chosen criterion
  is replaced by the best candidate (logged).

Also closes the cross-validation's parent run with per-fold and mean metrics, and writes ``reports/train.json``
(per-fold validation loss, registered versions, ensemble, aliases) for ``seq2acc report`` and ``dvc metrics show``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from seq2acc.mlops import tracking
from seq2acc.mlops.tracking import BEST_FOLD_ALIAS, CHAMPION_ALIAS
from seq2acc.io.atomic import write_json
from seq2acc.errors import Seq2AccError
from seq2acc.config import Params
from seq2acc.artifacts import fold_model
from seq2acc.config import layout, tracking_target
from seq2acc.artifacts.fold_calibration import fold_calibrations

log = logging.getLogger(__name__)

CRITERIA = {"genomewide_auprc": "max", "val_loss": "min"}


def _eval_auprc(metrics_dir: Path, k: int) -> float | None:
    path = metrics_dir / f"fold{k}" / "evaluate.json"
    if not path.exists():
        return None
    try:
        val = json.loads(path.read_text())["genomewide"]["auprc"]
        return float(val) if val is not None and np.isfinite(float(val)) else None
    except (KeyError, TypeError, ValueError, json.JSONDecodeError):
        log.warning("%s has no numeric genomewide.auprc; ignored", path)
        return None


def collect_candidates(p: Params) -> list[dict]:
    """One dict per trained fold in ``train.folds``: fold, registered version, run id, val_loss, genome-wide AUPRC."""
    lay = layout(p)
    metrics_dir = lay.metrics
    cands = []
    for k in p.get("train.folds", list):
        path = fold_model.run_file(lay.models, k)
        if not path.exists():
            raise Seq2AccError(f"{path}: missing; fix: run `dvc repro train@{k}` (or remove fold {k} from train.folds)")
        info = json.loads(path.read_text())
        cands.append({"fold": k, "version": str(info["registered_model_version"]), "run_id": info["run_id"],
                      "parent_run_id": info.get("parent_run_id"), "name": info["registered_model_name"],
                      "val_loss": float(info["best_val_loss"]), "genomewide_auprc": _eval_auprc(metrics_dir, k)})
    if not cands:
        raise Seq2AccError("train.folds is empty: nothing to promote; fix: list at least one fold in params.yaml")
    return cands


def choose_criterion(cands: list[dict]) -> str:
    return "genomewide_auprc" if all(c["genomewide_auprc"] is not None for c in cands) else "val_loss"


def better(a: float, b: float, criterion: str) -> bool:
    return a > b if CRITERIA[criterion] == "max" else a < b


def promote(p: Params) -> dict:
    from mlflow.tracking import MlflowClient

    cands = collect_candidates(p)
    fold_model.prune_other_folds(layout(p).models, [c["fold"] for c in cands], "models")
    names = {c["name"] for c in cands}
    if len(names) != 1:
        raise Seq2AccError(f"fold models are registered under different names {sorted(names)}; fix: re-run "
                           "`dvc repro train` so all folds use the current tracking.model_name")
    name = names.pop()
    target, task = tracking_target(p)
    tracking.setup(tracking.experiment_name(target, p.get("tracking.experiment", str, allow_none=True), task=task))
    client = MlflowClient()
    criterion = choose_criterion(cands)
    for c in cands:  # store scores on the versions, so later promotions can compare against them
        client.set_model_version_tag(name, c["version"], "val_loss", f"{c['val_loss']:.6g}")
        if c["genomewide_auprc"] is not None:
            client.set_model_version_tag(name, c["version"], "genomewide_auprc", f"{c['genomewide_auprc']:.6g}")
    sign = 1 if CRITERIA[criterion] == "max" else -1
    best = max(cands, key=lambda c: (sign * c[criterion], -c["fold"]))
    promoted, decision = _move_best_fold(client, name, best, criterion)
    log.info("promote: %s", decision)
    best_fold = client.get_model_version_by_alias(name, BEST_FOLD_ALIAS)
    ens = register_ensemble(p, client, name, cands)
    client.set_registered_model_alias(name, CHAMPION_ALIAS, ens["version"])
    log.info("promote: %s -> ensemble version %s of folds %s", CHAMPION_ALIAS, ens["version"], ens["folds"])
    summary = {"registered_model_name": name, "criterion": criterion, "promoted": promoted, "decision": decision,
               "champion_version": ens["version"], "champion_uri": f"models:/{name}@{CHAMPION_ALIAS}",
               "champion_kind": "ensemble", "ensemble": ens,
               "best_fold_version": str(best_fold.version), "best_fold_uri": f"models:/{name}@{BEST_FOLD_ALIAS}",
               "aliases": {CHAMPION_ALIAS: ens["version"], BEST_FOLD_ALIAS: str(best_fold.version)},
               "best_candidate": {"fold": best["fold"], "version": best["version"], criterion: best[criterion]},
               "folds": {f"fold{c['fold']}": {"val_loss": c["val_loss"], "genomewide_auprc": c["genomewide_auprc"],
                                              "version": c["version"], "run_id": c["run_id"]} for c in cands},
               "mean_val_loss": float(np.mean([c["val_loss"] for c in cands]))}
    auprcs = [c["genomewide_auprc"] for c in cands if c["genomewide_auprc"] is not None]
    if auprcs:
        summary["mean_genomewide_auprc"] = float(np.mean(auprcs))
    _close_parents(client, cands, summary)
    write_json(layout(p).train_report, summary)
    return summary


def _move_best_fold(client, name: str, best: dict, criterion: str) -> tuple[bool, str]:
    """Move alias ``best_fold`` to ``best`` only if it beats the current one on ``criterion``: (moved, why)."""
    from mlflow.exceptions import MlflowException

    alias = BEST_FOLD_ALIAS
    current, current_score = None, None
    try:
        mv = client.get_model_version_by_alias(name, alias)
        current = str(mv.version)
        raw = mv.tags.get(criterion)
        current_score = float(raw) if raw not in (None, "") else None
    except MlflowException:
        pass
    if current == best["version"]:
        decision, promoted = f"version {current} is already {alias}", False
    elif current is None:
        decision, promoted = f"no {alias} yet: version {best['version']} (fold {best['fold']}) becomes {alias}", True
    elif current_score is None:
        decision = (f"{alias} version {current} has no {criterion} score: replaced by version {best['version']} "
                    f"(fold {best['fold']}, {criterion}={best[criterion]:.4g})")
        promoted = True
    elif better(best[criterion], current_score, criterion):
        decision = (f"version {best['version']} (fold {best['fold']}) beats {alias} version {current} on {criterion}: "
                    f"{best[criterion]:.4g} vs {current_score:.4g}")
        promoted = True
    else:
        decision = (f"{alias} version {current} kept: {criterion} {current_score:.4g} is not beaten by the best "
                    f"new version {best['version']} ({best[criterion]:.4g})")
        promoted = False
    if promoted:
        client.set_registered_model_alias(name, alias, best["version"])
        client.set_model_version_tag(name, best["version"], "promoted_on", criterion)
    return promoted, decision


def _headline_auprc(metrics_dir: Path) -> float | None:
    """Pooled calibrated genome-wide AUPRC of the cross-validation (``metrics/headline.json``), if present."""
    path = Path(metrics_dir) / "headline.json"
    try:
        val = json.loads(path.read_text()).get("pooled_auprc") if path.exists() else None
        return float(val) if val is not None and np.isfinite(float(val)) else None
    except (TypeError, ValueError, json.JSONDecodeError):
        log.warning("%s has no numeric pooled_auprc; ignored", path)
        return None


def register_ensemble(p: Params, client, name: str, cands: list[dict]) -> dict:
    """Log the fold ensemble of ``cands`` (a pyfunc, run ``ensemble`` under the CV parent) and register it as a
    version of ``name`` (reusing a version of identical inputs: tag ``ensemble_key``); returns its record for
    ``reports/train.json``."""
    import mlflow

    from seq2acc.mlops.ensemble_model import log_ensemble

    lay = layout(p)
    folds = [c["fold"] for c in cands]
    rc_average = p.get("evaluate.rc_average", bool)
    cals = fold_calibrations(folds, lay.predictions) or {}
    uncalibrated = [k for k in folds if k not in cals]
    auprc = _headline_auprc(lay.metrics)
    key = tracking.cv_key({"versions": {str(c["fold"]): c["version"] for c in cands}, "rc_average": rc_average,
                           "calibration": {str(k): cals.get(k) for k in folds}})
    tags = {"kind": "ensemble", "folds": ",".join(map(str, folds)), "ensemble_key": key,
            "fold_versions": ",".join(c["version"] for c in cands), "rc_average": str(rc_average).lower(),
            "uncalibrated_folds": ",".join(map(str, uncalibrated)) or "none"}
    if auprc is not None:
        tags["genomewide_auprc"] = f"{auprc:.6g}"
    found = [mv for mv in client.search_model_versions(f"name='{name}'") if (mv.tags or {}).get("ensemble_key") == key]
    if found:
        mv = max(found, key=lambda m: int(m.version))
        version, run_id = str(mv.version), mv.run_id
        log.info("ensemble of folds %s unchanged: version %s reused", folds, version)
    else:
        if uncalibrated:
            log.warning("ensemble: fold(s) %s have no calibration (run `dvc repro evaluate`): their logits enter "
                        "the ensemble uncalibrated (identity)", uncalibrated)
        parent = next((c["parent_run_id"] for c in cands if c.get("parent_run_id")), None)
        run_tags = {tracking.RUN_KIND_TAG: "ensemble", **{k: v for k, v in tags.items() if k != "kind"}}
        if parent:
            run_tags["mlflow.parentRunId"] = parent
        exp_id = client.get_run(cands[0]["run_id"]).info.experiment_id
        with mlflow.start_run(experiment_id=exp_id, run_name="ensemble", tags=run_tags) as run:
            if auprc is not None:
                mlflow.log_metric("genomewide_auprc", auprc)
            info = log_ensemble({k: fold_model.model_path(lay.models, k) for k in folds}, cals, rc_average,
                                registered_model_name=name, pip_requirements=tracking.pinned_requirements())
            run_id = run.info.run_id
        version = str(info.registered_model_version)
    for t, v in tags.items():
        client.set_model_version_tag(name, version, t, v)
    for c in cands:
        client.set_model_version_tag(name, c["version"], "kind", "fold")
    return {"version": version, "uri": f"models:/{name}/{version}", "run_id": run_id, "folds": folds,
            "calibrated_folds": [k for k in folds if k in cals], "uncalibrated_folds": uncalibrated,
            "rc_average": rc_average, "genomewide_auprc": auprc, "reused": bool(found)}


def _close_parents(client, cands: list[dict], summary: dict) -> None:
    """Log the per-fold and mean metrics to each cross-validation parent run and mark it FINISHED."""
    for parent in {c["parent_run_id"] for c in cands if c.get("parent_run_id")}:
        try:
            for c in cands:
                if c.get("parent_run_id") != parent:
                    continue
                client.log_metric(parent, f"fold{c['fold']}.val_loss", c["val_loss"])
                if c["genomewide_auprc"] is not None:
                    client.log_metric(parent, f"fold{c['fold']}.genomewide_auprc", c["genomewide_auprc"])
            client.log_metric(parent, "mean_val_loss", summary["mean_val_loss"])
            if "mean_genomewide_auprc" in summary:
                client.log_metric(parent, "mean_genomewide_auprc", summary["mean_genomewide_auprc"])
            client.set_tag(parent, "champion_version", summary["champion_version"])
            client.set_tag(parent, "best_fold_version", summary["best_fold_version"])
            client.set_terminated(parent, status="FINISHED")
        except Exception as e:  # noqa: BLE001 - bookkeeping only; the promotion itself already happened
            log.warning("could not update parent run %s: %s", parent, e)
