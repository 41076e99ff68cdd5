"""Fold-ensemble attribution (protocol note 23): one set of contribution scores from the per-fold sets.

Regions every fold scored get the mean over folds (and the null too, when the null sequences are the same);
a region scored by one fold only because it lies on that fold's test chromosomes keeps that held-out model's
scores. p-values are computed within each group of regions scored by the same model(s), against that group's
own null.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd

from seq2acc.interpret.sets import AttributionSet
from seq2acc.errors import Seq2AccError
from seq2acc.interpret.null import NullTest, null_test

log = logging.getLogger(__name__)


def ensemble(sets: dict[int, AttributionSet], test_chroms: dict[int, list[str]], window: int,
             tail: str) -> AttributionSet:
    """One :class:`AttributionSet` from fold -> set (``folds`` in the order given) and fold -> test chromosomes."""
    folds = list(sets)
    keys = {k: list(zip(s.regions.chrom, s.regions.start)) for k, s in sets.items()}
    count: dict = {}
    for k in folds:
        for key in keys[k]:
            count[key] = count.get(key, 0) + 1
    parts = []
    # 1. regions every fold scored: mean over folds (the null too, when the null sequences are the same)
    shared = [key for key, c in count.items() if c == len(folds)] if len(folds) > 1 else []
    if shared:
        idx = {k: pd.Index(keys[k]).get_indexer(shared) for k in folds}
        first = sets[folds[0]]
        mean = lambda attr: np.mean([getattr(sets[k], attr)[idx[k]] for k in folds], axis=0)  # noqa: E731
        same_null = all(np.array_equal(sets[k].null_onehot[idx[k]], first.null_onehot[idx[folds[0]]]) for k in folds)
        if same_null:
            null_c = mean("null_contrib")
        else:
            null_c = np.concatenate([sets[k].null_contrib[idx[k]] for k in folds], axis=1)
        reg = first.regions.iloc[idx[folds[0]]].reset_index(drop=True).assign(
            logit=np.mean([sets[k].regions.logit.to_numpy()[idx[k]] for k in folds], 0),
            n_models=len(folds), source_fold=-1)
        parts.append((reg, first.onehot[idx[folds[0]]], mean("contrib"), mean("hyp"),
                      first.null_onehot[idx[folds[0]]] if same_null else
                      np.concatenate([sets[k].null_onehot[idx[k]] for k in folds], axis=1), null_c))
    used = len(shared) * len(folds)
    # 2. regions only their held-out fold scored
    for k in folds:
        s = sets[k]
        held_out = set(test_chroms[k])
        sel = np.array([count[key] == 1 and key[0] in held_out for key in keys[k]], dtype=bool)
        if len(folds) == 1:
            sel[:] = True
        used += int(sel.sum())
        if sel.any():
            parts.append((s.regions[sel].reset_index(drop=True).assign(n_models=1, source_fold=k), s.onehot[sel],
                          s.contrib[sel], s.hyp[sel], s.null_onehot[sel], s.null_contrib[sel]))
    dropped = sum(count.values()) - used
    if dropped:
        log.warning("ensemble: %d region scores left out (scored by some folds only, and not held out there)", dropped)
    if not parts:
        raise Seq2AccError("attribute_ensemble: no region was scored by every fold or held out by one; "
                           "fix: use the default regions or one attribute.regions BED for all folds")
    # p-values: within each group of regions scored by the same model(s), against that group's null
    regs, xs, cs, hs, nxs, ncs, tests = [], [], [], [], [], [], []
    S = max(pt[4].shape[1] for pt in parts)
    for reg, x, c, h, nx, nc in parts:
        t = null_test(c, nc, window, tail)
        if nx.shape[1] < S:  # pad shuffles to a common count (repeat) so the arrays stack
            rep = -(-S // nx.shape[1])
            nx, nc = np.tile(nx, (1, rep, 1, 1))[:, :S], np.tile(nc, (1, rep, 1, 1))[:, :S]
        regs.append(reg), xs.append(x), cs.append(c), hs.append(h), nxs.append(nx), ncs.append(nc), tests.append(t)
    test = NullTest(*(np.concatenate([getattr(t, f) for t in tests]) for f in
                      ("position_p", "position_q", "window_p", "window_q")), window, tail)
    a = AttributionSet(pd.concat(regs, ignore_index=True), np.concatenate(xs), np.concatenate(cs), np.concatenate(hs),
                       np.concatenate(nxs), np.concatenate(ncs), test,
                       {**{k2: v for k2, v in sets[folds[0]].attrs.items() if k2 not in ("fold", "schema_version")},
                        "ensemble": True, "folds": json.dumps(folds), "fold": -1})
    return a
