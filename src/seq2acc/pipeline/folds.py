"""DVC stage ``folds``: greedy chromosome folds (protocol 3.2.1, note 13) -> ``data/folds.json`` and the bucket sizes
``data/folds_metrics.json`` (DVC metric)."""

from __future__ import annotations

import logging

from seq2acc.config import Params, layout, params_keys
from seq2acc.data.folds import assign_buckets, check_n_folds, make_folds
from seq2acc.data.store import chrom_info
from seq2acc.errors import InputError
from seq2acc.io.atomic import atomic_paths, write_json

log = logging.getLogger(__name__)


def build_folds(p: Params) -> None:
    """Stage body of ``folds``."""
    chroms = p.get("dataset.chromosomes", list)
    lay = layout(p)
    n_folds = p.get("folds.n_folds", int)
    with params_keys(p, n_folds="folds.n_folds"):
        check_n_folds(chroms, n_folds)
    balance = p.get("folds.balance_by", str, choices=("examples", "genomewide_bins", "bp"))
    infos = {}
    for c in chroms:
        path = lay.dataset(c)
        if not path.exists():
            raise InputError(path, "dataset file missing", f"run `dvc repro dataset@{c}`")
        infos[c] = chrom_info(path)
    weight = {"examples": lambda i: i.n_examples, "genomewide_bins": lambda i: i.n_genomewide, "bp": lambda i: i.chrom_size}[balance]
    buckets = assign_buckets({c: (i.chrom_size, weight(i)) for c, i in infos.items()}, n_folds)
    folds = make_folds(buckets)
    metrics = {}
    for k, b in enumerate(buckets):
        metrics[f"bucket{k}"] = {"chromosomes": len(b), "bp": sum(infos[c].chrom_size for c in b),
                                 "examples": sum(infos[c].n_examples for c in b),
                                 "positives": sum(infos[c].n_positive for c in b),
                                 "genomewide_bins": sum(infos[c].n_genomewide for c in b)}
    with atomic_paths(lay.folds, lay.folds_metrics) as (t_folds, t_metrics):  # both or neither
        write_json(t_folds, {"n_folds": n_folds, "balance_by": balance, "buckets": buckets, "folds": folds})
        write_json(t_metrics, metrics)
    for k, b in enumerate(buckets):
        log.info("bucket %d: %s %s", k, b, metrics[f"bucket{k}"])
