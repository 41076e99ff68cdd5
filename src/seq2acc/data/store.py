"""Per-chromosome HDF5 datasets (schema in README and docs/multitask.md) and reading them back in whole-table chunks.

Schema 2 (this version) adds the label matrix: ``examples/labels`` and ``genomewide/labels`` (n, n_tasks) uint8,
one column per task, and the attributes ``task_names`` (JSON list, column order) and ``n_tasks``. ``label`` stays,
equal to the first column, so that one-task readers read a schema-2 file unchanged. Readers give the matrix as one
column per task, ``label:<task>`` (:func:`label_columns`), when asked with ``tasks=True``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from seq2acc.data.bins import SOURCES, BinSpec, ChromBins
from seq2acc.errors import ArgumentError, InputError
from seq2acc.io.atomic import atomic_path

SCHEMA_VERSION = 2
LABEL_PREFIX = "label:"  # per-task label columns of the tables read with tasks=True
# Reserved label value "no label" (a task measured on part of the genome only, a signal track without a value): the
# training loss and the metrics give such an entry weight 0 (seq2acc.model.losses, seq2acc.evaluate.fold). The peak
# tasks of schema 2 never write it: absence from a task's peaks is a negative.
MISSING_LABEL = 255


def label_columns(task_names) -> list[str]:
    """The per-task label columns of the example / genome-wide tables, in label-matrix order."""
    return [LABEL_PREFIX + n for n in task_names]


def write_chrom_dataset(path, chrom: str, chrom_size: int, spec: BinSpec, cb: ChromBins, meta: dict | None = None,
                        task_names=None) -> None:
    """Write one chromosome's examples and genome-wide bins atomically (temp file + rename).

    ``task_names``: one name per column of ``cb.labels`` (None: one task named ``target``)."""
    task_names = list(task_names) if task_names is not None else ["target"]
    if len(task_names) != cb.n_tasks or len({n.lower() for n in task_names}) != len(task_names):
        raise ArgumentError("task_names", f"{task_names} are not {cb.n_tasks} distinct names (one per label column)",
                            "give one distinct name per task")
    comp = dict(compression="gzip", compression_opts=4, shuffle=True)
    with atomic_path(path, suffix=".h5.tmp") as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update(chrom=chrom, chrom_size=chrom_size, bin_size=spec.bin_size, stride=spec.stride,
                       context=spec.context, positive_overlap=spec.positive_overlap, schema_version=SCHEMA_VERSION,
                       source_names=json.dumps(list(SOURCES)), meta=json.dumps(meta or {}),
                       task_names=json.dumps(task_names), n_tasks=len(task_names))
        ex = f.create_group("examples")
        bs = cb.bin_start[cb.ex_index]
        ex.create_dataset("bin_start", data=bs.astype(np.int64), **_c(comp, len(bs)))
        ex.create_dataset("start", data=spec.context_start(bs), **_c(comp, len(bs)))
        ex.create_dataset("end", data=spec.context_start(bs) + spec.context, **_c(comp, len(bs)))
        ex.create_dataset("label", data=cb.label[cb.ex_index].astype(np.uint8), **_c(comp, len(bs)))
        ex.create_dataset("source", data=cb.ex_source.astype(np.uint8), **_c(comp, len(bs)))
        ex.create_dataset("n_frac", data=cb.n_frac[cb.ex_index].astype(np.float32), **_c(comp, len(bs)))
        ex.create_dataset("labels", data=cb.labels[cb.ex_index].astype(np.uint8), **_c(comp, len(bs)))
        gw = f.create_group("genomewide")
        gw.create_dataset("bin_start", data=cb.bin_start.astype(np.int64), **_c(comp, len(cb.bin_start)))
        gw.create_dataset("label", data=cb.label.astype(np.uint8), **_c(comp, len(cb.bin_start)))
        gw.create_dataset("n_frac", data=cb.n_frac.astype(np.float32), **_c(comp, len(cb.bin_start)))
        gw.create_dataset("labels", data=cb.labels.astype(np.uint8), **_c(comp, len(cb.bin_start)))


def _c(comp, n):
    return comp if n > 0 else {}


@dataclass
class ChromInfo:
    chrom: str
    chrom_size: int
    spec: BinSpec
    n_examples: int
    n_positive: int  # examples positive for at least one task
    n_genomewide: int
    task_names: tuple = ("target",)


def _task_names(f, path) -> list[str]:
    """The task names of an open file; a file of another schema stops with the fix (rebuild the datasets)."""
    version = int(f.attrs.get("schema_version", 0))
    if version != SCHEMA_VERSION:
        raise InputError(path, f"dataset schema version {version}; this seq2acc reads version {SCHEMA_VERSION} "
                         "(the label matrix of docs/multitask.md)",
                         "rebuild the datasets with this version: `dvc repro dataset` (or `dvc repro -f dataset`)")
    return json.loads(f.attrs["task_names"])


def chrom_info(path) -> ChromInfo:
    with h5py.File(path, "r") as f:
        a = f.attrs
        names = _task_names(f, path)
        spec = BinSpec(int(a["bin_size"]), int(a["stride"]), int(a["context"]), float(a["positive_overlap"]))
        return ChromInfo(str(a["chrom"]), int(a["chrom_size"]), spec, int(f["examples/label"].shape[0]),
                         int(f["examples/labels"][:].any(axis=1).sum()), int(f["genomewide/label"].shape[0]),
                         tuple(names))


def read_task_names(paths) -> list[str]:
    """The task names (label-matrix columns) shared by chromosome files; files built with other tasks stop with
    the fix (they come from different runs of the peaks stage)."""
    names, first = None, None
    for p in paths:
        with h5py.File(p, "r") as f:
            these = _task_names(f, p)
        if names is None:
            names, first = these, p
        elif these != names:
            raise InputError(p, f"was built for the tasks {these}, {first} for {names}",
                             "rebuild every dataset from the same peaks stage: `dvc repro dataset`")
    if names is None:
        raise ArgumentError("paths", "no dataset file given", "give at least one chromosome file")
    return names


def _label_frame(g, names: list[str]) -> dict:
    m = g["labels"][:]
    return {c: m[:, t] for t, c in enumerate(label_columns(names))}


def read_meta(path) -> dict:
    """The ``meta`` attribute of a chromosome file (JSON: the FASTA, the bin counts of :func:`seq2acc.data.bins.bin_counts`)."""
    with h5py.File(path, "r") as f:
        return json.loads(f.attrs.get("meta", "{}"))


EXAMPLE_COLUMNS = ["chrom", "start", "end", "bin_start", "label", "source", "n_frac", "chrom_size"]


def read_examples(paths, tasks: bool = False) -> pd.DataFrame:
    """Concatenate the example tables of several chromosome files (each read in one chunk, never row by row).

    Columns :data:`EXAMPLE_COLUMNS` (``label``: the first task); ``tasks=True`` adds one ``label:<task>`` column per
    task (:func:`label_columns` of :func:`read_task_names`), the rows of the label matrix."""
    paths = list(paths)
    names = read_task_names(paths) if tasks and paths else []
    frames = []
    for p in paths:
        with h5py.File(p, "r") as f:
            _task_names(f, p)
            g = f["examples"]
            df = pd.DataFrame({k: g[k][:] for k in ("start", "end", "bin_start", "label", "source", "n_frac")})
            df.insert(0, "chrom", str(f.attrs["chrom"]))
            df["chrom_size"] = int(f.attrs["chrom_size"])
            if tasks:
                df = df.assign(**_label_frame(g, names))
            frames.append(df)
    if not frames:
        return pd.DataFrame(columns=EXAMPLE_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def read_genomewide(path, tasks: bool = False) -> tuple[str, int, BinSpec, pd.DataFrame]:
    """Genome-wide bins of one chromosome: (chrom, size, spec, DataFrame[bin_start, start, label, n_frac]);
    ``tasks=True`` adds the ``label:<task>`` columns of the label matrix."""
    info = chrom_info(path)
    with h5py.File(path, "r") as f:
        g = f["genomewide"]
        df = pd.DataFrame({"bin_start": g["bin_start"][:], "label": g["label"][:], "n_frac": g["n_frac"][:]})
        if tasks:
            df = df.assign(**_label_frame(g, list(info.task_names)))
    df.insert(1, "start", info.spec.context_start(df.bin_start.to_numpy()))
    return info.chrom, info.chrom_size, info.spec, df


def dataset_path(data_dir, chrom: str) -> Path:
    return Path(data_dir) / f"{chrom}.h5"
