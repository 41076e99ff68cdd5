"""Greedy chromosome folds (protocol note 13), hand-computed."""

import pytest

from seq2acc.errors import Seq2AccError
from seq2acc.data.folds import assign_buckets, make_folds


def test_greedy_rule_hand_computed():
    # name: (size, examples). Sorted by size: A B C D E F.
    chroms = {"A": (100, 50), "B": (90, 10), "C": (80, 30), "D": (70, 5), "E": (60, 8), "F": (50, 1)}
    # first 3 -> buckets [A] [B] [C] loads 50 10 30
    # D -> lightest bucket 1 (10) -> 15; E -> bucket 1 (15) -> 23; F -> bucket 1 (23) -> 24
    assert assign_buckets(chroms, 3) == [["A"], ["B", "D", "E", "F"], ["C"]]


def test_ties_go_to_lowest_bucket_and_size_ties_by_name():
    chroms = {"b": (10, 1), "a": (10, 1), "c": (5, 1), "d": (4, 1)}
    assert assign_buckets(chroms, 3) == [["a", "d"], ["b"], ["c"]]


def test_fold_k_tests_bucket_k_validates_next():
    buckets = [["A"], ["B"], ["C", "D"], ["E"]]
    folds = make_folds(buckets)
    assert folds[0] == {"fold": 0, "test": ["A"], "valid": ["B"], "train": ["C", "D", "E"]}
    assert folds[3]["test"] == ["E"] and folds[3]["valid"] == ["A"]
    for f in folds:  # partition, no leakage
        allc = f["test"] + f["valid"] + f["train"]
        assert sorted(allc) == ["A", "B", "C", "D", "E"]
    assert sorted(c for f in folds for c in f["test"]) == ["A", "B", "C", "D", "E"]


def test_fewer_chromosomes_than_folds_names_the_fix():
    with pytest.raises(Seq2AccError, match="add chromosomes to dataset.chromosomes"):
        assign_buckets({"A": (1, 1), "B": (1, 1)}, 10)
