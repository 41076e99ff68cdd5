"""DVC stage ``dataset@<chrom>``: bins, labels and informative negatives of one chromosome, plus every genome-wide
bin -> ``data/datasets/<chrom>.h5`` (schema in README)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from seq2acc.config import Params, layout
from seq2acc.data.bins import BinSpec, chrom_seed, sample_examples
from seq2acc.data.store import write_chrom_dataset
from seq2acc.errors import ParamsError
from seq2acc.io.bed import read_bed3
from seq2acc.io.fasta import Genome
from seq2acc.io.chromnames import naming_convention, suggest_rename

log = logging.getLogger(__name__)


def bin_spec(p: Params) -> BinSpec:
    """The ``dataset`` grid: bin size, stride, context, positive overlap."""
    return BinSpec(p.get("dataset.bin_size", int, gt=0), p.get("dataset.stride", int, gt=0),
                   p.get("dataset.context", int, gt=0), p.get("dataset.positive_overlap", float, ge=0, lt=1))


def build_dataset(p: Params, chrom: str) -> Path:
    """Stage body of ``dataset@<chrom>``."""
    lay = layout(p)
    genome_fa, peaks_dir, out = lay.genome, lay.peaks, lay.dataset(chrom)
    spec = bin_spec(p)
    genome = Genome(genome_fa)
    if chrom not in genome.sizes:
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
