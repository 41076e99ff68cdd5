"""Team-workflow stage bodies: ``modelcard`` (one card per registered model version)."""

from __future__ import annotations

from pathlib import Path

from ..modelcard import build_all
from ..params import Params


def model_cards(p: Params) -> list[Path]:
    """Stage ``modelcard``: markdown + HTML card of every fold's registered version, logged to MLflow."""
    return build_all(p)
