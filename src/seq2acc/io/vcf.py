"""Variants in: VCF (``.vcf``/``.vcf.gz``) or TSV (chrom, pos 1-based, ref, alt[, id]) with line-precise errors,
checked against the genome (chromosome names, position range, reference allele); and a minimal VCF writer.

Coordinates are **1-based** as in VCF (``POS``): ``pos = 1`` is the first base of a chromosome.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.errors import InputError
from seq2acc.io.atomic import write_text
from seq2acc.io.chromnames import naming_convention, suggest_rename
from seq2acc.io.inputs import read_lines
from seq2acc.seq.encoding import decode_codes

log = logging.getLogger(__name__)


_ALLELE = re.compile(r"^[ACGTNacgtn]+$")


_TSV_COLS = ("chrom", "pos", "ref", "alt")


def _open_text(path: Path):
    return read_lines(path, "variant file")


def _is_vcf(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith((".vcf", ".vcf.gz", ".vcf.bgz")):
        return True
    with _open_text(path) as fh:
        first = next(fh, "")
    return first.startswith("##fileformat=VCF")


def read_variants(path, skip_unsupported: bool = False) -> pd.DataFrame:
    """Read a VCF (plain or gzipped) or a TSV of ``chrom pos ref alt [id]`` into a table.

    TSV: tab- or whitespace-separated; an optional header line naming the columns (``chrom``/``#chrom``/
    ``chr``/``chromosome``, ``pos``/``position``, ``ref``, ``alt``, optional ``id``/``name``) in any order;
    without a header the columns are ``chrom pos ref alt [id]``. Lines starting with '#' (other than a header)
    and blank lines are skipped. VCF (a name ending .vcf/.vcf.gz/.vcf.bgz, or a first line ``##fileformat=VCF``):
    tab-separated columns CHROM POS ID REF ALT (the rest is ignored); multi-allelic ALT (``A,T``) gives one row
    per alt allele (ids get ``_1``, ``_2``, ...); ALT ``.`` (no variant) is skipped.

    Positions are 1-based. Alleles must be A/C/G/T/N strings; symbolic alleles (``<DEL>``, ``*``, breakends) are
    an error, or are skipped with a warning when ``skip_unsupported``. The genome is NOT consulted here: check
    chromosome names, ranges and REF with :func:`check_variants` before building windows.

    Parameters
    ----------
    path : str or Path
        VCF or TSV file, plain or gzip/bgzip-compressed.
    skip_unsupported : bool, default False
        Skip records with a non-A/C/G/T/N allele (with a warning) instead of raising.

    Returns
    -------
    variants : pandas.DataFrame
        One row per (record, alt allele), in file order, with columns id (str; ``chrom:pos:REF>ALT`` when the
        file gives none or '.'), chrom (str), pos (int64, 1-based: 1 = first base of the chromosome), ref, alt
        (upper-case str) and line (int64, 1-based line in the file).

    Raises
    ------
    seq2acc.errors.InputError
        The file is missing, a directory, unreadable, not text (binary, non-UTF-8, a truncated gzip) or holds no
        (scoreable) variant, or a line is bad: too few columns, a position that
        is not an integer >= 1, an unsupported allele (unless ``skip_unsupported``), ALT equal to REF, or a TSV
        header without chrom/pos/ref/alt. The message names the file, the 1-based line and the fix.
    """
    path = _existing(path)
    rows, problems = [], []
    for kind, item in _records(path):
        (rows if kind == "row" else problems).append(item)
    report_problems(path, problems, skip_unsupported)
    if not rows:
        raise InputError(path, "no variants in the file", "give at least one variant (VCF or TSV chrom pos ref alt)")
    return _frame(rows)


_COLUMNS = ["id", "chrom", "pos", "ref", "alt", "line"]


def _frame(rows: list) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=_COLUMNS)
    df["pos"] = df["pos"].astype(np.int64)
    df["line"] = df["line"].astype(np.int64)
    return df


def _existing(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(path, "variant file does not exist", "check variants.input in params.yaml")
    return path


def _records(path: Path):
    """The file's records in order: ("row", [id, chrom, pos, ref, alt, line]) or ("problem", (line, text, problem,
    fix)); a structural error (too few columns, a bad header) raises at once."""
    return _vcf_records(path) if _is_vcf(path) else _tsv_records(path)


class _RecordProblem(Exception):
    """One bad variant record: collected, then reported all at once (or skipped)."""

    def __init__(self, problem: str, fix: str):
        super().__init__(problem)
        self.problem, self.fix = problem, fix


def _check_allele(what, allele):
    if not _ALLELE.match(allele):
        raise _RecordProblem(f"{what} allele {allele!r} is not a plain A/C/G/T/N sequence (symbolic alleles such as "
                             "<DEL>, '*' or breakends cannot be scored)",
                             "remove the record, or normalise it (e.g. `bcftools norm -m -any -f genome.fa`)")


def _parse_pos(text):
    try:
        pos = int(text)
    except ValueError:
        raise _RecordProblem(f"position {text!r} is not an integer", "write the 1-based position as an integer") \
            from None
    if pos < 1:
        raise _RecordProblem(f"position {pos} is below 1; variant positions are 1-based (as in VCF)",
                             "use 1-based positions: the first base of a chromosome is 1 (add 1 to 0-based/BED starts)")
    return pos


def _row(vid, chrom, pos_text, ref, alt):
    pos = _parse_pos(pos_text)
    ref, alt = ref.upper(), alt.upper()
    _check_allele("REF", ref)
    _check_allele("ALT", alt)
    if ref == alt:
        raise _RecordProblem(f"ALT equals REF ({ref}): not a variant", "remove the record or fix the alleles")
    vid = vid if vid not in (None, "", ".") else f"{chrom}:{pos}:{ref}>{alt}"
    return [vid, chrom, pos, ref, alt]


def report_problems(path, problems: list, skip: bool, what: str = "variant record") -> None:
    """All bad records of a file at once: ``problems`` is a list of (1-based line, line text, problem, fix).
    ``skip``: log them and go on; else one :class:`InputError` listing them (the first 20), naming the first line."""
    if not problems:
        return
    if skip:
        for lineno, _, problem, _ in problems:
            log.warning("%s:%d: skipping %s: %s", path, lineno, what, problem)
        log.warning("%s: %d bad %s(s) skipped (variants.skip_unsupported: true)", path, len(problems), what)
        return
    lineno, text, problem, fix = problems[0]
    more = "".join(f"\n    line {ln}: {pr}" for ln, _, pr, _ in problems[1:20])
    if len(problems) > 20:
        more += f"\n    ... and {len(problems) - 20} more"
    fixes = sorted({f for *_, f in problems})
    raise InputError(path, f"{len(problems)} bad {what}(s); the first: {problem}{more}",
                     "; ".join(fixes) + "; or set variants.skip_unsupported: true to skip them", lineno, text)


def _vcf_records(path: Path):
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) < 5:
                raise InputError(path, f"VCF record has {len(parts)} tab-separated column(s); need at least 5 "
                                 "(CHROM POS ID REF ALT)", "separate VCF columns with tabs", lineno, line)
            chrom, pos, vid, ref, alts = parts[:5]
            alt_list = alts.split(",")
            for j, alt in enumerate(alt_list):
                if alt == ".":  # monomorphic reference record: nothing to score
                    continue
                rid = vid if len(alt_list) == 1 or vid in ("", ".") else f"{vid}_{j + 1}"
                try:
                    yield "row", [*_row(rid, chrom, pos, ref, alt), lineno]
                except _RecordProblem as e:
                    yield "problem", (lineno, line, e.problem, e.fix)


def _tsv_records(path: Path):
    cols, seen = None, False
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            s = line.strip()
            if not s:
                continue
            parts = s.split("\t") if "\t" in s else s.split()
            low = [p.lower().lstrip("#") for p in parts]
            if cols is None and not seen and ("ref" in low and "alt" in low):
                names = {"chr": "chrom", "chromosome": "chrom", "position": "pos", "name": "id"}
                low = [names.get(x, x) for x in low]
                missing = [c for c in _TSV_COLS if c not in low]
                if missing:
                    raise InputError(path, f"header lacks column(s) {missing}", "name the columns chrom, pos, ref, alt "
                                     "(optional id)", lineno, line)
                cols = {c: low.index(c) for c in (*_TSV_COLS, "id") if c in low}
                continue
            if s.startswith("#"):
                continue
            if cols is None:
                if len(parts) < 4:
                    raise InputError(path, f"line has {len(parts)} column(s); need chrom, pos, ref, alt",
                                     "write tab-separated 'chrom pos ref alt [id]' lines (1-based pos) or a VCF",
                                     lineno, line)
                cols = {"chrom": 0, "pos": 1, "ref": 2, "alt": 3}
                if len(parts) >= 5:
                    cols["id"] = 4
            if len(parts) <= max(cols.values()):
                raise InputError(path, f"line has {len(parts)} column(s), expected {max(cols.values()) + 1}",
                                 "give every line the same columns as the header", lineno, line)
            seen = True
            try:
                yield "row", [*_row(parts[cols["id"]] if "id" in cols else None, parts[cols["chrom"]],
                                    parts[cols["pos"]], parts[cols["ref"]], parts[cols["alt"]]), lineno]
            except _RecordProblem as e:
                yield "problem", (lineno, line, e.problem, e.fix)


def check_variants(variants: pd.DataFrame, genome, path, skip: bool = False) -> pd.DataFrame:
    """Every variant's chromosome exists, its span lies inside it, and REF equals the genome there.

    All mismatches are reported at once (:func:`report_problems`): one :class:`InputError` naming each bad
    variant's file line and the genome's bases, with a hint when the file looks 0-based (the REF matches one base
    to the right/left) or uses another chromosome naming; with ``skip`` they are logged and dropped.

    Returns
    -------
    pandas.DataFrame
        ``variants`` without the skipped rows (all of them when nothing was wrong).
    """
    problems, bad = [], []
    for i, r in enumerate(variants.itertuples(index=False)):
        problem = genome_problem(r, genome)
        if problem is not None:
            problems.append((r.line, *problem))
            bad.append(i)
    report_problems(path, problems, skip, "variant")
    if bad and len(bad) == len(variants):
        raise InputError(path, f"all {len(variants)} variants were skipped", "fix the file (see the warnings above)")
    return variants.drop(variants.index[bad]).reset_index(drop=True) if bad else variants


def genome_problem(r, genome) -> tuple[str, str, str] | None:
    """(text, problem, fix) when variant ``r`` (a row with chrom, pos, ref, alt, id) does not fit the genome: an
    unknown chromosome, a REF past the chromosome end, or a REF other than the genome's bases; None when it fits."""
    where = f"variant {r.id} ({r.chrom}:{r.pos} {r.ref}>{r.alt})"
    text = f"{r.chrom}\t{r.pos}\t{r.ref}\t{r.alt}"
    if r.chrom not in genome.sizes:
        hint = suggest_rename([r.chrom], genome.sizes)
        return (text, f"{where}: chromosome {r.chrom!r} is not in {genome.path} (the FASTA uses "
                f"{naming_convention(genome.sizes)} names)", hint or "use the genome's chromosome names")
    size = genome.sizes[r.chrom]
    end = r.pos - 1 + len(r.ref)
    if end > size:
        return (text, f"{where}: REF spans {r.pos}..{end} but {r.chrom} has {size} bases (1-based: last position is "
                f"{size})", "check the genome build and that positions are 1-based")
    codes = genome.codes(r.chrom)
    have = decode_codes(codes[r.pos - 1:end])
    if have == r.ref:
        return None
    hint = ""
    for shift, word in ((1, "0-based (one base too far left)"), (-1, "shifted one base to the right")):
        s0 = r.pos - 1 + shift
        if 0 <= s0 and s0 + len(r.ref) <= size and decode_codes(codes[s0:s0 + len(r.ref)]) == r.ref:
            hint = f" The REF does match at position {r.pos + shift}: the file may be {word}."
            break
    return (text, f"{where}: REF {r.ref!r} does not match the genome, which has {have!r} at {r.chrom}:{r.pos}-{end} "
            f"(1-based).{hint}", "use the same genome build as the FASTA, 1-based positions (as in VCF), and REF on "
            "the forward strand")


# ----------------------------------------------------------------------------- streaming (any number of variants)
def _checked(path: Path, genome):
    """(kind, item) of every record, genome problems included: ("row", row) or ("problem", problem)."""
    for kind, item in _records(path):
        if kind == "row":
            r = _RowView(item)
            problem = genome_problem(r, genome)
            if problem is not None:
                yield "problem", (r.line, *problem)
                continue
        yield kind, item


class _RowView:
    __slots__ = ("id", "chrom", "pos", "ref", "alt", "line")

    def __init__(self, row):
        self.id, self.chrom, self.pos, self.ref, self.alt, self.line = row


def scan_variants(path, genome, skip_unsupported: bool = False, max_listed: int = 1000) -> int:
    """Check a whole variant file against the genome in one streaming pass (memory independent of its size), before
    anything is scored: every bad record (syntax: :func:`read_variants`; genome: :func:`check_variants`) is
    reported at once in one :class:`InputError` naming the file and each bad line (``skip_unsupported``: logged,
    and :func:`iter_variants` leaves them out).

    Parameters
    ----------
    path : str or Path
        VCF or TSV (as :func:`read_variants`).
    genome : Genome
        The reference genome (:class:`seq2acc.Genome`).
    skip_unsupported : bool, default False
        Log bad records and go on instead of raising.
    max_listed : int, default 1000
        Bad records kept for the message/log (the count stays exact).

    Returns
    -------
    int
        The number of scoreable variants (rows :func:`iter_variants` yields).

    Raises
    ------
    seq2acc.errors.InputError
        A bad record (unless ``skip_unsupported``), a structural error, or no scoreable variant.
    """
    path = _existing(path)
    n, n_bad, problems = 0, 0, []
    for kind, item in _checked(path, genome):
        if kind == "row":
            n += 1
        else:
            n_bad += 1
            if len(problems) < max_listed:
                problems.append(item)
    if n_bad > len(problems):
        log.warning("%s: %d bad record(s); the first %d are listed", path, n_bad, len(problems))
    report_problems(path, problems, skip_unsupported, "variant")
    if n == 0:
        raise InputError(path, "no scoreable variant in the file" + (f" ({n_bad} bad record(s) skipped)" if n_bad else ""),
                         "give at least one variant (VCF or TSV chrom pos ref alt) that matches the genome")
    return n


def iter_variants(path, genome, chunk: int, start: int = 0):
    """The scoreable variants of a file (those :func:`scan_variants` accepts, in file order), ``chunk`` rows at a
    time, as tables like :func:`read_variants`'s; ``start``: skip the first ``start`` of them (resuming). Bad
    records are left out silently: run :func:`scan_variants` first. Reads the file as it goes (memory ~ one chunk).

    Yields
    ------
    pandas.DataFrame
        Columns id, chrom, pos (1-based), ref, alt, line, at most ``chunk`` rows each.
    """
    path = _existing(path)
    rows, seen = [], 0
    for kind, item in _checked(path, genome):
        if kind != "row":
            continue
        seen += 1
        if seen <= start:
            continue
        rows.append(item)
        if len(rows) == chunk:
            yield _frame(rows)
            rows = []
    if rows:
        yield _frame(rows)


def variants_from_table(table: pd.DataFrame, genome, skip_unsupported: bool = False,
                        name: str = "variants table") -> pd.DataFrame:
    """A user's table of variants (columns chrom, pos 1-based, ref, alt, optional id) checked like a file: the
    alleles as :func:`read_variants`, the genome as :func:`check_variants`, all problems at once, named
    ``<name>:<row>`` (1-based row). Returns the columns of :func:`read_variants` (``line`` = the 1-based row)."""
    from seq2acc.errors import ArgumentError

    missing = [c for c in _TSV_COLS if c not in table.columns]
    if missing:
        raise ArgumentError("variants", f"the table lacks column(s) {missing}",
                            "give columns chrom, pos (1-based), ref, alt and optionally id")
    ids = table["id"] if "id" in table.columns else [None] * len(table)
    rows, problems = [], []
    for i, (vid, chrom, pos, ref, alt) in enumerate(zip(ids, table.chrom, table.pos, table.ref, table.alt), start=1):
        text = f"{chrom}\t{pos}\t{ref}\t{alt}"
        try:
            rows.append([*_row(None if vid is None or pd.isna(vid) else str(vid), str(chrom), str(pos), str(ref),
                               str(alt)), i])
        except _RecordProblem as e:
            problems.append((i, text, e.problem, e.fix))
    report_problems(name, problems, skip_unsupported)
    if not rows:
        raise InputError(name, "no variants", "give at least one variant (chrom, pos, ref, alt)")
    return check_variants(_frame(rows), genome, name, skip_unsupported)


def write_vcf(df: pd.DataFrame, path) -> None:
    """A minimal VCF 4.2 of SNVs (columns chrom, pos 1-based, id, ref, alt, cls -> INFO CLS=...)."""
    lines = ["##fileformat=VCFv4.2", "##source=seq2acc.sim.simulate planted-motif SNVs",
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    lines += [f"{r.chrom}\t{r.pos}\t{r.id}\t{r.ref}\t{r.alt}\t.\t.\tCLS={r.cls}" for r in df.itertuples()]
    write_text(path, "\n".join(lines) + "\n")
