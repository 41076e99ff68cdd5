"""Reference genome FASTA: importing a user's file (plain, gzip, bgzip), indexing (.fai, chrom.sizes) and fast
windowed access as integer codes or one-hot."""

from __future__ import annotations

import gzip
import logging
import re
from collections import OrderedDict
from pathlib import Path

import numpy as np

from seq2acc.seq.encoding import encode, onehot_codes
from seq2acc.io.atomic import atomic_path, write_text
from seq2acc.errors import InputError

log = logging.getLogger(__name__)


# Base -> code: A=0 C=1 G=2 T=3 (alphabetical, protocol note 9); everything else (N, IUPAC) = 4.
# ----------------------------------------------------------------------------- obtaining a genome


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


# ----------------------------------------------------------------------------- sequence access
class Genome:
    """Random access to a FASTA as uint8 codes, with whole-chromosome caching for fast batch gathers.

    Codes are A=0, C=1, G=2, T=3 (alphabetical, protocol note 9), 4 for N and any other letter; lower case
    (soft-masked) bases get the same codes as upper case. Coordinates are 0-based, half-open ``[start, end)``
    (as in BED). Turn codes into one-hot with :func:`seq2acc.seq.encoding.onehot_codes`.

    Parameters
    ----------
    fasta : str or Path
        Uncompressed FASTA, as the genome stage writes it (:func:`import_fasta` converts gzip/bgzip). Its
        ``.fai`` index (pyfaidx) is built next to it if missing or older than the FASTA (the folder must then be
        writable).
    cache_chroms : int, default 64
        How many whole chromosomes :meth:`codes` / :meth:`gather` keep in memory (least recently used evicted).

    Attributes
    ----------
    path : Path
        The FASTA.
    sizes : dict of str to int
        Chromosome name -> length in bp, in FASTA order.

    Methods
    -------
    codes(chrom) -> ndarray, shape (size,), uint8
        The whole chromosome (cached).
    gather(chrom, starts, length) -> ndarray, shape (n, length), uint8
        Windows ``[start, start + length)`` of one chromosome.
    fetch_codes(chrom, start, end) -> ndarray, shape (end - start,), uint8
        One interval, without caching the chromosome.
    close()
        Close the FASTA file.

    Returns
    -------
    windows : ndarray, shape (n, length), uint8
        What the main method :meth:`gather` returns (codes as above); :meth:`codes` returns shape (size,).

    Raises
    ------
    seq2acc.errors.InputError
        The FASTA does not exist, cannot be indexed (unequal line widths, ...) or has duplicate sequence names.
    KeyError
        :meth:`codes` / :meth:`gather` of a chromosome that is not in the FASTA.
    """

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
        """Whole chromosome as uint8 codes (cached, LRU).

        Parameters
        ----------
        chrom : str
            Chromosome name as in the FASTA (a key of :attr:`sizes`).

        Returns
        -------
        codes : ndarray, shape (sizes[chrom],), uint8
            A=0 C=1 G=2 T=3, 4 = N/other. The cached array itself: do not modify it.

        Raises
        ------
        KeyError
            ``chrom`` is not in the FASTA.
        """
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
        """Codes of [start, end) without caching the chromosome (streaming access).

        Parameters
        ----------
        chrom : str
            Chromosome name.
        start, end : int
            0-based, half-open interval. Like a Python slice, it is cut at the chromosome end (no error).

        Returns
        -------
        codes : ndarray, shape (end - start,), uint8
            A=0 C=1 G=2 T=3, 4 = N/other (shorter when cut at the chromosome end).
        """
        if chrom in self._cache:
            return self._cache[chrom][start:end]
        return encode(str(self._fa[chrom][start:end]))

    def gather(self, chrom: str, starts: np.ndarray, length: int) -> np.ndarray:
        """(n, length) uint8 codes for windows [start, start+length) of one chromosome.

        Parameters
        ----------
        chrom : str
            Chromosome name (the whole chromosome is loaded and cached, see :meth:`codes`).
        starts : array_like of int, shape (n,)
            0-based window starts. Windows must lie inside the chromosome: an end past it raises ``IndexError``,
            and a negative start is NOT caught (it wraps around to the chromosome's end, as numpy indexing does).
        length : int
            Window length in bp.

        Returns
        -------
        codes : ndarray, shape (n, length), uint8
            A=0 C=1 G=2 T=3, 4 = N/other; one-hot: ``onehot_codes(codes)`` -> (n, length, 4) float32.

        Raises
        ------
        KeyError
            ``chrom`` is not in the FASTA.
        IndexError
            A window runs past the chromosome end.
        """
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
