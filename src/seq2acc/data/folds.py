"""Chromosome folds by greedy size balancing (protocol 3.2.1, note 13)."""

from __future__ import annotations

import json
from pathlib import Path

from seq2acc.errors import ArgumentError, Seq2AccError
from seq2acc.io.chromnames import naming_convention, suggest_rename

MIN_FOLDS = 3  # a test, a validation and at least one training bucket


def assign_buckets(chroms: dict[str, tuple[int, int]], n_folds: int) -> list[list[str]]:
    """Greedy buckets. ``chroms`` maps name -> (size_bp, n_examples).

    Chromosomes sorted by size (largest first; ties by name); the first n go one per bucket; each further
    chromosome goes to the bucket with the fewest examples (ties: lowest bucket index).
    """
    _check_n_folds(list(chroms), n_folds, Seq2AccError)
    order = sorted(chroms, key=lambda c: (-chroms[c][0], c))
    buckets = [[c] for c in order[:n_folds]]
    load = [chroms[c][1] for c in order[:n_folds]]
    for c in order[n_folds:]:
        k = min(range(n_folds), key=lambda i: (load[i], i))
        buckets[k].append(c)
        load[k] += chroms[c][1]
    return buckets


def check_n_folds(chromosomes: list[str], n_folds: int) -> None:
    """At least 3 folds and at least one chromosome per fold; else an ArgumentError on ``n_folds`` with the fix."""
    _check_n_folds(list(chromosomes), n_folds, ArgumentError)


def _check_n_folds(chroms: list[str], n_folds: int, err) -> None:
    def fail(problem, fix):
        raise (ArgumentError("n_folds", problem, fix) if err is ArgumentError
               else Seq2AccError(f"folds.n_folds={n_folds}: {problem}\n    fix: {fix}"))

    names = ", ".join(chroms[:8]) + (", ..." if len(chroms) > 8 else "")
    if len(chroms) < MIN_FOLDS:
        fail(f"{len(chroms)} chromosome(s) ({names}) cannot make {n_folds} folds: every fold needs its own test "
             f"chromosome and at least {MIN_FOLDS} folds are needed (train, validation and test buckets)",
             f"add chromosomes to dataset.chromosomes (at least {MIN_FOLDS}) or use folds.n_folds >= {MIN_FOLDS} "
             "and <= the number of chromosomes")
    if n_folds < MIN_FOLDS:
        fail(f"{n_folds} folds: need at least {MIN_FOLDS} (train, validation and test buckets)",
             f"set folds.n_folds >= {MIN_FOLDS} and <= {len(chroms)} (the number of chromosomes) in params.yaml")
    if len(chroms) < n_folds:
        fail(f"only {len(chroms)} chromosomes ({names}) for {n_folds} folds: every fold needs its own test chromosome",
             f"set folds.n_folds <= {len(chroms)} in params.yaml or list more chromosomes in dataset.chromosomes")


def check_fold_plan(chromosomes, sizes: dict[str, int], n_folds: int, context: int, fasta="the FASTA",
                    hint: str = "") -> list[str]:
    """Check the chromosome list and the number of folds against the genome before any dataset is built.

    Parameters
    ----------
    chromosomes : list
        The chromosomes to use (one dataset each); each must be a name (str) of a sequence in ``sizes``, listed
        once, at least ``context`` bp long (a shorter one has no bin).
    sizes : dict of str to int
        Sequence sizes of the genome.
    n_folds : int
        Number of chromosome folds: at least 3 and at most ``len(chromosomes)``.
    context : int
        Model input length in bp.
    fasta : str or Path
        The genome's file, named in messages.
    hint : str
        Appended to the fix of names missing from the genome (e.g. that the FASTA looks cut short).

    Returns
    -------
    list of str
        The chromosome names.

    Raises
    ------
    seq2acc.errors.ArgumentError
        ``chromosomes`` (not a list of names, empty, a duplicate, a name not in ``sizes``, a sequence shorter than
        ``context``) or ``n_folds`` (below 3 or above the number of chromosomes), with the fix.
    """
    if not isinstance(chromosomes, list) or not chromosomes:
        raise ArgumentError("chromosomes", f"{chromosomes!r} is not a non-empty list of chromosome names",
                            f"list the sequences to use, e.g. [chr1, chr2, chr3]; `seq2acc chroms {fasta}` prints them")
    odd = [c for c in chromosomes if not isinstance(c, str)]
    if odd:
        raise ArgumentError("chromosomes", f"{odd[0]!r} is not a name (YAML read it as a {type(odd[0]).__name__})",
                            f"quote chromosome names that YAML reads as numbers, e.g. ['{odd[0]}']")
    dup = sorted({c for c in chromosomes if chromosomes.count(c) > 1})
    if dup:
        raise ArgumentError("chromosomes", f"listed more than once: {', '.join(dup)}", "list each chromosome once")
    missing = [c for c in chromosomes if c not in sizes]
    if missing:
        shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        rename = suggest_rename(missing, sizes)
        raise ArgumentError("chromosomes", f"{len(missing)} name(s) not in {fasta}: {shown} (the FASTA has "
                            f"{len(sizes)} sequence(s), {naming_convention(sizes)} names)",
                            (rename or f"use names from the FASTA (`seq2acc chroms {fasta}` prints them)") + hint)
    short = [c for c in chromosomes if sizes[c] < context]
    if short:
        shown = ", ".join(f"{c} ({sizes[c]} bp)" for c in short[:8]) + (" ..." if len(short) > 8 else "")
        raise ArgumentError("chromosomes", f"{len(short)} sequence(s) shorter than the {context}-bp context: {shown}; "
                            "they would have no bin (no training example, nothing to evaluate)",
                            f"remove them from the list (`seq2acc chroms {fasta} --min-length {context}` prints the "
                            "usable ones)")
    check_n_folds(chromosomes, n_folds)
    return list(chromosomes)


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
