"""DVC stage ``simbench`` of a simulation benchmark project (issue 7), after every other stage: the benchmark table
that scores the pipeline's outputs against the planted answer (:func:`seq2acc.sim.benchmark.run_benchmark`)."""

from __future__ import annotations

from seq2acc.config import Params
from seq2acc.sim.benchmark import run_benchmark


def simbench_stage(p: Params) -> None:
    """DVC stage ``simbench``: the benchmark table (see :func:`seq2acc.sim.benchmark.run_benchmark`)."""
    run_benchmark(p)
