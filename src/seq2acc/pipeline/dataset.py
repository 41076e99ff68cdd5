"""DVC stage ``dataset@<chrom>``: bins, the label matrix (one column per task of ``data/peaks/summary.json``), the
signal matrix (the tasks with a signal track: ``dataset.signal_transform`` of the track over each bin) and
informative negatives of one chromosome, plus every genome-wide bin -> ``data/datasets/<chrom>.h5`` (schema in
README and docs/multitask.md)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from seq2acc.artifacts.peak_sets import read_peak_sets
from seq2acc.config import Params, layout, params_keys
from seq2acc.data.bins import BinSpec, chrom_seed, sample_examples
from seq2acc.data.folds import check_fold_plan
from seq2acc.data.signal import SIGNAL_TRANSFORMS, UNCOVERED, bin_signal
from seq2acc.data.store import SignalInfo, write_chrom_dataset
from seq2acc.errors import ParamsError
from seq2acc.io.fasta import Genome

log = logging.getLogger(__name__)

NEGATIVE_POOLS = ("flank", "elsewhere", "random")


def bin_spec(p: Params) -> BinSpec:
    """The ``dataset`` grid: bin size, stride, context, positive overlap."""
    with params_keys(p, prefix="dataset."):
        return BinSpec(p.get("dataset.bin_size", int, gt=0), p.get("dataset.stride", int, gt=0),
                       p.get("dataset.context", int, gt=0), p.get("dataset.positive_overlap", float, ge=0, lt=1))


def negative_fractions(p: Params) -> dict[str, float]:
    """``dataset.negatives.fractions``: a share in [0, 1] for each of flank, elsewhere, random, summing to 1."""
    key = "dataset.negatives.fractions"
    fr = p.get(key, dict)
    example = "e.g. {flank: 0.4, elsewhere: 0.3, random: 0.3}"
    if set(fr) != set(NEGATIVE_POOLS):
        raise ParamsError(key, f"has keys {sorted(fr)}; needs exactly {list(NEGATIVE_POOLS)}",
                          f"give a share to each of flank, elsewhere and random ({example})", p.path)
    out = {k: p.get(f"{key}.{k}", float, ge=0, le=1) for k in NEGATIVE_POOLS}
    total = sum(out.values())
    if abs(total - 1) > 1e-6:
        raise ParamsError(key, f"shares sum to {total:g}, not 1 ({', '.join(f'{k} {v:g}' for k, v in out.items())})",
                          f"make flank + elsewhere + random = 1 ({example})", p.path)
    return out


def _signal_matrix(peaks, names: list[str], chrom: str, size: int, bin_starts, bin_size: int, transform: str,
                   uncovered: str) -> tuple[np.ndarray | None, SignalInfo]:
    """(n_bins, n_tasks) float32 signal labels of the bins (NaN for tasks without a track), or None when no task has
    one; and the :class:`SignalInfo` naming the tasks that have one."""
    tracks = peaks.signal_tracks
    if not tracks:
        return None, SignalInfo()
    out = np.full((len(bin_starts), len(names)), np.nan, np.float32)
    for t, name in enumerate(names):
        if name in tracks:
            key = f"peaks.tasks[{t}].signal"
            out[:, t] = bin_signal(tracks[name], chrom, size, bin_starts, bin_size, transform, uncovered,
                                   what=f"signal track of task '{name}' ({key})",
                                   alternative=f"set {key}: null (no signal track)")
            log.info("%s: signal of task %s (%s, uncovered bases %s): mean %.4g over %d bins", chrom, name, transform,
                     uncovered, float(np.nanmean(out[:, t])) if np.isfinite(out[:, t]).any() else float("nan"),
                     len(bin_starts))
    return out, SignalInfo(tuple(n for n in names if n in tracks), transform, uncovered)


def build_dataset(p: Params, chrom: str) -> Path:
    """Stage body of ``dataset@<chrom>``."""
    lay = layout(p)
    genome_fa, peaks_dir, out = lay.genome, lay.peaks, lay.dataset(chrom)
    spec = bin_spec(p)
    fractions = negative_fractions(p)
    flank_bins = p.get("dataset.negatives.flank_bins", int, ge=0)
    neg_ratio = p.get("dataset.negatives.ratio", float, ge=0)
    max_n = p.get("dataset.max_n_fraction", float, ge=0, le=1)
    transform = p.get("dataset.signal_transform", str, choices=SIGNAL_TRANSFORMS)
    uncovered = p.get("dataset.signal_uncovered", str, choices=UNCOVERED)
    seed = p.get("seed", int)
    genome = Genome(genome_fa)
    with params_keys(p, chromosomes="dataset.chromosomes", n_folds="folds.n_folds"):  # the whole list, before any work
        chroms = check_fold_plan(p.get("dataset.chromosomes", list), genome.sizes, p.get("folds.n_folds", int),
                                 spec.context, genome_fa)
    if chrom not in chroms:
        raise ParamsError("dataset.chromosomes", f"{chrom!r} is not in the list",
                          f"add it to dataset.chromosomes or run a listed one (`dvc repro dataset@{chroms[0]}`)", p.path)
    size = genome.sizes[chrom]
    codes = genome.codes(chrom)
    peaks = read_peak_sets(peaks_dir)
    names = peaks.task_names
    cb = sample_examples(spec, size, codes, [iv.chrom(chrom) for iv in peaks.tasks.values()],
                         peaks.elsewhere.chrom(chrom), peaks.blacklist.chrom(chrom), flank_bins=flank_bins,
                         neg_ratio=neg_ratio, fractions=fractions, max_n_fraction=max_n, seed=chrom_seed(seed, chrom))
    n = dict(cb.counts)
    n["per_task"] = dict(zip(names, n["per_task"]))
    dropped = (f"{n['grid']} grid bins; left out: {n['blacklisted']} overlapping the blacklist, {n['too_many_n']} with "
               f"more than {max_n:g} N in their context (dataset.max_n_fraction)")
    if not len(cb.bin_start):
        raise ParamsError("dataset.chromosomes", f"{chrom} ({size} bp) has no usable bin: {dropped}",
                          f"remove {chrom} from dataset.chromosomes (or raise dataset.max_n_fraction / shrink the "
                          "blacklist)", p.path)
    if n["positive_grid"] and not n["positive_kept"]:
        log.warning("%s: all %d bins the target peaks make positive are left out (%d overlap the blacklist, %d have "
                    "too many N)", chrom, n["positive_grid"], n["positive_blacklisted"], n["positive_too_many_n"])
    signal, info = _signal_matrix(peaks, names, chrom, size, cb.bin_start, spec.bin_size, transform, uncovered)
    write_chrom_dataset(out, chrom, size, spec, cb, meta={"fasta": str(genome_fa), "bins": n}, task_names=names,
                        signal=signal, signal_info=info)
    counts = np.bincount(cb.ex_source, minlength=4)
    per_task = dict(zip(names, cb.labels.sum(axis=0).tolist()))
    log.info("%s: %s; %d genome-wide bins (%d positive%s); %d examples: %s", chrom, dropped, len(cb.bin_start),
             int(cb.labels.any(axis=1).sum()), f" for any task; per task {per_task}" if len(names) > 1 else "",
             len(cb.ex_index), dict(zip(("positive", "flank", "random", "elsewhere"), counts.tolist())))
    return out
