"""params.yaml, the only source of defaults: typed, range-checked access with dotted-key errors (:class:`Params`),
the pipeline's file layout (:class:`Layout`), the prediction tasks (:func:`task_specs`), checked user inputs and the
argument -> params-key mapping."""

from __future__ import annotations

import contextlib
import numbers
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from seq2acc.errors import ArgumentError, ParamsError

_MISSING = object()


class Params:
    """Dotted-key access to a params mapping: ``p.get("train.lr", float, gt=0)``."""

    def __init__(self, data: dict, path: str = "params.yaml"):
        self.data = data or {}
        self.path = str(path)

    @classmethod
    def load(cls, path="params.yaml") -> "Params":
        path = Path(path)
        if not path.exists():
            raise ParamsError("<file>", f"{path} does not exist", "run from the project root or pass --params PATH")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError) as e:
            raise ParamsError("<file>", f"cannot be read: {e.strerror if isinstance(e, OSError) else e}",
                              "give a readable UTF-8 text file", str(path)) from None
        except yaml.YAMLError as e:  # pragma: no cover - message passthrough
            raise ParamsError("<file>", f"not valid YAML: {e}", "fix the YAML syntax", str(path)) from e
        if not isinstance(data, dict):
            raise ParamsError("<file>", "top level must be a mapping", "see the params.yaml shipped with seq2acc", str(path))
        return cls(data, str(path))

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is not _MISSING:
                    return default
                raise ParamsError(key, "is missing", f"add '{key}' to {self.path} (see README, section Params)", self.path)
            node = node[part]
        return node

    def get(self, key: str, typ=None, default: Any = _MISSING, *, gt=None, ge=None, le=None, lt=None,
            choices=None, allow_none: bool = False) -> Any:
        val = self.raw(key, default)
        if val is None and (allow_none or default is None):
            return None
        if typ is not None:
            val = _coerce(key, val, typ, self.path)
        if choices is not None and val not in choices:
            raise ParamsError(key, f"{val!r} is not one of {sorted(map(str, choices))}", f"set '{key}' to one of them", self.path)
        for bound, ok, word in ((gt, lambda v, b: v > b, ">"), (ge, lambda v, b: v >= b, ">="),
                                (lt, lambda v, b: v < b, "<"), (le, lambda v, b: v <= b, "<=")):
            if bound is not None and not ok(val, bound):
                raise ParamsError(key, f"{val!r} is out of range (must be {word} {bound})", f"set '{key}' {word} {bound}", self.path)
        return val

    def section(self, key: str) -> "Params":
        val = self.raw(key)
        if not isinstance(val, dict):
            raise ParamsError(key, "must be a mapping", f"make '{key}' a section", self.path)
        return Params(val, self.path)

    def __contains__(self, key: str) -> bool:
        return self.raw(key, None) is not None


def _coerce(key, val, typ, path):
    if typ is bool:
        if isinstance(val, bool):
            return val
    elif typ is int:
        if isinstance(val, numbers.Integral) and not isinstance(val, bool):
            return int(val)
        if isinstance(val, float) and val.is_integer():
            return int(val)
    elif typ is float:
        if isinstance(val, numbers.Real) and not isinstance(val, bool):
            return float(val)
        if isinstance(val, str):
            try:
                return float(val)  # YAML reads 1e-3 as a string
            except ValueError:
                pass
    elif typ is str:
        if isinstance(val, str):
            return val
    elif typ is list:
        if isinstance(val, list):
            return val
    elif typ is dict:
        if isinstance(val, dict):
            return val
    else:
        return typ(val)
    raise ParamsError(key, f"{val!r} is a {type(val).__name__}, expected {typ.__name__}",
                      f"give '{key}' a {typ.__name__} value", path)


# ----------------------------------------------------------------------------- where the pipeline's files live
@dataclass(frozen=True)
class Layout:
    """Every path the pipeline reads or writes, from params.yaml's path keys. dvc.yaml spells the same paths as the
    stages' outputs; ``tests/test_architecture.py`` checks that the two agree."""

    genome_dir: Path          # genome.out_dir: genome.fa, genome.fa.fai, chrom.sizes
    genome: Path              # genome.fasta_out
    chrom_sizes: Path         # genome.chrom_sizes
    downloads: Path           # genome.download_dir (not versioned)
    peaks: Path               # peaks.out_dir: target.bed, elsewhere.bed, blacklist.bed, summary.json
    datasets: Path            # dataset.out_dir: <chrom>.h5
    folds: Path               # folds.out
    folds_metrics: Path       # folds.metrics
    validation: Path          # validate.out_dir
    validation_report: Path   # validate.report
    models: Path              # train.out_dir: fold<K>/
    train_plots: Path         # train.plots_dir: fold<K>.csv
    train_report: Path        # promote.out
    predictions: Path         # evaluate.out_dir: fold<K>/
    metrics: Path             # evaluate.metrics_dir: fold<K>/, summary.*
    summary_tracks: Path      # evaluate.summary_tracks
    attribution: Path         # attribute.out_dir: folds/fold<K>/, ensemble/
    motifs: Path              # motif_scan.out_dir
    modisco: Path             # modisco.out_dir
    combinatorial: Path       # combinatorial.out_dir
    variants: Path            # variants.out_dir
    modelcards: Path          # modelcard.out_dir

    def dataset(self, chrom: str) -> Path:
        return self.datasets / f"{chrom}.h5"


_LAYOUT_KEYS = {
    "genome_dir": "genome.out_dir", "genome": "genome.fasta_out", "chrom_sizes": "genome.chrom_sizes",
    "downloads": "genome.download_dir", "peaks": "peaks.out_dir", "datasets": "dataset.out_dir",
    "folds": "folds.out", "folds_metrics": "folds.metrics", "validation": "validate.out_dir",
    "validation_report": "validate.report", "models": "train.out_dir", "train_plots": "train.plots_dir",
    "train_report": "promote.out", "predictions": "evaluate.out_dir", "metrics": "evaluate.metrics_dir",
    "summary_tracks": "evaluate.summary_tracks", "attribution": "attribute.out_dir", "motifs": "motif_scan.out_dir",
    "modisco": "modisco.out_dir", "combinatorial": "combinatorial.out_dir", "variants": "variants.out_dir",
    "modelcards": "modelcard.out_dir",
}


RAW_DIR = "data/raw"  # the project's input folder: a DVC dependency of every stage that reads user files


def tracked_input(p: "Params", key: str, path) -> Path:
    """``path`` (the value of params key ``key``), checked to lie inside the project's ``data/raw/``, the folder
    the reading stage depends on in dvc.yaml, so that editing the file in place re-runs that stage.

    Only enforced inside ``dvc repro`` (DVC sets ``DVC_STAGE``): a library or CLI call outside DVC reads any path.
    A file elsewhere stops the stage with the fix (copy it into data/raw/; ``dvc add`` it when large)."""
    import os

    path = Path(path)
    if "DVC_STAGE" not in os.environ:
        return path
    root = Path(p.path).resolve().parent
    raw = (root / RAW_DIR).resolve()
    full = (root / path).resolve() if not path.is_absolute() else path.resolve()
    if not full.is_relative_to(raw):
        raise ParamsError(key, f"{path} is outside {RAW_DIR}/, the folder dvc.yaml tracks for this stage: editing it "
                          "in place would not re-run the pipeline (stale results)",
                          f"copy it into {RAW_DIR}/ (for a large file also `dvc add {RAW_DIR}/<file>` and commit the "
                          f".dvc file) and point '{key}' there", p.path)
    return path


# ----------------------------------------------------------------------------- the prediction tasks
TASK_KEYS = ("name", "peaks", "signal", "jaspar_id", "min_width")  # every key of a peaks.tasks entry, all required
TASK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")  # a file, folder, MLflow metric and HDF5 attribute name
SIGNAL_SUFFIXES = (".bw", ".bigwig", ".bedgraph", ".bg", ".bedgraph.gz", ".bg.gz")


@dataclass(frozen=True)
class TaskSpec:
    """One prediction task (one column of the label matrix): its name, peak file, optional signal track and the
    widening of its peaks. ``key`` is the params key it came from (``peaks.target`` or ``peaks.tasks[i]``) and
    ``min_width_key`` the key of its widening, for messages."""

    name: str
    peaks: Path
    signal: Path | None
    min_width: int
    key: str
    min_width_key: str


def task_name_of(path) -> str:
    """The task name of a single ``peaks.target`` file: its name up to the first dot (``Reb1.bed`` -> ``Reb1``,
    as the MLflow experiment name), other characters than letters, digits, ``_ . -`` replaced by ``_``."""
    stem = Path(path).name.split(".")[0] or "target"
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", stem)
    return name if TASK_NAME.fullmatch(name) else f"t{name}"


def _task_entries(p: "Params") -> list[dict] | None:
    """The raw ``peaks.tasks`` list (checked: a non-empty list of mappings), or None for the one-task form."""
    tasks = p.raw("peaks.tasks")
    if tasks is None:
        return None
    example = ("e.g. [{name: Reb1, peaks: data/raw/peaks/Reb1.bed, signal: null, jaspar_id: MA0363, "
               "min_width: 200}]")
    if not isinstance(tasks, list) or not tasks:
        raise ParamsError("peaks.tasks", f"{tasks!r} is not a non-empty list of tasks",
                          f"give one mapping per task ({example}), or null for the one task peaks.target", p.path)
    for i, t in enumerate(tasks):
        if not isinstance(t, dict):
            raise ParamsError(f"peaks.tasks[{i}]", f"{t!r} is a {type(t).__name__}, not a mapping",
                              f"write each task as a mapping with keys {', '.join(TASK_KEYS)} ({example})", p.path)
    return tasks


def task_specs(p: "Params") -> list[TaskSpec]:
    """The tasks of this project, in label-matrix column order.

    ``peaks.tasks: null`` (the default) gives one task from ``peaks.target`` (name: the file's name up to the first
    dot; widening ``peaks.min_width``). A ``peaks.tasks`` list gives one task per entry; each entry has exactly the
    keys :data:`TASK_KEYS` (``signal`` and ``jaspar_id`` may be null), names are unique (ignoring case) and
    ``peaks.target`` must then be null. Every problem is a :class:`ParamsError` naming the task's key."""
    entries = _task_entries(p)
    if entries is None:
        target = p.get("peaks.target", str)
        return [TaskSpec(task_name_of(target), Path(target), None, p.get("peaks.min_width", int, ge=0),
                         "peaks.target", "peaks.min_width")]
    if p.raw("peaks.target") is not None:
        raise ParamsError("peaks.target", f"is {p.raw('peaks.target')!r} while peaks.tasks lists the tasks: which "
                          "peaks are the positives would be ambiguous",
                          "set peaks.target: null (list that file as a task in peaks.tasks), or peaks.tasks: null "
                          "for the one task peaks.target", p.path)
    out, seen = [], {}
    for i, t in enumerate(entries):
        key = f"peaks.tasks[{i}]"
        label = f"task {t.get('name')!r}" if isinstance(t.get("name"), str) else f"task {i}"
        unknown = sorted(set(map(str, t)) - set(TASK_KEYS))
        if unknown:
            raise ParamsError(f"{key}.{unknown[0]}", f"{label} has unknown key(s) {unknown}",
                              f"use exactly the keys {', '.join(TASK_KEYS)}", p.path)
        for k in TASK_KEYS:
            if k not in t:
                none = " (null when there is none)" if k in ("signal", "jaspar_id") else ""
                raise ParamsError(f"{key}.{k}", f"{label} lacks '{k}'",
                                  f"add '{k}:' to {label}{none}; every task lists {', '.join(TASK_KEYS)}", p.path)
        name = _coerce(f"{key}.name", t["name"], str, p.path)
        if not TASK_NAME.fullmatch(name):
            raise ParamsError(f"{key}.name", f"{name!r} is not a usable task name (it names files, folders and "
                              "metrics)", "use letters, digits, '_', '.' and '-', starting with a letter or digit "
                              "(e.g. Reb1)", p.path)
        if name.lower() in seen:
            j = seen[name.lower()]
            raise ParamsError(f"{key}.name", f"task name {name!r} is used twice: peaks.tasks[{j}] "
                              f"({entries[j]['name']!r}) and peaks.tasks[{i}] (names are compared ignoring case)",
                              "give every task its own name (one label-matrix column, output folder and metric each)",
                              p.path)
        seen[name.lower()] = i
        peaks = _coerce(f"{key}.peaks", t["peaks"], str, p.path)
        signal = t["signal"]
        if signal is not None:
            signal = _coerce(f"{key}.signal", signal, str, p.path)
            if not signal.lower().endswith(SIGNAL_SUFFIXES):
                raise ParamsError(f"{key}.signal", f"{signal!r} of task {name!r} is neither a bigWig nor a bedGraph "
                                  f"file (name ending in {', '.join(SIGNAL_SUFFIXES)})",
                                  "give the task's signal track as .bw/.bigWig or .bedGraph[.gz], or null for none",
                                  p.path)
        if t["jaspar_id"] is not None:
            _coerce(f"{key}.jaspar_id", t["jaspar_id"], str, p.path)
        mw = _coerce(f"{key}.min_width", t["min_width"], int, p.path)
        if mw < 0:
            raise ParamsError(f"{key}.min_width", f"{mw!r} is out of range (must be >= 0)",
                              f"set '{key}.min_width' >= 0 (0 = keep the widths of task {name!r}'s peaks)", p.path)
        out.append(TaskSpec(name, Path(peaks), Path(signal) if signal else None, mw, key, f"{key}.min_width"))
    return out


def task_jaspar_ids(p: "Params") -> dict[str, str | None]:
    """Task name -> the JASPAR id of its PWM baseline (None: no known motif): each ``peaks.tasks`` entry's
    ``jaspar_id``, or ``baselines.pwm.jaspar_id`` for the one task ``peaks.target``."""
    specs = task_specs(p)
    entries = _task_entries(p)
    if entries is None:
        return {specs[0].name: p.get("baselines.pwm.jaspar_id", str, allow_none=True)}
    return {s.name: t["jaspar_id"] for s, t in zip(specs, entries)}


def tracking_target(p: "Params") -> tuple[Path, str | None]:
    """What names the MLflow experiment and registered model unless ``tracking.*`` does: the first task's peak file
    and, for a ``peaks.tasks`` list, the first task's name (``seq2acc/<dataset>/<first task>``,
    ``<dataset>-<first task>``; the dataset is the folder above ``peaks/``). For ``peaks.target``: its file
    (``(path, None)``: named after the file, as before tasks existed)."""
    first = task_specs(p)[0]
    return first.peaks, (None if first.key == "peaks.target" else first.name)


def layout(p: "Params") -> Layout:
    """The project's :class:`Layout`; a missing path key stops with its dotted name."""
    return Layout(**{field: Path(p.get(key, str)) for field, key in _LAYOUT_KEYS.items()})


@contextlib.contextmanager
def params_keys(p: "Params", prefix: str = "", **keys: str):
    """Turn a library :class:`ArgumentError` into the :class:`ParamsError` of the params key it came from.

    ``keys`` maps argument names to dotted keys (``task="attribute.task"``); with ``prefix`` any other argument
    ``a`` maps to ``prefix + a`` (``prefix="model."``). Unmapped arguments pass through unchanged."""
    try:
        yield
    except ArgumentError as e:
        key = keys.get(e.arg) or (prefix + e.arg if prefix else None)
        if key is None:
            raise
        raise ParamsError(key, e.problem, e.fix or f"change '{key}' in {p.path}", p.path) from e
