"""``predictions/fold<K>/scores.h5``: every scored genome-wide bin of a fold (label, CNN and baseline scores) and the
sampled test examples; written by ``evaluate@K``, read by ``cv_summary``, the model card and the benchmarks."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import pandas as pd

from seq2acc.errors import InputError
from seq2acc.evaluate.fold import score_names
from seq2acc.io.atomic import atomic_path


def _write_group(f, scored: dict) -> None:
    g = f.create_group("genomewide")
    for c, d in scored["genomewide"].items():
        gc = g.create_group(c)
        for col in ("bin_start", "label", *score_names(d)):
            gc.create_dataset(col, data=d[col].to_numpy())
    s = f.create_group("sampled")
    sm = scored["sampled"]
    s.create_dataset("chrom", data=sm.chrom.to_numpy().astype("S"))
    for col in ("bin_start", "label", "source", *score_names(sm)):
        s.create_dataset(col, data=sm[col].to_numpy())


def write_scores(path: Path, scored: dict) -> None:
    """predictions/fold<K>/scores.h5: genomewide/<chrom>/{bin_start,label,cnn,...}; sampled/{...} -- the first task
    (every task of a one-task project). Several tasks: also ``tasks/<task>/`` with the same layout per task (its
    label, its model output ``cnn``, its baselines; attribute ``info``), attribute ``task_names``."""
    tasks = scored.get("tasks") or {}
    with atomic_path(path, suffix=".h5.tmp") as tmp, h5py.File(tmp, "w") as f:
        f.attrs["fold"] = scored["fold"]
        f.attrs["info"] = json.dumps(scored["info"], default=str)
        _write_group(f, scored)
        if tasks:
            f.attrs["task_names"] = json.dumps(list(tasks))
            for t, st in tasks.items():
                gt = f.create_group(f"tasks/{t}")
                gt.attrs["info"] = json.dumps(st["info"], default=str)
                _write_group(gt, st)


def _read_group(g, info: dict, fold: int) -> dict:
    order = ["chrom", "bin_start", "label", "source", "cnn", *info.get("baselines", {})]

    def table(h):  # columns in the order they were scored (HDF5 lists them alphabetically)
        cols = sorted(h, key=lambda k: (order.index(k) if k in order else len(order), k))
        return pd.DataFrame({k: h[k][:] for k in cols})

    gw = {c: table(g["genomewide"][c]) for c in g["genomewide"]}
    sm = table(g["sampled"])
    sm["chrom"] = sm.chrom.str.decode("ascii") if len(sm) else sm.chrom.astype(str)
    return {"fold": fold, "genomewide": gw, "sampled": sm, "info": info}


def read_scores(path: Path) -> dict:
    """Inverse of :func:`write_scores` (used by the cross-validation summary): the first task's scored fold, with
    ``tasks`` = ``{task: scored fold}`` when the file holds several tasks."""
    if not Path(path).exists():
        raise InputError(path, "fold predictions missing", "run the evaluation stage (`dvc repro evaluate`)")
    with h5py.File(path, "r") as f:
        fold = int(f.attrs["fold"])
        out = _read_group(f, json.loads(f.attrs["info"]), fold)
        if "task_names" in f.attrs:
            out["tasks"] = {t: _read_group(f["tasks"][t], json.loads(f["tasks"][t].attrs["info"]), fold)
                            for t in json.loads(f.attrs["task_names"])}
        return out
