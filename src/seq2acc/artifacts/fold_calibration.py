"""``predictions/fold<K>/info.json`` key ``calibration.cnn``: the calibration of fold K's CNN logits that
``evaluate@K`` fitted on the fold's validation chromosomes (see :mod:`seq2acc.evaluate.calibration`). Read by
``seq2acc predict`` (fold, ensemble and held-out modes) and by ``promote`` (the registered fold ensemble)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

INFO_FILE = "info.json"


def info_path(predictions_dir, k: int) -> Path:
    """``<predictions_dir>/fold<k>/info.json``."""
    return Path(predictions_dir) / f"fold{k}" / INFO_FILE


def read_calibration(predictions_dir, k: int) -> dict | None:
    """Fold ``k``'s CNN calibration (``{method, a, b, ...}``), or None when the fold was not evaluated yet."""
    path = info_path(predictions_dir, k)
    if not path.exists():
        return None
    return (json.loads(path.read_text()).get("calibration") or {}).get("cnn")


def fold_calibrations(folds, predictions_dir, require_all: bool = False) -> dict | None:
    """``{fold: calibration}`` of the folds' CNN read from ``predictions/fold<K>/info.json`` (a fold without one:
    left out, with a warning; its logits stay raw). ``require_all`` (an ensemble that must not average calibrated
    and raw logits together): None unless every fold has one. None also when ``predictions_dir`` is None or no
    fold has one."""
    if predictions_dir is None:
        return None
    out = {}
    for k in folds:
        cal = read_calibration(predictions_dir, k)
        if cal is None:
            log.warning("no calibration of fold %s (%s; run `dvc repro evaluate@%s`): %s", k,
                        info_path(predictions_dir, k), k,
                        "no fold's logits are calibrated" if require_all else "its logits stay uncalibrated")
            if require_all:
                return None
        else:
            out[k] = cal
    return out or None
