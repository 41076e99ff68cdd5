"""Logging set-up shared by the CLI and the DVC stage scripts."""

from __future__ import annotations

import logging
import os
import sys


def setup(level: str | None = None) -> None:
    level = level or os.environ.get("SEQ2ACC_LOG", "INFO")
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s: %(message)s",
                        datefmt="%H:%M:%S", force=True)
    for noisy in ("h5py", "matplotlib", "numba", "urllib3", "great_expectations", "absl", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
