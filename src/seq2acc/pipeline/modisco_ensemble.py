"""DVC stage ``modisco_ensemble``: TF-MoDISco on the fold ensemble's contribution scores (every held-out positive),
the main motif report; same outputs as ``modisco@K`` in ``modisco/ensemble/``, logged to the cross-validation run."""

from __future__ import annotations

from pathlib import Path

from seq2acc.artifacts.fold_model import prune_other_folds
from seq2acc.config import Params, layout
from seq2acc.pipeline.modisco import run_set


def modisco_ensemble(p: Params) -> Path:
    """Stage body of ``modisco_ensemble``."""
    prune_other_folds(layout(p).modisco / "folds", p.get("train.folds", list), "TF-MoDISco results")
    return run_set(p, None)
