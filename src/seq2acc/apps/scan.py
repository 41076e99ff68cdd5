"""``seq2acc scan`` / :func:`scan_motifs`: JASPAR motif hits (FIMO-style, p-value of the log-odds score) in the
user's own sequences, regions or chromosomes (issue 15), with the project's motif settings (``motif_scan.*``:
release, collection, taxa, background, pseudocount, p-value grid and look-up, threshold) unless overridden.

Sequences are scanned whole (any length), regions over exactly ``[start, end)`` of the genome, chromosomes end to
end; both strands; by the numba k-mer index scanner (:meth:`seq2acc.interpret.motifs.PWMScanner.hits_codes`).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from seq2acc.apps.inputs import (INPUT_KINDS, check_chromosome, classify_inputs, read_fasta_records, regions_table,
                                 sequence_records)
from seq2acc.config import Params, layout
from seq2acc.errors import ArgumentError, InputError
from seq2acc.interpret.motifs import PWMScanner
from seq2acc.io.fasta import Genome
from seq2acc.pipeline.motif_scan import build_scanner, motif_scan_config
from seq2acc.seq.encoding import encode

log = logging.getLogger(__name__)

SEQUENCE_COLUMNS = ["sequence", "start", "end", "strand", "motif_id", "motif_name", "score", "p_value"]
GENOMIC_COLUMNS = ["chrom", "start", "end", "region", "strand", "motif_id", "motif_name", "score", "p_value"]


def motif_scanner(p: Params, motifs=None, *, collection=None, tax_group=None, release=None, genome=None,
                  background=None) -> PWMScanner:
    """The scanner of the project's ``motif_scan`` settings, with JASPAR ``motifs`` (ids such as 'MA0363' or
    'MA0363.3') or another ``collection`` / ``tax_group`` / ``release`` / ``background`` when given."""
    cfg = motif_scan_config(p)
    over = {}
    if motifs is not None:
        ids = [motifs] if isinstance(motifs, str) else list(motifs)
        if not ids:
            raise ArgumentError("motifs", "an empty list", "give JASPAR ids (e.g. ['MA0363']) or None for the "
                                "project's motif_scan collection")
        over["ids"] = ids
    elif collection is not None or tax_group is not None:
        over["ids"] = None
    if collection is not None:
        over["collection"] = None if collection in ("", "all") else collection
    if tax_group is not None:
        over["tax_group"] = None if tax_group in ("", "all") else ([tax_group] if isinstance(tax_group, str)
                                                                  else list(tax_group))
    if release is not None:
        over["release"] = release
    if background is not None:
        if not (background in ("uniform", "genome") or (not isinstance(background, str) and len(background) == 4)):
            raise ArgumentError("background", f"{background!r}", "use uniform, genome or [pA, pC, pG, pT]")
        over["background"] = background if isinstance(background, str) else [float(v) for v in background]
    cfg = dataclasses.replace(cfg, **over)
    try:
        return build_scanner(cfg, genome)
    except ArgumentError as e:  # name this function's argument, not fetch_jaspar's
        if e.arg == "ids":
            raise ArgumentError("motifs", e.problem, e.fix) from e
        raise


def _genomic_sequences(genome: Genome, regions: pd.DataFrame, what) -> tuple[list, pd.DataFrame]:
    df = regions.reset_index(drop=True)
    unknown = sorted(set(df.chrom) - set(genome.sizes))
    if unknown:
        raise InputError(what, f"chromosome(s) {unknown[:5]} are not in {genome.path}",
                         f"use the genome's names ({', '.join(list(genome.sizes)[:5])}, ...)")
    size = df.chrom.map(genome.sizes).to_numpy()
    bad = np.flatnonzero((df.start.to_numpy() < 0) | (df.end.to_numpy() > size))
    if len(bad):
        r = df.iloc[bad[0]]
        raise InputError(what, f"region {r.chrom}:{r.start}-{r.end} runs off the chromosome "
                         f"({genome.sizes[r.chrom]} bp)", "keep regions within the chromosomes")
    seqs = [genome.fetch_codes(c, int(a), int(b)) for c, a, b in zip(df.chrom, df.start, df.end)]
    return seqs, df


def _frame(hits: pd.DataFrame, names) -> pd.DataFrame:
    return pd.DataFrame({"sequence": np.asarray(names, dtype=object)[hits.seq.to_numpy()],
                         "start": hits.start.to_numpy(), "end": hits.end.to_numpy(), "strand": hits.strand.to_numpy(),
                         "motif_id": hits.motif_id.to_numpy(), "motif_name": hits.motif_name.to_numpy(),
                         "score": hits.score.to_numpy(), "p_value": hits.p_value.to_numpy()})[SEQUENCE_COLUMNS]


def _genomic_frame(hits: pd.DataFrame, regions: pd.DataFrame, labels) -> pd.DataFrame:
    r = regions.iloc[hits.seq.to_numpy()]
    base = r.start.to_numpy()
    return pd.DataFrame({"chrom": r.chrom.to_numpy(), "start": base + hits.start.to_numpy(),
                         "end": base + hits.end.to_numpy(),
                         "region": np.asarray(labels, dtype=object)[hits.seq.to_numpy()],
                         "strand": hits.strand.to_numpy(), "motif_id": hits.motif_id.to_numpy(),
                         "motif_name": hits.motif_name.to_numpy(), "score": hits.score.to_numpy(),
                         "p_value": hits.p_value.to_numpy()})[GENOMIC_COLUMNS]


def scan_motifs(inputs=None, motifs=None, *, params="params.yaml", genome=None, chrom=None, pvalue=None,
                collection=None, tax_group=None, release=None, background=None, kind: str | None = None,
                progress: bool = False) -> pd.DataFrame:
    """JASPAR motif hits in sequences, regions or chromosomes: ``seq2acc scan`` as a function.

    Parameters
    ----------
    inputs
        DNA strings (a str, a list, or a dict name -> sequence; any length, N and IUPAC codes add 0 to a score);
        a FASTA path; a BED/narrowPeak path or a DataFrame (chrom, start, end): each region scanned over exactly
        ``[start, end)``; ``"chr:start-end"`` strings (0-based, end exclusive); or one-hot arrays (n, L, 4)
        or (L, 4). None with ``chrom``.
    motifs : str, list of str, PWMScanner or None
        JASPAR matrix ids ('MA0363' = the latest version, 'MA0363.2' that one); None = the project's
        ``motif_scan`` set (``jaspar_ids``, else ``collection`` x ``tax_group`` of ``jaspar_release``); or a
        ready :class:`~seq2acc.interpret.motifs.PWMScanner` (its own motifs, grid and background).
    params : str, Path or Params, default "params.yaml"
        The project: ``motif_scan.*`` gives every default; ``genome.fasta_out`` the genome for regions.
    genome : str or Path, optional
        Genome FASTA (plain/gzip/bgzip) or 2bit for regions and chromosomes; default the project's.
    chrom : str or list of str, optional
        Whole chromosomes instead of ``inputs``.
    pvalue : float, optional
        Report windows with p < this (default ``motif_scan.pvalue``).
    collection, tax_group, release : optional
        Instead of the project's JASPAR set: e.g. ``collection="CORE", tax_group="vertebrates"``; ``"all"`` for
        no filter. Ignored with ``motifs`` ids.
    background : "uniform", "genome" or 4 ACGT frequencies, optional
        Log-odds and p-value background (default ``motif_scan.background``).
    kind : {"regions", "region", "fasta", "sequences", "onehot"}, optional
        What ``inputs`` is, when not to be guessed.
    progress : bool, default False
        A progress bar over the scanned pieces.

    Returns
    -------
    pandas.DataFrame
        One row per hit (window and strand with p < ``pvalue``), in input order, then by start. Sequences:
        ``sequence`` (name; seq1, seq2, ... for unnamed ones), ``start``, ``end`` (0-based half-open in the
        sequence), ``strand`` ('+', or '-' = the reverse-complement PWM matched), ``motif_id``, ``motif_name``,
        ``score`` (log2-odds bits), ``p_value``. Regions and chromosomes: ``chrom``, ``start``, ``end`` (genome
        coordinates) and ``region`` (the input region, or the chromosome) instead of ``sequence``.

    Examples
    --------
    >>> seq2acc.scan_motifs("ACGTGTTACCCGGAT", ["MA0363"])        # REB1 sites in a string
    >>> seq2acc.scan_motifs("my.bed", pvalue=1e-5)                  # the project's JASPAR set in your regions
    >>> seq2acc.scan_motifs(chrom="chrIV", motifs=["MA0363"])       # a whole chromosome
    """
    p = params if isinstance(params, Params) else Params.load(params)
    if (inputs is None) == (chrom is None):
        raise ArgumentError("inputs", "give exactly one of inputs and chrom", "scan_motifs(inputs) or "
                            "scan_motifs(chrom=...)")
    cfg = motif_scan_config(p)
    pvalue = cfg.pvalue if pvalue is None else float(pvalue)
    if not 0 < pvalue < 1:
        raise ArgumentError("pvalue", f"{pvalue} is not in (0, 1)", "use e.g. 1e-4")
    kind = "chrom" if chrom is not None else (kind or classify_inputs(inputs, "seq2acc scan"))
    if kind not in INPUT_KINDS + ("chrom",):
        raise ArgumentError("kind", f"{kind!r}", f"use one of {', '.join(INPUT_KINDS)}")
    g = Genome(genome or layout(p).genome) if kind in ("regions", "region", "chrom") or \
        (background or cfg.background) == "genome" else None
    sc = motifs if isinstance(motifs, PWMScanner) else motif_scanner(
        p, motifs, collection=collection, tax_group=tax_group, release=release, genome=g, background=background)
    log.info("scanning %s with %d JASPAR motifs, p < %g", kind, sc.n_motifs, pvalue)
    if kind in ("regions", "region", "chrom"):
        if kind == "chrom":
            names = [chrom] if isinstance(chrom, str) else list(chrom)
            for c in names:
                check_chromosome(g, c)
            regions = pd.DataFrame({"chrom": names, "start": 0, "end": [g.sizes[c] for c in names]})
            labels, what = names, ", ".join(names)
        else:
            regions, what = regions_table(inputs, kind, g)
            labels = [f"{c}:{a}-{b}" for c, a, b in zip(regions.chrom, regions.start, regions.end)]
        seqs, regions = _genomic_sequences(g, regions, what)
        return _genomic_frame(sc.hits_codes(seqs, pvalue, progress=progress), regions, labels)
    if kind == "onehot":
        x = np.asarray(inputs, dtype=np.float32)
        x = x[None] if x.ndim == 2 else x
        if x.ndim != 3 or x.shape[2] != 4:
            raise InputError("one-hot input", f"shape {x.shape}", "give one-hot arrays (n, L, 4) or (L, 4)")
        from seq2acc.interpret.seqscan import onehot_to_codes

        codes = onehot_to_codes(x)
        if codes is None:
            raise InputError("one-hot input", "rows that are not 0/1 one-hot (soft or weighted values)",
                             "give one-hot sequences (N = all-zero row), or DNA strings")
        names = [f"seq{i + 1}" for i in range(len(codes))]
        return _frame(sc.hits_codes(codes, pvalue, progress=progress), names)
    records = read_fasta_records(inputs) if kind == "fasta" else sequence_records(inputs)
    for nm, s, line in records:
        if not s:
            raise InputError(inputs if kind == "fasta" else f"sequence {nm!r}", f"sequence {nm!r} is empty",
                             "give sequences of at least one base", line)
    names = [r[0] for r in records]
    return _frame(sc.hits_codes([encode(s) for _, s, _ in records], pvalue, progress=progress), names)

