"""Result tables of the pipeline: tab-separated, an optional ``## comment`` first line, a '#' before the header of
BED-like tables (so BED tools skip it). One writer and one reader for all of them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from seq2acc.io.atomic import atomic_path


FLOAT_FORMAT = "%.6g"  # every float of every result table


def write_tsv(df: pd.DataFrame, path: Path, header_comment: str | None = None, bed: bool = False) -> None:
    """Write ``df`` atomically. ``bed``: BED-like (first columns chrom, start, end, ...), the header line starts
    with '#'. Read back with :func:`read_table`."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            if header_comment:
                fh.write(f"## {header_comment}\n")
            if bed:
                fh.write("#")
            fh.write(tsv_text(df))


def tsv_text(df: pd.DataFrame, header: bool = True) -> str:
    """``df`` as :func:`write_tsv` writes it (header line if ``header``, then the rows; no comment): a table
    written chunk by chunk (the header with the first chunk only) is byte for byte the table written at once."""
    return df.to_csv(sep="\t", index=False, header=header, float_format=FLOAT_FORMAT)


def finish_chunked_tsv(src, dst, header_comment: str | None = None, insert: tuple | None = None) -> int:
    """Write the final table ``dst`` from ``src``, a table written chunk by chunk with :func:`tsv_text` (header line
    first), prefixed with ``header_comment`` and, with ``insert = (after, name, values)``, a float column ``name``
    (one value per row, e.g. q-values that need every row first) inserted after column ``after``: byte for byte
    what :func:`write_tsv` writes for the whole table. ``dst`` is written directly (give a temporary path of
    :mod:`seq2acc.io.atomic`); streams, memory ~ one line. Returns the number of rows."""
    n = 0
    with open(src) as fin, open(dst, "w") as fout:
        if header_comment:
            fout.write(f"## {header_comment}\n")
        header = fin.readline().rstrip("\n").split("\t")
        at = None
        if insert is not None:
            after, name, values = insert
            at = header.index(after) + 1
            header.insert(at, name)
        fout.write("\t".join(header) + "\n")
        for line in fin:
            if at is not None:
                fields = line.rstrip("\n").split("\t")  # no field holds a tab: the writer quotes none
                v = float(values[n])
                fields.insert(at, "" if v != v else FLOAT_FORMAT % v)
                line = "\t".join(fields) + "\n"
            fout.write(line)
            n += 1
    if insert is not None and n != len(insert[2]):
        raise ValueError(f"{src}: {n} rows but {len(insert[2])} values of {insert[1]}")
    return n


def read_table(path, missing_ok: bool = False) -> pd.DataFrame | None:
    """A table written by :func:`write_tsv` (leading ``##`` lines skipped, '#' stripped from the header).

    ``missing_ok``: return None for a missing file (else ``FileNotFoundError``); a header-only file gives an empty
    DataFrame with its columns."""
    path = Path(path)
    if missing_ok and not path.exists():
        return None
    with open(path) as fh:
        lines = fh.read().splitlines()
    skip = 0
    while skip < len(lines) and lines[skip].startswith("##"):
        skip += 1
    if skip >= len(lines):
        return None if missing_ok else pd.DataFrame()
    header = lines[skip].lstrip("#").split("\t")
    try:
        return pd.read_csv(path, sep="\t", skiprows=skip + 1, header=None, names=header)
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=header)
