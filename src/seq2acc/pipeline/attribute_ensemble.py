"""DVC stage ``attribute_ensemble``: the fold ensemble of the ``attribute@K`` sets, the single TF-MoDISco input.

Regions scored by every fold's model -> the mean over folds; regions scored by one fold only because they lie on
its test chromosomes (the default) -> that held-out model's scores (:func:`seq2acc.interpret.ensemble.ensemble`).
Outputs as ``attribute@K``'s in ``attribution/ensemble/``.
"""

from __future__ import annotations

import time
from pathlib import Path

from seq2acc.artifacts.contrib import read_attribution
from seq2acc.artifacts.fold_model import prune_other_folds
from seq2acc.config import Params, layout
from seq2acc.data.folds import load_folds
from seq2acc.interpret.ensemble import ensemble
from seq2acc.interpret.null import significant_regions
from seq2acc.pipeline.attribute import attribute_config, write_outputs


def attribute_ensemble(p: Params) -> Path:
    """Stage body of ``attribute_ensemble``."""
    cfg = attribute_config(p)
    t0 = time.perf_counter()
    folds = p.get("train.folds", list)
    test_chroms = {f["fold"]: f["test"] for f in load_folds(layout(p).folds)}
    prune_other_folds(cfg.out_dir / "folds", folds, "attributions")
    sets = {k: read_attribution(cfg.out_dir / "folds" / f"fold{k}" / "contrib.h5") for k in folds}
    a = ensemble(sets, test_chroms, cfg.window, cfg.tail)
    out = cfg.out_dir / "ensemble"
    out.mkdir(parents=True, exist_ok=True)
    write_outputs(p, a, significant_regions(a.test, cfg.alpha), out, None, time.perf_counter() - t0)
    return out
