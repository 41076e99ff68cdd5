"""Chromosome folds by greedy size balancing (protocol 3.2.1, note 13)."""

from __future__ import annotations

import json
from pathlib import Path

from seq2acc.errors import Seq2AccError


def assign_buckets(chroms: dict[str, tuple[int, int]], n_folds: int) -> list[list[str]]:
    """Greedy buckets. ``chroms`` maps name -> (size_bp, n_examples).

    Chromosomes sorted by size (largest first; ties by name); the first n go one per bucket; each further
    chromosome goes to the bucket with the fewest examples (ties: lowest bucket index).
    """
    if n_folds < 3:
        raise Seq2AccError(f"folds.n_folds={n_folds}: need at least 3 (train, validation and test buckets); "
                           "fix: set folds.n_folds >= 3 in params.yaml")
    if len(chroms) < n_folds:
        raise Seq2AccError(f"only {len(chroms)} chromosomes ({', '.join(chroms)}) for {n_folds} folds: every fold "
                           f"needs its own test chromosome; fix: set folds.n_folds <= {len(chroms)} in params.yaml "
                           "or list more chromosomes in dataset.chromosomes")
    order = sorted(chroms, key=lambda c: (-chroms[c][0], c))
    buckets = [[c] for c in order[:n_folds]]
    load = [chroms[c][1] for c in order[:n_folds]]
    for c in order[n_folds:]:
        k = min(range(n_folds), key=lambda i: (load[i], i))
        buckets[k].append(c)
        load[k] += chroms[c][1]
    return buckets


def make_folds(buckets: list[list[str]]) -> list[dict]:
    """Fold k tests on bucket k, validates on bucket k+1 (mod n) and trains on the rest."""
    n = len(buckets)
    folds = []
    for k in range(n):
        v = (k + 1) % n
        train = [c for i, b in enumerate(buckets) if i not in (k, v) for c in b]
        folds.append({"fold": k, "test": list(buckets[k]), "valid": list(buckets[v]), "train": train})
    return folds


def load_folds(path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        raise Seq2AccError(f"{path}: folds file missing; fix: run `dvc repro folds`")
    return json.loads(path.read_text())["folds"]


def get_fold(path, k: int) -> dict:
    folds = load_folds(path)
    if not 0 <= k < len(folds):
        raise Seq2AccError(f"fold {k} does not exist ({len(folds)} folds in {path}); fix: use 0..{len(folds) - 1}")
    return folds[k]
