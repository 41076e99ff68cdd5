"""The user's inputs of ``seq2acc predict`` and ``seq2acc explain``, read and checked in one place.

- sequences: a FASTA file (:func:`read_fasta_records`) or DNA strings (:func:`check_dna`); each record at least
  the model's input length, cut into input windows by :func:`sequence_windows`;
- regions: a BED/narrowPeak table or ``chr:start-end`` strings (:func:`parse_region`), one input window per
  region centred on its summit or centre (:func:`region_windows`);
- chromosomes of the genome (:func:`check_chromosome`).

Every bad input is an :class:`~seq2acc.errors.InputError` naming the file or argument and the fix.
Coordinates are 0-based half-open (BED).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.errors import InputError
from seq2acc.io.fasta import Genome
from seq2acc.seq.encoding import encode

_REGION = re.compile(r"^([^:\s]+):([\d,]+)-([\d,]+)$")
DNA_LETTERS = frozenset("ACGTNRYKMSWBDHVacgtnrykmswbdhv")  # N and IUPAC codes are read as unknown (all-zero rows)


def is_region(text: str) -> bool:
    """Whether ``text`` is written like a region string ``chr:start-end``."""
    return bool(_REGION.match(text.strip()))


def parse_region(text: str) -> tuple[str, int, int]:
    """``chr:start-end`` (0-based half-open, commas allowed) -> (chrom, start, end)."""
    m = _REGION.match(text.strip())
    if not m:
        raise InputError(text, "not a region", "write it as chrom:start-end, e.g. chr4:100000-101000 (0-based, end "
                         "exclusive)")
    a, b = int(m.group(2).replace(",", "")), int(m.group(3).replace(",", ""))
    if b <= a:
        raise InputError(text, "end must be larger than start", "write chrom:start-end with start < end")
    return m.group(1), a, b


def check_dna(text: str, where, line: int | None = None, shown: str | None = None) -> None:
    """Raise an :class:`InputError` at ``where`` (file or argument; ``line``: 1-based) if ``text`` has letters
    other than DNA (A, C, G, T, N, IUPAC codes; any case)."""
    bad = set(text) - DNA_LETTERS
    if bad:
        raise InputError(where, f"characters other than DNA letters: {sorted(bad)[:10]}",
                         "give DNA sequences (A, C, G, T; N and IUPAC codes count as unknown)", line,
                         shown if shown is not None else (text if line is not None else None))


def read_fasta_records(path) -> list[tuple[str, str, int]]:
    """(name, sequence, 1-based header line) of every record of a FASTA of sequences (plain or gzip); letters are
    checked line by line (:func:`check_dna`)."""
    from seq2acc.io.inputs import read_lines

    records, name, seq, start_line = [], None, [], 0
    with read_lines(path, "FASTA of sequences") as lines:
        for lineno, line in enumerate(lines, start=1):
            line = line.strip()
            if line.startswith(">"):
                if name is not None:
                    records.append((name, "".join(seq), start_line))
                words = line[1:].split()
                name, seq, start_line = (words[0] if words else f"seq{len(records) + 1}"), [], lineno
            elif line:
                if name is None:
                    raise InputError(path, "sequence before the first '>' header", "start every record with '>name'",
                                     lineno, line)
                check_dna(line, path, lineno, line)
                seq.append(line)
    if name is not None:
        records.append((name, "".join(seq), start_line))
    if not records:
        raise InputError(path, "no sequence", "give a FASTA with at least one record of the model's input length")
    return records


def tile_starts(n: int, length: int, stride: int) -> list[int]:
    """Window starts ``0, stride, ...`` over ``n`` bp; the last window ends at ``n`` (``n >= length``)."""
    starts = list(range(0, n - length + 1, stride))
    if starts[-1] != n - length:
        starts.append(n - length)
    return starts


def sequence_windows(records, length: int, stride: int, where) -> tuple[dict, np.ndarray]:
    """Input windows of ``(name, sequence, line)`` records: a record of exactly ``length`` bp is one window, a
    longer one is tiled every ``stride`` bp (the last window ends at the record's end); a shorter one is an
    :class:`InputError` at ``where`` (its line, when known).

    Returns ``rows`` (``{"name": [...], "start": [...], "end": [...]}``, window coordinates in the record) and the
    windows' codes, (n_windows, length) uint8 (:func:`seq2acc.seq.encoding.encode`)."""
    rows = {"name": [], "start": [], "end": []}
    windows = []
    for nm, s, lineno in records:
        if len(s) < length:
            raise InputError(where, f"sequence {nm!r} is {len(s)} bp, shorter than the model's {length} bp input",
                             f"give sequences of at least {length} bp (add genomic flanks)", lineno)
        codes = encode(s)
        for a in tile_starts(len(s), length, stride):
            rows["name"].append(nm), rows["start"].append(a), rows["end"].append(a + length)
            windows.append(codes[a:a + length])
    return rows, np.stack(windows)


def check_chromosome(genome: Genome, chrom: str) -> None:
    if chrom not in genome.sizes:
        raise InputError(chrom, f"not a sequence of {genome.path}",
                         f"use one of {', '.join(list(genome.sizes)[:8])}{', ...' if len(genome.sizes) > 8 else ''}")


def region_windows(genome: Genome, regions: pd.DataFrame, length: int, what) -> pd.DataFrame:
    """One input window of ``length`` bp per region (columns chrom, start, end, optional summit >= 0), centred on
    its summit, else its centre. Regions on chromosomes not in the genome, or whose window would cross a chromosome
    end, are an :class:`InputError` at ``what`` (the file or the region strings).

    Returns a table in the regions' order: chrom, start, end (the input window), region_start, region_end."""
    df = regions.reset_index(drop=True)
    unknown = sorted(set(df.chrom) - set(genome.sizes))
    if unknown:
        raise InputError(what, f"chromosome(s) {unknown[:5]} are not in {genome.path}",
                         f"use the genome's names ({', '.join(list(genome.sizes)[:5])}, ...)")
    summit = df["summit"].to_numpy() if "summit" in df else np.full(len(df), -1)
    centre = np.where(summit >= 0, summit, (df.start.to_numpy() + df.end.to_numpy()) // 2).astype(np.int64)
    start = centre - length // 2
    size = df.chrom.map(genome.sizes).to_numpy()
    bad = np.flatnonzero((start < 0) | (start + length > size))
    if len(bad):
        r = df.iloc[bad[0]]
        raise InputError(what, f"{len(bad)} region(s) too close to a chromosome end for a {length} bp window, e.g. "
                         f"{r.chrom}:{r.start}-{r.end}",
                         f"keep regions at least {length // 2} bp from the chromosome ends")
    return pd.DataFrame({"chrom": df.chrom.to_numpy(), "start": start, "end": start + length,
                         "region_start": df.start.to_numpy(), "region_end": df.end.to_numpy()})


INPUT_KINDS = ("regions", "region", "fasta", "sequences", "onehot")
FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")


def sequence_records(inputs) -> list[tuple[str, str, None]]:
    """``(name, sequence, None)`` records of DNA strings: a str, a list of them (named seq1, seq2, ...) or a dict
    name -> sequence; letters checked (:func:`check_dna`)."""
    items = inputs.items() if isinstance(inputs, dict) else \
        ((f"seq{i + 1}", s) for i, s in enumerate([inputs] if isinstance(inputs, str) else inputs))
    records = []
    for i, (nm, s) in enumerate(items):
        if not isinstance(s, str):
            raise InputError(f"sequence {nm!r}", f"is a {type(s).__name__}, not a DNA string",
                             "give DNA strings (or one-hot arrays as one (n, L, 4) array)")
        check_dna(s, f"sequence {nm!r}")
        records.append((str(nm), s, None))
    return records


def classify_inputs(inputs, command: str) -> str:
    """The kind of ``inputs`` (one of :data:`INPUT_KINDS`) for ``command`` (``seq2acc explain`` or ``predict``)."""
    if isinstance(inputs, pd.DataFrame):
        return "regions"
    if isinstance(inputs, np.ndarray):
        return "onehot"
    if isinstance(inputs, (str, Path)):
        s = str(inputs)
        if isinstance(inputs, str) and is_region(s):
            return "region"
        if Path(s).exists():
            name = s.lower().removesuffix(".gz")
            return "fasta" if name.endswith(FASTA_SUFFIXES) else "regions"
        if isinstance(inputs, str) and set(s) <= DNA_LETTERS:
            return "sequences"
        if isinstance(inputs, Path) or "/" in s or "." in s:
            raise InputError(s, "no such file", "give an existing BED/narrowPeak or FASTA path")
        return "sequences"  # letters are checked (and rejected) there
    if isinstance(inputs, dict):
        return "sequences"
    if isinstance(inputs, (list, tuple)) and inputs:
        if all(isinstance(v, str) and is_region(v) for v in inputs):
            return "region"
        return "sequences"
    raise InputError(repr(inputs)[:60], f"not an input {command} knows",
                     "give a BED/narrowPeak or FASTA path, chrom:start-end strings, DNA strings, a DataFrame of "
                     "regions (chrom, start, end) or one-hot arrays (n, L, 4)")


def regions_table(inputs, kind: str, genome: Genome) -> tuple[pd.DataFrame, str]:
    """(regions (chrom, start, end[, summit]), a name for errors) of ``kind`` ``"region"`` (``chr:start-end``
    strings) or ``"regions"`` (a BED/narrowPeak path, checked against ``genome``, or a DataFrame)."""
    if kind == "region":
        items = [inputs] if isinstance(inputs, str) else list(inputs)
        return pd.DataFrame([parse_region(r) for r in items], columns=["chrom", "start", "end"]), ", ".join(items)
    if isinstance(inputs, pd.DataFrame):
        return inputs, "regions table"
    from seq2acc.io.bed import read_intervals

    return read_intervals(inputs, genome.sizes, what="regions BED", genome=genome.path).df, str(inputs)


def onehot_windows(inputs, length: int) -> np.ndarray:
    """One-hot input windows (n, ``length``, 4) float32 of an array (n, ``length``, 4) or one window
    (``length``, 4); any other shape is an :class:`InputError` with the fix."""
    x = np.asarray(inputs, dtype=np.float32)
    x = x[None] if x.ndim == 2 else x
    if x.ndim != 3 or x.shape[2] != 4:
        raise InputError("one-hot input", f"shape {x.shape}", "give one-hot arrays (n, L, 4) or (L, 4)")
    if x.shape[1] != length:
        raise InputError("one-hot input", f"sequences are {x.shape[1]} bp, the model's input is {length} bp",
                         f"give windows of exactly {length} bp")
    return x
