"""Result tables of the pipeline: tab-separated, an optional ``## comment`` first line, a '#' before the header of
BED-like tables (so BED tools skip it). One writer and one reader for all of them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from seq2acc.io.atomic import atomic_path


def write_tsv(df: pd.DataFrame, path: Path, header_comment: str | None = None, bed: bool = False) -> None:
    """Write ``df`` atomically. ``bed``: BED-like (first columns chrom, start, end, ...), the header line starts
    with '#'. Read back with :func:`read_table`."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            if header_comment:
                fh.write(f"## {header_comment}\n")
            if bed:
                fh.write("#")
            df.to_csv(fh, sep="\t", index=False, float_format="%.6g")


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
