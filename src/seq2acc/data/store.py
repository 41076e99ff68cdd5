"""Per-chromosome HDF5 datasets (schema in README) and reading them back in whole-table chunks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from seq2acc.io.atomic import atomic_path
from seq2acc.data.bins import SOURCES, BinSpec, ChromBins

SCHEMA_VERSION = 1


def write_chrom_dataset(path, chrom: str, chrom_size: int, spec: BinSpec, cb: ChromBins, meta: dict | None = None) -> None:
    """Write one chromosome's examples and genome-wide bins atomically (temp file + rename)."""
    comp = dict(compression="gzip", compression_opts=4, shuffle=True)
    with atomic_path(path, suffix=".h5.tmp") as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update(chrom=chrom, chrom_size=chrom_size, bin_size=spec.bin_size, stride=spec.stride,
                       context=spec.context, positive_overlap=spec.positive_overlap, schema_version=SCHEMA_VERSION,
                       source_names=json.dumps(list(SOURCES)), meta=json.dumps(meta or {}))
        ex = f.create_group("examples")
        bs = cb.bin_start[cb.ex_index]
        ex.create_dataset("bin_start", data=bs.astype(np.int64), **_c(comp, len(bs)))
        ex.create_dataset("start", data=spec.context_start(bs), **_c(comp, len(bs)))
        ex.create_dataset("end", data=spec.context_start(bs) + spec.context, **_c(comp, len(bs)))
        ex.create_dataset("label", data=cb.label[cb.ex_index].astype(np.uint8), **_c(comp, len(bs)))
        ex.create_dataset("source", data=cb.ex_source.astype(np.uint8), **_c(comp, len(bs)))
        ex.create_dataset("n_frac", data=cb.n_frac[cb.ex_index].astype(np.float32), **_c(comp, len(bs)))
        gw = f.create_group("genomewide")
        gw.create_dataset("bin_start", data=cb.bin_start.astype(np.int64), **_c(comp, len(cb.bin_start)))
        gw.create_dataset("label", data=cb.label.astype(np.uint8), **_c(comp, len(cb.bin_start)))
        gw.create_dataset("n_frac", data=cb.n_frac.astype(np.float32), **_c(comp, len(cb.bin_start)))


def _c(comp, n):
    return comp if n > 0 else {}


@dataclass
class ChromInfo:
    chrom: str
    chrom_size: int
    spec: BinSpec
    n_examples: int
    n_positive: int
    n_genomewide: int


def chrom_info(path) -> ChromInfo:
    with h5py.File(path, "r") as f:
        a = f.attrs
        spec = BinSpec(int(a["bin_size"]), int(a["stride"]), int(a["context"]), float(a["positive_overlap"]))
        return ChromInfo(str(a["chrom"]), int(a["chrom_size"]), spec, int(f["examples/label"].shape[0]),
                         int(f["examples/label"][:].sum()), int(f["genomewide/label"].shape[0]))


def read_meta(path) -> dict:
    """The ``meta`` attribute of a chromosome file (JSON: the FASTA, the bin counts of :func:`seq2acc.data.bins.bin_counts`)."""
    with h5py.File(path, "r") as f:
        return json.loads(f.attrs.get("meta", "{}"))


def read_examples(paths) -> pd.DataFrame:
    """Concatenate the example tables of several chromosome files (each read in one chunk, never row by row)."""
    frames = []
    for p in paths:
        with h5py.File(p, "r") as f:
            g = f["examples"]
            df = pd.DataFrame({k: g[k][:] for k in ("start", "end", "bin_start", "label", "source", "n_frac")})
            df.insert(0, "chrom", str(f.attrs["chrom"]))
            df["chrom_size"] = int(f.attrs["chrom_size"])
            frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["chrom", "start", "end", "bin_start", "label", "source", "n_frac", "chrom_size"])
    return pd.concat(frames, ignore_index=True)


def read_genomewide(path) -> tuple[str, int, BinSpec, pd.DataFrame]:
    """Genome-wide bins of one chromosome: (chrom, size, spec, DataFrame[bin_start, start, label, n_frac])."""
    info = chrom_info(path)
    with h5py.File(path, "r") as f:
        g = f["genomewide"]
        df = pd.DataFrame({"bin_start": g["bin_start"][:], "label": g["label"][:], "n_frac": g["n_frac"][:]})
    df.insert(1, "start", info.spec.context_start(df.bin_start.to_numpy()))
    return info.chrom, info.chrom_size, info.spec, df


def dataset_path(data_dir, chrom: str) -> Path:
    return Path(data_dir) / f"{chrom}.h5"
