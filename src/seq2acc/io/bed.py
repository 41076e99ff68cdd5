"""Reading and checking interval files (BED3+, BED6, ENCODE narrowPeak) and writing BED; every problem is an
InputError naming the file, the 1-based line and the fix."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.errors import InputError
from seq2acc.io.chromnames import naming_convention, suggest_rename
from seq2acc.io.inputs import read_lines

log = logging.getLogger(__name__)

_SKIP_PREFIXES = ("#", "track", "browser")


@dataclass
class Intervals:
    """Sorted intervals of one file: chrom, start, end (0-based half-open), optional summit (absolute)."""

    df: pd.DataFrame  # columns chrom, start, end, summit (summit = -1 when none)
    source: str

    def __len__(self):
        return len(self.df)

    def chrom(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        sub = self.df[self.df.chrom == name]
        return sub.start.to_numpy(np.int64), sub.end.to_numpy(np.int64)


def read_intervals(path, sizes: dict[str, int] | None = None, *, allow_empty: bool = False,
                   drop_unknown_chroms: bool = False, what: str = "peak file", genome=None) -> Intervals:
    """Parse a BED3+/BED6/narrowPeak file with line-precise errors.

    Skips blank, '#', 'track' and 'browser' lines, and a header on the first data line (one whose columns 2
    and 3 are both non-numeric; it is logged as a warning). Columns are tab-separated (whitespace when a line
    has no tab); columns after the third are ignored except column 10. Checks integer coordinates,
    0 <= start < end, chromosome names present in ``sizes`` (with a naming-convention hint) and
    end <= chromosome size. narrowPeak (10 or more columns) gives a summit: start + column 10 when >= 0
    (it must then lie inside the peak).

    Parameters
    ----------
    path : str or Path
        The BED file, plain or gzip-compressed. Coordinates are 0-based, half-open ``[start, end)``.
    sizes : dict of str to int, optional
        Chromosome sizes of the genome (e.g. ``Genome.sizes``). None skips the chromosome-name and
        chromosome-end checks.
    allow_empty : bool, default False
        Return an empty table for a file without intervals instead of raising.
    drop_unknown_chroms : bool, default False
        Drop (with a warning) intervals on chromosomes absent from ``sizes`` instead of raising; when no
        interval is on a known chromosome it still raises.
    what : str, default "peak file"
        What the file is, used in error messages.
    genome : str or Path, optional
        The FASTA ``sizes`` come from, named in messages about chromosome names and ends.

    Returns
    -------
    Intervals
        ``.df``: a pandas DataFrame with columns chrom (str), start, end (int64, 0-based half-open) and summit
        (int64, absolute 0-based position; -1 when none), sorted by chrom (string order), start, end, with a
        fresh 0..n-1 index; ``.source``: the path as a string. ``len()`` is the number of intervals;
        ``.chrom(name)`` gives that chromosome's ``(starts, ends)`` as int64 arrays.

    Raises
    ------
    seq2acc.errors.InputError
        The file is missing, a directory, unreadable, not text (binary, non-UTF-8, a truncated gzip), another
        format (VCF, FASTA, GFF/GTF) or empty (unless ``allow_empty``), or a line is bad: fewer than 3 columns,
        non-integer coordinates, start < 0, start >= end, a bad summit, an unknown chromosome or an end past
        the chromosome. The message names the file, the 1-based line number and the fix.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, f"{what} does not exist", "check the path in params.yaml")
    rows, lines_of = [], []
    seen_data = False
    with read_lines(path, what) as fh:
        for lineno, line in enumerate(fh, start=1):
            s = line.strip()
            if not s:
                continue
            if s.startswith(_SKIP_PREFIXES):
                if s.startswith(("##fileformat=VCF", "#CHROM\tPOS")) and not seen_data:
                    raise InputError(path, f"{what} looks like a VCF (variants), not BED intervals",
                                     "give a BED3+/BED6/narrowPeak file of regions (chrom, 0-based start, end); "
                                     "variants are scored by the variants stage (variants.input)", lineno, line)
                continue
            parts = s.split("\t") if "\t" in s else s.split()
            if not seen_data:
                _check_not_other_format(path, what, lineno, line, s, parts)
            if len(parts) < 3:
                region = len(parts) == 1 and ":" in s and "-" in s
                raise InputError(path, f"{what} line has {len(parts)} column(s); BED needs at least 3 (chrom, start, end)",
                                 "use tab-separated BED3+/BED6/narrowPeak lines"
                                 + (" (write a 'chr:start-end' region as 'chr<TAB>start<TAB>end', start 0-based)"
                                    if region else ""), lineno, line)
            try:
                start, end = int(parts[1]), int(parts[2])
            except ValueError:
                if not seen_data and not _looks_numeric(parts[1]) and not _looks_numeric(parts[2]):
                    log.warning("%s:%d: skipping header line %r", path, lineno, s[:80])
                    seen_data = True
                    continue
                raise InputError(path, f"coordinates must be integers, got start={parts[1]!r} end={parts[2]!r}",
                                 "write 0-based integer start and end (no decimals, no commas)", lineno, line) from None
            seen_data = True
            if start < 0:
                raise InputError(path, f"negative start {start}", "BED starts are 0-based and >= 0", lineno, line)
            if start >= end:
                raise InputError(path, f"start {start} is not before end {end}",
                                 "swap start/end or drop the empty interval (BED is 0-based, half-open)", lineno, line)
            summit = -1
            if len(parts) >= 10:
                try:
                    off = int(parts[9])
                except ValueError:
                    raise InputError(path, f"narrowPeak summit (column 10) must be an integer, got {parts[9]!r}",
                                     "use -1 for 'no summit'", lineno, line) from None
                if off >= 0:
                    if start + off >= end:
                        raise InputError(path, f"narrowPeak summit offset {off} lies outside the peak (width {end - start})",
                                         "column 10 is the summit offset from start; use -1 for none", lineno, line)
                    summit = start + off
            rows.append((parts[0], start, end, summit))
            lines_of.append((lineno, line))
    if not rows:
        if allow_empty:
            return Intervals(pd.DataFrame(columns=["chrom", "start", "end", "summit"]).astype(
                {"start": np.int64, "end": np.int64, "summit": np.int64}), str(path))
        raise InputError(path, f"{what} has no intervals", "give a BED file with at least one 'chrom<TAB>start<TAB>end' line")
    df = pd.DataFrame(rows, columns=["chrom", "start", "end", "summit"])
    df["line"] = [ln for ln, _ in lines_of]
    if sizes is not None:
        df = _check_against_genome(df, sizes, path, lines_of, drop_unknown_chroms, what, genome)
    df = df.sort_values(["chrom", "start", "end"], kind="stable").reset_index(drop=True)
    return Intervals(df[["chrom", "start", "end", "summit"]].copy(), str(path))


def _looks_numeric(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _check_not_other_format(path, what, lineno, line, s, parts) -> None:
    """The first data line of a file that is not BED: FASTA, VCF without header, GFF/GTF."""
    if s.startswith(">"):
        raise InputError(path, f"{what} looks like a FASTA (sequences), not BED intervals",
                         "give a BED3+/BED6/narrowPeak file of regions; the genome FASTA goes to genome.fasta",
                         lineno, line)
    if len(parts) >= 5 and all(map(_is_int, parts[3:5])) and not _looks_numeric(parts[1]) \
            and not _looks_numeric(parts[2]):
        raise InputError(path, f"{what} looks like GFF/GTF (1-based start and end in columns 4 and 5), not BED",
                         "convert it to BED (0-based start): e.g. `awk -v OFS='\\t' '{print $1, $4 - 1, $5}' FILE`",
                         lineno, line)
    if len(parts) >= 5 and _is_int(parts[1]) and not _is_int(parts[2]) and _is_allele(parts[3]) \
            and _is_allele(parts[4]):
        raise InputError(path, f"{what} looks like a VCF (CHROM POS ID REF ALT), not BED intervals",
                         "give a BED3+/BED6/narrowPeak file of regions (chrom, 0-based start, end); variants are "
                         "scored by the variants stage (variants.input)", lineno, line)


def _is_int(s: str) -> bool:
    try:
        int(s)
        return True
    except ValueError:
        return False


def _is_allele(s: str) -> bool:
    return bool(s) and all(a and set(a.upper()) <= set("ACGTN*") or a.startswith("<") for a in s.split(","))


def _check_against_genome(df, sizes, path, lines_of, drop_unknown, what, genome=None):
    fasta = f"the FASTA ({genome})" if genome else "the FASTA"
    last = next(reversed(sizes), None)
    unknown = sorted(set(df.chrom) - set(sizes))
    if unknown:
        known_frac = 1 - df.chrom.isin(unknown).mean()
        first = df[df.chrom.isin(unknown)].iloc[0]
        idx = int(np.flatnonzero(df.chrom.isin(unknown).to_numpy())[0])
        lineno, line = lines_of[idx]
        if drop_unknown and known_frac > 0:
            log.warning("%s: dropping %d intervals on chromosomes absent from the FASTA: %s", path,
                        int(df.chrom.isin(unknown).sum()), ", ".join(unknown[:10]))
            df = df[~df.chrom.isin(unknown)]
        else:
            hint = suggest_rename(unknown, sizes)
            ours, theirs = naming_convention(unknown), naming_convention(sizes)
            if hint or ours != theirs:
                fix = (f"{what} uses {ours} names, the FASTA uses {theirs}: "
                       + (hint if hint else "make the names match the FASTA")
                       + ("; or set peaks.drop_unknown_chroms: true to drop them" if known_frac > 0 else ""))
            else:  # same naming: the FASTA may be the one lacking them (cut short, partial assembly)
                fix = (f"{fasta} lacks these sequences: if it is incomplete (cut short by an interrupted download or "
                       f"copy: its last sequence is '{last}'), replace it with the complete file"
                       + ("; if they are really not in the assembly (e.g. chrM, unplaced contigs), set "
                          "peaks.drop_unknown_chroms: true to drop their intervals" if known_frac > 0 else
                          f"; otherwise give a {what} of this assembly"))
            raise InputError(path, f"{len(unknown)} chromosome name(s) not in {fasta}: {', '.join(unknown[:8])}"
                             f"{' ...' if len(unknown) > 8 else ''} (first '{first.chrom}'; the FASTA has "
                             f"{len(sizes)} sequence(s))", fix, lineno, line)
    size = df.chrom.map(sizes).to_numpy()
    past = df.end.to_numpy() > size
    if past.any():
        i = int(np.flatnonzero(past)[0])
        row = df.iloc[i]
        lineno = int(row.line)
        text = next(t for ln, t in lines_of if ln == lineno)
        cut = (f"; {row.chrom} is the last sequence of {fasta}: if the FASTA was cut short, replace it with the "
               "complete file" if row.chrom == last else "")
        raise InputError(path, f"interval end {row.end} is past the end of {row.chrom} (length {sizes[row.chrom]}); "
                         f"{int(past.sum())} such interval(s)",
                         "check the file uses the same assembly as the FASTA; clip with `bedtools slop -b 0 -g "
                         f"chrom.sizes`{cut}", lineno, text)
    return df


def write_bed(iv: Intervals | pd.DataFrame, path) -> None:
    from seq2acc.io.atomic import atomic_path

    df = iv.df if isinstance(iv, Intervals) else iv
    with atomic_path(path) as tmp:
        df[["chrom", "start", "end"]].to_csv(tmp, sep="\t", header=False, index=False)


def read_bed3(path) -> Intervals:
    """Read a BED3 written by this package (no checks beyond the parser's)."""
    if not Path(path).exists():
        raise InputError(path, "peaks output does not exist", "run the peaks stage first (`dvc repro peaks`)")
    return read_intervals(path, None, allow_empty=True)


# ----------------------------------------------------------------------------- overlap arithmetic

