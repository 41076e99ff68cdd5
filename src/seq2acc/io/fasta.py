"""Reference genome FASTA: importing a user's file (plain, gzip, bgzip), indexing (.fai, chrom.sizes) and fast
windowed access as integer codes or one-hot."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seq2acc.seq.encoding import encode, onehot_codes
from seq2acc.io.atomic import atomic_path, write_text
from seq2acc.io.inputs import os_error, read_lines, read_text
from seq2acc.errors import InputError

log = logging.getLogger(__name__)


# Base -> code: A=0 C=1 G=2 T=3 (alphabetical, protocol note 9); everything else (N, IUPAC) = 4.
# ----------------------------------------------------------------------------- obtaining a genome
LINE_WIDTH = 60  # bases per line of the genome stage's copy
# IUPAC nucleotide codes in either case, X (hard-masked) and the gap characters '-' and '*'.
_NOT_NUCLEOTIDE = re.compile(rb"[^ACGTUNRYSWKMBDHVXacgtunryswkmbdhvx*\-]")
_PROTEIN_ONLY = re.compile(rb"[EFILOPQJZefilopqjz]")
_OTHER_FORMATS = ((b"@", "a FASTQ file (reads)"), (b"LOCUS", "a GenBank file"), (b"ID ", "an EMBL file"),
                  (b"##gff", "a GFF file"), (b"##fileformat=VCF", "a VCF file"), (b"track", "a BED/wiggle file"))


@dataclass
class FastaScan:
    """What reading a FASTA found (:func:`scan_fasta`).

    Attributes
    ----------
    sizes : dict of str to int
        Sequence name (first word of its '>' line) -> length in bp, in file order.
    header_line : dict of str to int
        Sequence name -> 1-based line of its '>' header in the file.
    unterminated : bool
        The file's last line has no line end: a sign of a file cut short (interrupted download or copy).
    rewrapped : list of str
        Sequences whose lines had unequal widths (or blank lines); the copy re-wraps them to equal widths.
    """

    sizes: dict[str, int]
    header_line: dict[str, int]
    unterminated: bool = False
    rewrapped: list[str] = field(default_factory=list)

    @property
    def last(self) -> str | None:
        """The last sequence of the file (the one cut short when the file is truncated)."""
        return next(reversed(self.sizes), None)


def scan_fasta(src, out=None, width: int = LINE_WIDTH) -> FastaScan:
    """Read and check a FASTA (plain, gzip or bgzip); with ``out`` also write it as plain FASTA, ``width`` bases a line.

    Any line wrapping, CRLF line ends, blank lines and spaces inside sequence lines are accepted (the copy is
    re-wrapped); a UTF-8 byte-order mark is dropped. Header lines are copied as they are.

    Parameters
    ----------
    src : str or Path
        The user's FASTA.
    out : binary file object, optional
        Where to write the plain, re-wrapped copy.
    width : int, default 60
        Bases per line of the copy.

    Returns
    -------
    FastaScan

    Raises
    ------
    seq2acc.errors.InputError
        Not a FASTA (first non-blank line not '>'), empty, a header without a name, a duplicate sequence name
        (naming the line of the second one), a sequence with no bases, a sequence line with characters that are not
        IUPAC nucleotide codes, or any error :func:`seq2acc.io.inputs.read_lines` reports (directory, unreadable,
        truncated gzip, binary, ...). The message names ``src`` and the 1-based line.
    """
    src = Path(src)
    sizes: dict[str, int] = {}
    header_line: dict[str, int] = {}
    rewrapped: list[str] = []
    state = {"name": None, "n": 0, "w": None, "short": False, "irregular": False}
    buf = bytearray()

    def end_record():
        name = state["name"]
        if name is None:
            return
        if state["n"] == 0:
            raise InputError(src, f"sequence '{name}' has no bases (an empty record)",
                             "remove its header line or add its sequence (was the file cut short or badly "
                             "concatenated?); the genome stage stops rather than keep an empty chromosome",
                             header_line[name], f">{name}")
        if out is not None and buf:
            out.write(bytes(buf) + b"\n")
            buf.clear()
        sizes[name] = state["n"]
        if state["irregular"]:
            rewrapped.append(name)

    last = b""
    lineno = 0
    with read_lines(src, "FASTA", binary=True) as lines:
        for lineno, line in enumerate(lines, start=1):
            last = line
            if line.startswith(b">"):
                end_record()
                words = line[1:].split(None, 1)
                text = line.decode("utf-8", errors="replace")
                if not words:
                    raise InputError(src, "sequence header without a name", "write the name right after '>' "
                                     "(e.g. '>chr1')", lineno, text)
                try:
                    name = words[0].decode("utf-8")
                except UnicodeDecodeError:
                    raise InputError(src, "sequence name is not UTF-8 text", "use ASCII sequence names", lineno,
                                     text) from None
                if name in header_line:
                    raise InputError(src, f"duplicate sequence name '{name}' (first on line {header_line[name]})",
                                     "give each sequence a unique name (the first word of its '>' line), e.g. drop "
                                     "the repeated record or rename it", lineno, text)
                header_line[name] = lineno
                state.update(name=name, n=0, w=None, short=False, irregular=False)
                if out is not None:
                    out.write(line.rstrip(b"\r\n") + b"\n")
                continue
            s = line.strip()
            if not s:
                if state["name"] is not None:
                    state["short"] = True  # a blank line: only more blank lines or a header may follow
                continue
            if state["name"] is None:
                kind = next((k for m, k in _OTHER_FORMATS if s.startswith(m)), None)
                raise InputError(src, "not a FASTA file: the first line must start with '>'"
                                 + (f" (this looks like {kind})" if kind else ""),
                                 "give a FASTA file (plain, gzip or bgzip)", lineno, line.decode("utf-8", "replace"))
            if b" " in s or b"\t" in s:
                s = b"".join(s.split())
            bad = _NOT_NUCLEOTIDE.search(s)
            if bad:
                protein = _PROTEIN_ONLY.search(s) and not re.search(rb"[\d.,;:]", s)
                raise InputError(src, f"sequence line has characters that are not IUPAC nucleotide codes: "
                                 f"{bad.group().decode('utf-8', 'replace')!r}"
                                 + (" (a protein FASTA?)" if protein else ""),
                                 "give a DNA FASTA; fix or remove the line", lineno, line.decode("utf-8", "replace"))
            n = len(s)
            if state["w"] is None:
                state["w"] = n
            elif state["short"] or n > state["w"]:
                state["irregular"] = True
            if n < state["w"]:
                state["short"] = True
            state["n"] += n
            if out is not None:
                if not buf and n == width:
                    out.write(s + b"\n")
                else:
                    buf.extend(s)
                    if len(buf) >= width:
                        k = len(buf) // width * width
                        out.write(b"\n".join(bytes(buf[i:i + width]) for i in range(0, k, width)) + b"\n")
                        del buf[:k]
        end_record()
    if not sizes:
        raise InputError(src, "FASTA is empty", "give a non-empty FASTA file", 1 if lineno else None)
    return FastaScan(sizes, header_line, bool(last) and not last.endswith(b"\n"), rewrapped)


def import_fasta(src: Path, out_fasta: Path) -> FastaScan:
    """Copy a user's FASTA (plain, gzip or bgzip) to ``out_fasta`` as plain text with equal line widths, checking
    it (:func:`scan_fasta`); ``out_fasta`` appears complete or not at all."""
    src = Path(src)
    if not src.exists():
        raise InputError(src, "FASTA file does not exist", "set genome.fasta in params.yaml to an existing file")
    with atomic_path(out_fasta) as tmp, open(tmp, "wb") as fout:
        scan = scan_fasta(src, fout)
    if scan.rewrapped:
        name = scan.rewrapped[0]
        log.info("%s: %d sequence(s) had lines of unequal width (first '%s', line %d): re-wrapped to %d bases per line",
                 src, len(scan.rewrapped), name, scan.header_line[name], LINE_WIDTH)
    if scan.unterminated:
        log.warning("%s: the last line has no line end: if the file was cut short (interrupted download or copy), "
                    "its last sequence '%s' is incomplete and later ones are missing; compare its size or checksum "
                    "with the source", src, scan.last)
    return scan


def fasta_sizes(path) -> dict[str, int]:
    """Sequence sizes of a FASTA (plain, gzip or bgzip) in file order, writing nothing: an up-to-date ``.fai`` next
    to it is read, otherwise the file is read and checked as the genome stage does (:func:`scan_fasta`)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "FASTA file does not exist", "check the path")
    fai = Path(str(path) + ".fai")
    try:
        if fai.is_file() and fai.stat().st_mtime >= path.stat().st_mtime:
            sizes = {}
            for line in fai.read_text().splitlines():
                name, length = line.split("\t")[:2]
                if name in sizes:
                    raise ValueError("duplicate")
                sizes[name] = int(length)
            if sizes:
                return sizes
    except (OSError, ValueError, UnicodeDecodeError):
        pass  # no usable index: read the FASTA itself
    return scan_fasta(path).sizes


def index_fasta(fasta: Path) -> dict[str, int]:
    """Build the .fai (pyfaidx) if missing/stale and return chromosome sizes in FASTA order.

    A FASTA that cannot be indexed leaves no ``.fai`` behind."""
    import pyfaidx

    fasta = Path(fasta)
    fai = Path(str(fasta) + ".fai")
    built = False
    try:
        if not fasta.is_file():
            raise InputError(fasta, "FASTA does not exist" if not fasta.exists() else "FASTA is not a file",
                             "run the genome stage (`dvc repro genome`) or give the path of a FASTA file")
        if fai.exists() and fai.stat().st_mtime < fasta.stat().st_mtime:
            fai.unlink()
        built = not fai.exists()
        fa = pyfaidx.Fasta(str(fasta), rebuild=False, build_index=True, sequence_always_upper=True)
    except OSError as e:
        raise os_error(fasta, e, "FASTA") from None
    except InputError:
        raise
    except Exception as e:  # pyfaidx raises several types for malformed FASTA
        if built and fai.exists():
            fai.unlink()
        msg = str(e)
        if "Duplicate key" in msg:
            problem, fix = f"duplicate sequence name {msg.split('Duplicate key', 1)[1].strip()}", \
                "give each sequence a unique name (the first word of its '>' line)"
        elif "ine length" in msg or "consistent" in msg:
            problem, fix = f"cannot index FASTA: {msg}", ("make every sequence's lines equal width (e.g. `seqkit seq "
                                                          "-w 60`); the genome stage re-wraps a FASTA it imports")
        else:
            problem, fix = f"cannot index FASTA: {msg}", "give an uncompressed FASTA (the genome stage converts gzip/bgzip)"
        raise InputError(fasta, problem, fix) from e
    sizes = {name: len(fa[name]) for name in fa.keys()}
    fa.close()
    return sizes


def write_chrom_sizes(sizes: dict[str, int], path: Path) -> None:
    write_text(path, "".join(f"{c}\t{n}\n" for c, n in sizes.items()))


def read_chrom_sizes(path: Path) -> dict[str, int]:
    if not Path(path).exists():
        raise InputError(path, "chrom sizes file does not exist", "run the genome stage first (`dvc repro genome`)")
    sizes = {}
    for lineno, line in enumerate(read_text(path, "chrom sizes file").splitlines(), start=1):
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
            0-based window starts. Windows must lie inside the chromosome: an end past it or a negative start
            raises ``IndexError``.
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
            A window starts before 0 or runs past the chromosome end.
        """
        arr = self.codes(chrom)
        starts = np.asarray(starts, dtype=np.int64)
        if not len(starts):
            return np.empty((0, length), dtype=np.uint8)
        if starts.min() < 0 or starts.max() + length > len(arr):
            bad = int(starts.min()) if starts.min() < 0 else int(starts.max())
            raise IndexError(f"window [{bad}, {bad + length}) is outside {chrom} (0-{len(arr)})")
        # One row copy per window from a strided view of the chromosome (20x faster than an (n, length) index).
        return np.lib.stride_tricks.sliding_window_view(arr, length)[starts]

    def close(self):
        self._fa.close()


def gather_onehot(genome: "Genome", regions, length: int) -> np.ndarray:
    """(n, length, 4) one-hot of the windows [start, start + length) of a region table (columns chrom, start; any
    chromosome order)."""
    x = np.empty((len(regions), length), dtype=np.uint8)
    for c, idx in regions.groupby("chrom", sort=False).indices.items():
        x[idx] = genome.gather(c, regions.start.to_numpy()[idx], length)
    return onehot_codes(x)
