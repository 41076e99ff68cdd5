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


def _check_allele(path, lineno, line, what, allele, skip):
    if _ALLELE.match(allele):
        return True
    problem = (f"{what} allele {allele!r} is not a plain A/C/G/T/N sequence (symbolic alleles such as <DEL>, '*' "
               "or breakends cannot be scored)")
    if skip:
        log.warning("%s:%d: skipping variant: %s", path, lineno, problem)
        return False
    raise InputError(path, problem, "remove the record, or normalise it (e.g. `bcftools norm -m -any -f genome.fa`), "
                     "or set variants.skip_unsupported: true", lineno, line)


def _parse_pos(path, lineno, line, text):
    try:
        pos = int(text)
    except ValueError:
        raise InputError(path, f"position {text!r} is not an integer", "write the 1-based position as an integer",
                         lineno, line) from None
    if pos < 1:
        raise InputError(path, f"position {pos} is below 1; variant positions are 1-based (as in VCF)",
                         "use 1-based positions: the first base of a chromosome is 1 (add 1 to 0-based/BED starts)",
                         lineno, line)
    return pos


def _row(path, lineno, line, vid, chrom, pos_text, ref, alt, skip):
    pos = _parse_pos(path, lineno, line, pos_text)
    ref, alt = ref.upper(), alt.upper()
    if not _check_allele(path, lineno, line, "REF", ref, skip) or not _check_allele(path, lineno, line, "ALT", alt, skip):
        return None
    if ref == alt:
        raise InputError(path, f"ALT equals REF ({ref}): not a variant", "remove the line or fix the alleles", lineno, line)
    vid = vid if vid not in (None, "", ".") else f"{chrom}:{pos}:{ref}>{alt}"
    return [vid, chrom, pos, ref, alt, lineno]


def _read_vcf(path: Path, skip: bool) -> list:
    rows = []
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
                r = _row(path, lineno, line, rid, chrom, pos, ref, alt, skip)
                if r:
                    rows.append(r)
    return rows


def _read_tsv(path: Path, skip: bool) -> list:
    rows = []
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
            r = _row(path, lineno, line, parts[cols["id"]] if "id" in cols else None, parts[cols["chrom"]],
                     parts[cols["pos"]], parts[cols["ref"]], parts[cols["alt"]], skip)
            if r:
                rows.append(r)
    return rows


def check_variants(variants: pd.DataFrame, genome, path) -> None:
    """Every variant's chromosome exists, its span lies inside it, and REF equals the genome there.

    A mismatch raises :class:`InputError` naming the variant, its file line and the genome's bases, with a hint
    when the file looks 0-based (the REF matches one base to the right/left) or uses another chromosome naming.
    """
    for r in variants.itertuples(index=False):
        where = f"variant {r.id} ({r.chrom}:{r.pos} {r.ref}>{r.alt})"
        if r.chrom not in genome.sizes:
            hint = suggest_rename([r.chrom], genome.sizes)
            raise InputError(path, f"{where}: chromosome {r.chrom!r} is not in {genome.path} (the FASTA uses "
                             f"{naming_convention(genome.sizes)} names)",
                             hint or "use the genome's chromosome names", r.line)
        size = genome.sizes[r.chrom]
        end = r.pos - 1 + len(r.ref)
        if end > size:
            raise InputError(path, f"{where}: REF spans {r.pos}..{end} but {r.chrom} has {size} bases (1-based: last "
                             f"position is {size})", "check the genome build and that positions are 1-based", r.line)
        codes = genome.codes(r.chrom)
        have = decode_codes(codes[r.pos - 1:end])
        if have != r.ref:
            hint = ""
            for shift, word in ((1, "0-based (one base too far left)"), (-1, "shifted one base to the right")):
                s0 = r.pos - 1 + shift
                if 0 <= s0 and s0 + len(r.ref) <= size and decode_codes(codes[s0:s0 + len(r.ref)]) == r.ref:
                    hint = f" The REF does match at position {r.pos + shift}: the file may be {word}."
                    break
            raise InputError(path, f"{where}: REF {r.ref!r} does not match the genome, which has {have!r} at "
                             f"{r.chrom}:{r.pos}-{end} (1-based).{hint}",
                             "use the same genome build as the FASTA, 1-based positions (as in VCF), and REF on the "
                             "forward strand", r.line)


def write_vcf(df: pd.DataFrame, path) -> None:
    """A minimal VCF 4.2 of SNVs (columns chrom, pos 1-based, id, ref, alt, cls -> INFO CLS=...)."""
    lines = ["##fileformat=VCFv4.2", "##source=seq2acc.sim.simulate planted-motif SNVs",
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    lines += [f"{r.chrom}\t{r.pos}\t{r.id}\t{r.ref}\t{r.alt}\t.\t.\tCLS={r.cls}" for r in df.itertuples()]
    write_text(path, "\n".join(lines) + "\n")
