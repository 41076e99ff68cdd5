"""Team-workflow stage bodies: ``modelcard`` (one card per registered model version)."""

from __future__ import annotations

from pathlib import Path

from seq2acc.mlops.modelcard import build_all
from seq2acc.config import Params


def model_cards(p: Params) -> list[Path]:
    """Stage ``modelcard``: markdown + HTML card of every fold's registered version, logged to MLflow."""
    return build_all(p)
