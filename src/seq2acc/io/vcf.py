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
    path = Path(path)
    if not path.exists():
        raise InputError(path, "variant file does not exist", "check variants.input in params.yaml")
    rows = _read_vcf(path, skip_unsupported) if _is_vcf(path) else _read_tsv(path, skip_unsupported)
    if not rows:
        raise InputError(path, "no variants in the file", "give at least one variant (VCF or TSV chrom pos ref alt)")
    df = pd.DataFrame(rows, columns=["id", "chrom", "pos", "ref", "alt", "line"])
    df["pos"] = df["pos"].astype(np.int64)
    df["line"] = df["line"].astype(np.int64)
    return df


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


def _read_vcf(path: Path, skip: bool) -> list:
    rows, problems = [], []
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
                    rows.append([*_row(rid, chrom, pos, ref, alt), lineno])
                except _RecordProblem as e:
                    problems.append((lineno, line, e.problem, e.fix))
    report_problems(path, problems, skip)
    return rows


def _read_tsv(path: Path, skip: bool) -> list:
    rows, problems = [], []
    cols = None
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            s = line.strip()
            if not s:
                continue
            parts = s.split("\t") if "\t" in s else s.split()
            low = [p.lower().lstrip("#") for p in parts]
            if cols is None and not rows and ("ref" in low and "alt" in low):
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
            try:
                rows.append([*_row(parts[cols["id"]] if "id" in cols else None, parts[cols["chrom"]],
                                   parts[cols["pos"]], parts[cols["ref"]], parts[cols["alt"]]), lineno])
            except _RecordProblem as e:
                problems.append((lineno, line, e.problem, e.fix))
    report_problems(path, problems, skip)
    return rows


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
        where = f"variant {r.id} ({r.chrom}:{r.pos} {r.ref}>{r.alt})"
        text = f"{r.chrom}\t{r.pos}\t{r.ref}\t{r.alt}"
        if r.chrom not in genome.sizes:
            hint = suggest_rename([r.chrom], genome.sizes)
            problems.append((r.line, text, f"{where}: chromosome {r.chrom!r} is not in {genome.path} (the FASTA uses "
                             f"{naming_convention(genome.sizes)} names)", hint or "use the genome's chromosome names"))
            bad.append(i)
            continue
        size = genome.sizes[r.chrom]
        end = r.pos - 1 + len(r.ref)
        if end > size:
            problems.append((r.line, text, f"{where}: REF spans {r.pos}..{end} but {r.chrom} has {size} bases "
                             f"(1-based: last position is {size})",
                             "check the genome build and that positions are 1-based"))
            bad.append(i)
            continue
        codes = genome.codes(r.chrom)
        have = decode_codes(codes[r.pos - 1:end])
        if have != r.ref:
            hint = ""
            for shift, word in ((1, "0-based (one base too far left)"), (-1, "shifted one base to the right")):
                s0 = r.pos - 1 + shift
                if 0 <= s0 and s0 + len(r.ref) <= size and decode_codes(codes[s0:s0 + len(r.ref)]) == r.ref:
                    hint = f" The REF does match at position {r.pos + shift}: the file may be {word}."
                    break
            problems.append((r.line, text, f"{where}: REF {r.ref!r} does not match the genome, which has {have!r} "
                             f"at {r.chrom}:{r.pos}-{end} (1-based).{hint}",
                             "use the same genome build as the FASTA, 1-based positions (as in VCF), and REF on the "
                             "forward strand"))
            bad.append(i)
    report_problems(path, problems, skip, "variant")
    if bad and len(bad) == len(variants):
        raise InputError(path, f"all {len(variants)} variants were skipped", "fix the file (see the warnings above)")
    return variants.drop(variants.index[bad]).reset_index(drop=True) if bad else variants


def write_vcf(df: pd.DataFrame, path) -> None:
    """A minimal VCF 4.2 of SNVs (columns chrom, pos 1-based, id, ref, alt, cls -> INFO CLS=...)."""
    lines = ["##fileformat=VCFv4.2", "##source=seq2acc.sim.simulate planted-motif SNVs",
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    lines += [f"{r.chrom}\t{r.pos}\t{r.id}\t{r.ref}\t{r.alt}\t.\t.\tCLS={r.cls}" for r in df.itertuples()]
    write_text(path, "\n".join(lines) + "\n")
