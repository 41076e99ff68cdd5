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


def write_scores(path: Path, scored: dict) -> None:
    """predictions/fold<K>/scores.h5: genomewide/<chrom>/{bin_start,label,cnn,...}; sampled/{...}."""
    with atomic_path(path, suffix=".h5.tmp") as tmp, h5py.File(tmp, "w") as f:
        f.attrs["fold"] = scored["fold"]
        f.attrs["info"] = json.dumps(scored["info"], default=str)
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


def read_scores(path: Path) -> dict:
    """Inverse of :func:`write_scores` (used by the cross-validation summary)."""
    if not Path(path).exists():
        raise InputError(path, "fold predictions missing", "run the evaluation stage (`dvc repro evaluate`)")
    with h5py.File(path, "r") as f:
        info = json.loads(f.attrs["info"])
        order = ["chrom", "bin_start", "label", "source", "cnn", *info.get("baselines", {})]

        def table(g):  # columns in the order they were scored (HDF5 lists them alphabetically)
            cols = sorted(g, key=lambda k: (order.index(k) if k in order else len(order), k))
            return pd.DataFrame({k: g[k][:] for k in cols})

        gw = {c: table(f["genomewide"][c]) for c in f["genomewide"]}
        sm = table(f["sampled"])
        sm["chrom"] = sm.chrom.str.decode("ascii") if len(sm) else sm.chrom.astype(str)
        return {"fold": int(f.attrs["fold"]), "genomewide": gw, "sampled": sm, "info": info}
