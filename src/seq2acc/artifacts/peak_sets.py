"""``data/peaks/``, the output of the ``peaks`` stage, written and read in one place:

- ``tasks/<name>.bed``: each task's widened, merged peaks (one file per label-matrix column, in the order of
  ``summary.json`` ``tasks``);
- ``target.bed``: the first task's peaks (the same intervals as ``tasks/<first>.bed``; the one-task layout);
- ``elsewhere.bed``: the merged "elsewhere" peaks (informative negatives); ``blacklist.bed``: the merged blacklist;
- ``signal/<name>.bw``: the signal track of each task given as a bedGraph, checked and converted to bigWig (only
  when some task has one; a task's bigWig is read where it is, under ``data/raw/``);
- ``summary.json``: counts, files, widening, and ``tasks`` (name, input file, signal track, counts) in column order;
  a task with a signal track has ``signal_read``, the bigWig the dataset stage reads.

All of them appear together or not at all (:func:`seq2acc.io.atomic.atomic_paths`).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from seq2acc.errors import ArgumentError, InputError
from seq2acc.io.atomic import atomic_paths, write_json
from seq2acc.io.bed import Intervals, read_bed3, write_bed

SUMMARY = "summary.json"
TASKS_DIR = "tasks"
SIGNAL_DIR = "signal"


@dataclass
class PeakSets:
    """The merged peak sets of a project: ``tasks`` (name -> intervals, in label-matrix order), ``elsewhere`` and
    ``blacklist``; ``summary`` is ``summary.json``."""

    tasks: dict[str, Intervals]
    elsewhere: Intervals
    blacklist: Intervals
    summary: dict

    @property
    def task_names(self) -> list[str]:
        return list(self.tasks)

    @property
    def signal_tracks(self) -> dict[str, Path]:
        """Task name -> the bigWig its signal labels are read from, for the tasks with a signal track (in order)."""
        return {t["name"]: Path(t["signal_read"]) for t in self.summary["tasks"] if t.get("signal_read")}


def converted_signal_path(out_dir, name: str) -> Path:
    """Where :func:`write_peak_sets` writes the bigWig of task ``name``'s bedGraph signal."""
    return Path(out_dir) / SIGNAL_DIR / f"{name}.bw"


def write_peak_sets(out_dir, tasks: dict[str, Intervals], elsewhere: Intervals, blacklist: Intervals,
                    summary: dict, signals: dict | None = None, sizes: dict | None = None) -> None:
    """Write ``data/peaks/`` (every file or none). ``summary["tasks"]`` lists the tasks in ``tasks``' order.
    ``signals``: task name -> ``{chrom: (starts, ends, values)}`` of a bedGraph track, written as
    ``signal/<name>.bw`` (chromosome sizes ``sizes``)."""
    from seq2acc.io.signal import write_bigwig_intervals

    out = Path(out_dir)
    names = list(tasks)
    signals = signals or {}
    if [t["name"] for t in summary["tasks"]] != names:
        raise ArgumentError("summary", f"its tasks {[t['name'] for t in summary['tasks']]} are not those of 'tasks' "
                            f"({names}) in the same order", "list every task in summary['tasks'], in column order")
    if set(signals) - set(names) or (signals and sizes is None):
        raise ArgumentError("signals", f"names tasks {sorted(set(signals) - set(names))} that are not in 'tasks', or "
                            "comes without 'sizes'", "give the converted tracks of listed tasks and the chromosome sizes")
    files = (out / "target.bed", out / "elsewhere.bed", out / "blacklist.bed", out / TASKS_DIR, out / SUMMARY)
    files += (out / SIGNAL_DIR,) if signals else ()
    with atomic_paths(*files) as (t_target, t_else, t_black, t_tasks, t_summary, *t_signal):
        t_tasks.mkdir()
        for name, iv in tasks.items():
            write_bed(iv, t_tasks / f"{name}.bed")
        write_bed(tasks[names[0]], t_target)
        write_bed(elsewhere, t_else)
        write_bed(blacklist, t_black)
        write_json(t_summary, summary)
        if signals:
            t_signal[0].mkdir()
            for name, per_chrom in signals.items():
                write_bigwig_intervals(t_signal[0] / f"{name}.bw", per_chrom, sizes)
    if not signals and (out / SIGNAL_DIR).is_dir():  # an earlier run's converted tracks: no task reads them now
        shutil.rmtree(out / SIGNAL_DIR)


def read_peak_sets(peaks_dir) -> PeakSets:
    """Read ``data/peaks/``; a missing or older output stops with the stage to run."""
    d = Path(peaks_dir)
    path = d / SUMMARY
    if not path.exists():
        raise InputError(path, "peaks output does not exist", "run the peaks stage first (`dvc repro peaks`)")
    summary = json.loads(path.read_text())
    if not summary.get("tasks"):
        raise InputError(path, "lists no tasks: written by an older seq2acc (one target, no label matrix)",
                         "re-run the peaks stage (`dvc repro peaks`)")
    tasks = {t["name"]: read_bed3(d / TASKS_DIR / f"{t['name']}.bed") for t in summary["tasks"]}
    return PeakSets(tasks, read_bed3(d / "elsewhere.bed"), read_bed3(d / "blacklist.bed"), summary)
