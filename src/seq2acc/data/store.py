"""Per-chromosome HDF5 datasets (schema in README and docs/multitask.md) and reading them back in whole-table chunks.

Schema 2 added the label matrix: ``examples/labels`` and ``genomewide/labels`` (n, n_tasks) uint8, one column per
task, and the attributes ``task_names`` (JSON list, column order) and ``n_tasks``. ``label`` stays, equal to the first
column, so that one-task readers read the file unchanged. Schema 3 (this version) adds the signal matrix:
``examples/signal`` and ``genomewide/signal`` (n, n_tasks) float32, the signal label of each bin for the tasks with a
signal track (attribute ``signal_tasks``, JSON list) and NaN in the other columns; ``signal_transform`` and
``signal_uncovered`` say how it was computed (:mod:`seq2acc.data.signal`). Readers give the matrices as one column per
task, ``label:<task>`` (:func:`label_columns`) and ``signal:<task>`` for the signal tasks (:func:`signal_columns`),
when asked with ``tasks=True``.
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

SCHEMA_VERSION = 3
LABEL_PREFIX = "label:"  # per-task label columns of the tables read with tasks=True
# Reserved label value "no label" (a task measured on part of the genome only, a signal track without a value): the
# training loss and the metrics give such an entry weight 0 (seq2acc.model.losses, seq2acc.evaluate.fold). The peak
# tasks never write it: absence from a task's peaks is a negative (signal tasks have NaN in examples/signal).
MISSING_LABEL = 255
SIGNAL_PREFIX = "signal:"  # per-task signal columns (tasks with a signal track) of the tables read with tasks=True


def label_columns(task_names) -> list[str]:
    """The per-task label columns of the example / genome-wide tables, in label-matrix order."""
    return [LABEL_PREFIX + n for n in task_names]


def signal_columns(task_names) -> list[str]:
    """The signal columns of the tables read with ``tasks=True``, for the given (signal) tasks."""
    return [SIGNAL_PREFIX + n for n in task_names]


@dataclass(frozen=True)
class SignalInfo:
    """How the signal matrix of a file was made: which tasks have a track (in label-matrix order), the transform
    and what uncovered bases count as (:mod:`seq2acc.data.signal`)."""

    tasks: tuple = ()
    transform: str | None = None
    uncovered: str | None = None


def write_chrom_dataset(path, chrom: str, chrom_size: int, spec: BinSpec, cb: ChromBins, meta: dict | None = None,
                        task_names=None, signal: np.ndarray | None = None, signal_info: SignalInfo | None = None) -> None:
    """Write one chromosome's examples and genome-wide bins atomically (temp file + rename).

    ``task_names``: one name per column of ``cb.labels`` (None: one task named ``target``). ``signal``: (n_bins,
    n_tasks) signal labels of the genome-wide bins, NaN in the columns of tasks without a track (None: no task has
    one); ``signal_info`` names the tasks with a track, in column order."""
    task_names = list(task_names) if task_names is not None else ["target"]
    if len(task_names) != cb.n_tasks or len({n.lower() for n in task_names}) != len(task_names):
        raise ArgumentError("task_names", f"{task_names} are not {cb.n_tasks} distinct names (one per label column)",
                            "give one distinct name per task")
    info = signal_info or SignalInfo()
    if [n for n in task_names if n in info.tasks] != list(info.tasks):
        raise ArgumentError("signal_info", f"its tasks {list(info.tasks)} are not task names {task_names} in column "
                            "order", "name the tasks with a signal track, in label-matrix order")
    if signal is None:
        if info.tasks:
            raise ArgumentError("signal", f"is None but tasks {list(info.tasks)} have a signal track",
                                "pass their signal labels")
        signal = np.full((len(cb.bin_start), cb.n_tasks), np.nan, np.float32)
    signal = np.asarray(signal, np.float32)
    if signal.shape != (len(cb.bin_start), cb.n_tasks):
        raise ArgumentError("signal", f"shape {signal.shape} is not (n_bins, n_tasks) = "
                            f"({len(cb.bin_start)}, {cb.n_tasks})", "one row per genome-wide bin, one column per task")
    no_track = [t for t, n in enumerate(task_names) if n not in info.tasks]
    if no_track and not np.isnan(signal[:, no_track]).all():
        raise ArgumentError("signal", "has values in the columns of tasks without a signal track",
                            "give NaN for the tasks not in signal_info.tasks")
    comp = dict(compression="gzip", compression_opts=4, shuffle=True)
    with atomic_path(path, suffix=".h5.tmp") as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update(chrom=chrom, chrom_size=chrom_size, bin_size=spec.bin_size, stride=spec.stride,
                       context=spec.context, positive_overlap=spec.positive_overlap, schema_version=SCHEMA_VERSION,
                       source_names=json.dumps(list(SOURCES)), meta=json.dumps(meta or {}),
                       task_names=json.dumps(task_names), n_tasks=len(task_names),
                       signal_tasks=json.dumps(list(info.tasks)), signal_transform=json.dumps(info.transform),
                       signal_uncovered=json.dumps(info.uncovered))
        ex = f.create_group("examples")
        bs = cb.bin_start[cb.ex_index]
        ex.create_dataset("bin_start", data=bs.astype(np.int64), **_c(comp, len(bs)))
        ex.create_dataset("start", data=spec.context_start(bs), **_c(comp, len(bs)))
        ex.create_dataset("end", data=spec.context_start(bs) + spec.context, **_c(comp, len(bs)))
        ex.create_dataset("label", data=cb.label[cb.ex_index].astype(np.uint8), **_c(comp, len(bs)))
        ex.create_dataset("source", data=cb.ex_source.astype(np.uint8), **_c(comp, len(bs)))
        ex.create_dataset("n_frac", data=cb.n_frac[cb.ex_index].astype(np.float32), **_c(comp, len(bs)))
        ex.create_dataset("labels", data=cb.labels[cb.ex_index].astype(np.uint8), **_c(comp, len(bs)))
        ex.create_dataset("signal", data=signal[cb.ex_index], **_c(comp, len(bs)))
        gw = f.create_group("genomewide")
        gw.create_dataset("bin_start", data=cb.bin_start.astype(np.int64), **_c(comp, len(cb.bin_start)))
        gw.create_dataset("label", data=cb.label.astype(np.uint8), **_c(comp, len(cb.bin_start)))
        gw.create_dataset("n_frac", data=cb.n_frac.astype(np.float32), **_c(comp, len(cb.bin_start)))
        gw.create_dataset("labels", data=cb.labels.astype(np.uint8), **_c(comp, len(cb.bin_start)))
        gw.create_dataset("signal", data=signal, **_c(comp, len(cb.bin_start)))


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
    signal: SignalInfo = SignalInfo()


def _task_names(f, path) -> list[str]:
    """The task names of an open file; a file of another schema stops with the fix (rebuild the datasets)."""
    version = int(f.attrs.get("schema_version", 0))
    if version != SCHEMA_VERSION:
        raise InputError(path, f"dataset schema version {version}; this seq2acc reads version {SCHEMA_VERSION} "
                         "(the label and signal matrices of docs/multitask.md)",
                         "rebuild the datasets with this version: `dvc repro dataset` (or `dvc repro -f dataset`)")
    return json.loads(f.attrs["task_names"])


def _signal_info(f, path) -> SignalInfo:
    _task_names(f, path)
    a = f.attrs
    return SignalInfo(tuple(json.loads(a["signal_tasks"])), json.loads(a["signal_transform"]),
                      json.loads(a["signal_uncovered"]))


def chrom_info(path) -> ChromInfo:
    with h5py.File(path, "r") as f:
        a = f.attrs
        names = _task_names(f, path)
        spec = BinSpec(int(a["bin_size"]), int(a["stride"]), int(a["context"]), float(a["positive_overlap"]))
        return ChromInfo(str(a["chrom"]), int(a["chrom_size"]), spec, int(f["examples/label"].shape[0]),
                         int(f["examples/labels"][:].any(axis=1).sum()), int(f["genomewide/label"].shape[0]),
                         tuple(names), _signal_info(f, path))


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


def read_signal_info(paths) -> SignalInfo:
    """The signal tasks, transform and uncovered rule shared by chromosome files (:class:`SignalInfo`); files made
    with other signal settings stop with the fix."""
    info, first = None, None
    for p in paths:
        with h5py.File(p, "r") as f:
            these = _signal_info(f, p)
        if info is None:
            info, first = these, p
        elif these != info:
            raise InputError(p, f"has the signal labels {these}, {first} {info}",
                             "rebuild every dataset with the same peaks stage and params: `dvc repro dataset`")
    if info is None:
        raise ArgumentError("paths", "no dataset file given", "give at least one chromosome file")
    return info


def _task_frame(g, names: list[str], signal_tasks) -> dict:
    """The ``label:<task>`` columns of every task and the ``signal:<task>`` columns of the signal tasks."""
    m = g["labels"][:]
    out = {c: m[:, t] for t, c in enumerate(label_columns(names))}
    if signal_tasks:
        sig = g["signal"][:]
        out.update({c: sig[:, names.index(n)] for n, c in zip(signal_tasks, signal_columns(signal_tasks))})
    return out


def read_meta(path) -> dict:
    """The ``meta`` attribute of a chromosome file (JSON: the FASTA, the bin counts of :func:`seq2acc.data.bins.bin_counts`)."""
    with h5py.File(path, "r") as f:
        return json.loads(f.attrs.get("meta", "{}"))


EXAMPLE_COLUMNS = ["chrom", "start", "end", "bin_start", "label", "source", "n_frac", "chrom_size"]


def read_examples(paths, tasks: bool = False) -> pd.DataFrame:
    """Concatenate the example tables of several chromosome files (each read in one chunk, never row by row).

    Columns :data:`EXAMPLE_COLUMNS` (``label``: the first task); ``tasks=True`` adds one ``label:<task>`` column per
    task (:func:`label_columns` of :func:`read_task_names`), the rows of the label matrix, and one ``signal:<task>``
    column (float32) per task with a signal track (:func:`signal_columns` of :func:`read_signal_info` ``.tasks``)."""
    paths = list(paths)
    names = read_task_names(paths) if tasks and paths else []
    sig_tasks = list(read_signal_info(paths).tasks) if tasks and paths else []
    frames = []
    for p in paths:
        with h5py.File(p, "r") as f:
            _task_names(f, p)
            g = f["examples"]
            df = pd.DataFrame({k: g[k][:] for k in ("start", "end", "bin_start", "label", "source", "n_frac")})
            df.insert(0, "chrom", str(f.attrs["chrom"]))
            df["chrom_size"] = int(f.attrs["chrom_size"])
            if tasks:
                df = df.assign(**_task_frame(g, names, sig_tasks))
            frames.append(df)
    if not frames:
        return pd.DataFrame(columns=EXAMPLE_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def read_genomewide(path, tasks: bool = False) -> tuple[str, int, BinSpec, pd.DataFrame]:
    """Genome-wide bins of one chromosome: (chrom, size, spec, DataFrame[bin_start, start, label, n_frac]);
    ``tasks=True`` adds the ``label:<task>`` columns of the label matrix and the ``signal:<task>`` columns of the
    tasks with a signal track."""
    info = chrom_info(path)
    with h5py.File(path, "r") as f:
        g = f["genomewide"]
        df = pd.DataFrame({"bin_start": g["bin_start"][:], "label": g["label"][:], "n_frac": g["n_frac"][:]})
        if tasks:
            df = df.assign(**_task_frame(g, list(info.task_names), list(info.signal.tasks)))
    df.insert(1, "start", info.spec.context_start(df.bin_start.to_numpy()))
    return info.chrom, info.chrom_size, info.spec, df


def dataset_path(data_dir, chrom: str) -> Path:
    return Path(data_dir) / f"{chrom}.h5"
