"""DVC stage ``promote``: move the registry alias ``champion`` to the best fold model, only if it beats the champion.

Criterion: genome-wide AUPRC (higher is better) from ``metrics/foldK/evaluate.json`` (key ``genomewide.auprc``,
written by ``evaluate@K``) when every trained fold has one; otherwise the best validation loss (lower is better)
from ``models/foldK/mlflow_run.json``. Scores are stored as model-version tags (``genomewide_auprc``,
``val_loss``) so the current champion can be compared on the same criterion; a champion without a score on the
chosen criterion is replaced by the best candidate (logged). Aliases, not the deprecated registry stages.

Also closes the cross-validation's parent run with per-fold and mean metrics, and writes ``reports/train.json``
(per-fold validation loss, registered versions, champion) for ``seq2acc report`` and ``dvc metrics show``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from seq2acc.mlops import tracking
from seq2acc.io.atomic import write_json
from seq2acc.errors import Seq2AccError
from seq2acc.config import Params
from seq2acc.artifacts import fold_model
from seq2acc.config import layout

log = logging.getLogger(__name__)

ALIAS = "champion"
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
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    cands = collect_candidates(p)
    fold_model.prune_other_folds(layout(p).models, [c["fold"] for c in cands], "models")
    names = {c["name"] for c in cands}
    if len(names) != 1:
        raise Seq2AccError(f"fold models are registered under different names {sorted(names)}; fix: re-run "
                           "`dvc repro train` so all folds use the current tracking.model_name")
    name = names.pop()
    tracking.setup(tracking.experiment_name(p.get("peaks.target", str),
                                            p.get("tracking.experiment", str, allow_none=True)))
    client = MlflowClient()
    criterion = choose_criterion(cands)
    for c in cands:  # store scores on the versions, so later promotions can compare against them
        client.set_model_version_tag(name, c["version"], "val_loss", f"{c['val_loss']:.6g}")
        if c["genomewide_auprc"] is not None:
            client.set_model_version_tag(name, c["version"], "genomewide_auprc", f"{c['genomewide_auprc']:.6g}")
    sign = 1 if CRITERIA[criterion] == "max" else -1
    best = max(cands, key=lambda c: (sign * c[criterion], -c["fold"]))
    current, current_score = None, None
    try:
        mv = client.get_model_version_by_alias(name, ALIAS)
        current = str(mv.version)
        raw = mv.tags.get(criterion)
        current_score = float(raw) if raw not in (None, "") else None
    except MlflowException:
        pass
    if current == best["version"]:
        decision = f"version {current} is already {ALIAS}"
        promoted = False
    elif current is None:
        decision, promoted = f"no {ALIAS} yet: version {best['version']} (fold {best['fold']}) becomes {ALIAS}", True
    elif current_score is None:
        decision = (f"{ALIAS} version {current} has no {criterion} score: replaced by version {best['version']} "
                    f"(fold {best['fold']}, {criterion}={best[criterion]:.4g})")
        promoted = True
    elif better(best[criterion], current_score, criterion):
        decision = (f"version {best['version']} (fold {best['fold']}) beats {ALIAS} version {current} on {criterion}: "
                    f"{best[criterion]:.4g} vs {current_score:.4g}")
        promoted = True
    else:
        decision = (f"{ALIAS} version {current} kept: {criterion} {current_score:.4g} is not beaten by the best "
                    f"new version {best['version']} ({best[criterion]:.4g})")
        promoted = False
    if promoted:
        client.set_registered_model_alias(name, ALIAS, best["version"])
        client.set_model_version_tag(name, best["version"], "promoted_on", criterion)
    log.info("promote: %s", decision)
    champion = client.get_model_version_by_alias(name, ALIAS)
    summary = {"registered_model_name": name, "criterion": criterion, "promoted": promoted, "decision": decision,
               "champion_version": str(champion.version), "champion_uri": f"models:/{name}@{ALIAS}",
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
            client.set_terminated(parent, status="FINISHED")
        except Exception as e:  # noqa: BLE001 - bookkeeping only; the promotion itself already happened
            log.warning("could not update parent run %s: %s", parent, e)
