"""DVC stages ``motif_scan@K`` and ``motif_summary`` (protocol 3.4 step 2, note 27).

``motif_scan@K`` scans fold K's sequences of interest (the ``attribute@K`` regions: by default the positive bins
of its test chromosomes) and negatives (``motif_scan.negatives``: ``examples`` = the sampled negative examples of
the same test chromosomes -- flank / elsewhere / random --, or ``shuffled`` = the dinucleotide-shuffled positives
of the attribution null) with every JASPAR PWM of the configured release/collection/taxon: sequences by the numba
k-mer index scanner (:mod:`seq2acc.interpret.seqscan`), contribution scores by one frozen Conv1D.

Outputs in ``motifs/folds/fold<K>/``:
- ``hits.tsv``: FIMO-style sequence hits (p < ``motif_scan.pvalue``) in positives and negatives, BED-like
  (chrom, start, end, name, score, strand: 0-based half-open genome coordinates; score = log2-odds bits) plus
  p_value, motif_id, motif_name, set, seq (row of the attribution file).
- ``contrib_hits.tsv``: hits on the contribution scores of the positives (contribution-weighted one-hot scanned
  with the same PWMs), kept only where the sequence matches too (p < ``contrib_seq_pvalue``, note 27) and the
  contribution score beats the shuffled null (empirical p < ``contrib_pvalue``).
- ``enrichment.tsv`` / ``enrichment.png``: per motif, positives vs negatives with >= 1 hit, Fisher's exact test,
  BH q-value. ``summary.json``.
``motif_summary`` pools the per-fold counts -> ``motifs/summary.tsv``, ``summary.png``, ``summary.json`` (metrics;
the rank of the target's motif ``baselines.pwm.jaspar_id`` when set).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.io.atomic import write_json
from seq2acc.data.store import read_examples
from seq2acc.errors import ParamsError, Seq2AccError
from seq2acc.data.folds import get_fold
from seq2acc.io.fasta import Genome
from seq2acc.interpret.motifs import PWMScanner, fetch_jaspar, genome_background
from seq2acc.config import Params
from seq2acc.artifacts import fold_model
from seq2acc.interpret.enrichment import enrichment_summary, motif_enrichment, plot_enrichment
from seq2acc.artifacts.contrib import read_attribution
from seq2acc.artifacts.tables import write_tsv
from seq2acc.config import layout
from seq2acc.io.fasta import gather_onehot
from seq2acc.mlops import tracking

log = logging.getLogger(__name__)

NEGATIVES = ("examples", "shuffled")


@dataclass
class MotifScanConfig:
    release: str
    collection: str | None
    tax_group: list | None
    ids: list | None
    background: object
    pseudocount: float
    pvalue_bin: float
    pvalue_lookup: str
    pvalue: float
    contrib_seq_pvalue: float
    contrib_pvalue: float
    central: int | None
    negatives: str
    batch_size: int
    top_plot: int
    out_dir: Path


def motif_scan_config(p: Params) -> MotifScanConfig:
    g = p.get
    tax = p.raw("motif_scan.tax_group")
    tax = [tax] if isinstance(tax, str) else tax
    ids = p.raw("motif_scan.jaspar_ids")
    ids = [ids] if isinstance(ids, str) else ids
    bg = p.raw("motif_scan.background")
    if not (bg in ("uniform", "genome") or (isinstance(bg, list) and len(bg) == 4)):
        raise ParamsError("motif_scan.background", f"{bg!r}", "use uniform, genome or [pA, pC, pG, pT]")
    return MotifScanConfig(
        release=g("motif_scan.jaspar_release", str),
        collection=g("motif_scan.collection", str, allow_none=True),
        tax_group=tax, ids=ids, background=bg,
        pseudocount=g("motif_scan.pseudocount", float, ge=0),
        pvalue_bin=g("motif_scan.pvalue_bin", float, gt=0, le=1),
        pvalue_lookup=g("motif_scan.pvalue_lookup", str, choices=("word", "score")),
        pvalue=g("motif_scan.pvalue", float, gt=0, lt=1),
        contrib_seq_pvalue=g("motif_scan.contrib_seq_pvalue", float, gt=0, lt=1),
        contrib_pvalue=g("motif_scan.contrib_pvalue", float, gt=0, le=1),
        central=g("motif_scan.central", int, ge=1, allow_none=True),
        negatives=g("motif_scan.negatives", str, choices=NEGATIVES),
        batch_size=g("motif_scan.batch_size", int, ge=1),
        top_plot=g("motif_scan.top_plot", int, ge=1),
        out_dir=Path(g("motif_scan.out_dir", str)),
    )


def build_scanner(cfg: MotifScanConfig, genome: Genome | None = None) -> PWMScanner:
    motifs = fetch_jaspar(ids=cfg.ids, collection=cfg.collection, tax_group=cfg.tax_group, release=cfg.release)
    if cfg.background == "genome":
        if genome is None:
            raise ParamsError("motif_scan.background", "'genome' needs the genome", "use uniform")
        bg = genome_background(genome)
    elif cfg.background == "uniform":
        bg = None
    else:
        bg = [float(v) for v in cfg.background]
    sc = PWMScanner.from_motifs(motifs, background=bg, pseudocount=cfg.pseudocount, pvalue_bin=cfg.pvalue_bin,
                                pvalue_lookup=cfg.pvalue_lookup)
    log.info("%d JASPAR motifs (%s %s %s), background %s", sc.n_motifs, cfg.release, cfg.collection,
             cfg.tax_group if not cfg.ids else cfg.ids, np.round(sc.background, 3).tolist())
    return sc


def _crop(L: int, central: int | None) -> tuple[int, int]:
    if central is None or central >= L:
        return 0, L
    c0 = (L - central) // 2
    return c0, c0 + central


def _genomic(hits: pd.DataFrame, regions: pd.DataFrame, offset: int, set_name: str) -> pd.DataFrame:
    r = regions.iloc[hits.seq.to_numpy()]
    base = r.start.to_numpy() + offset
    out = pd.DataFrame({"chrom": r.chrom.to_numpy(), "start": base + hits.start.to_numpy(),
                        "end": base + hits.end.to_numpy(),
                        "name": (hits.motif_id + "_" + hits.motif_name).to_numpy(), "score": hits.score.to_numpy(),
                        "strand": hits.strand.to_numpy(), "p_value": hits.p_value.to_numpy(),
                        "motif_id": hits.motif_id.to_numpy(), "motif_name": hits.motif_name.to_numpy(),
                        "set": set_name, "seq": hits.seq.to_numpy()})
    for extra in ("contrib_score", "contrib_sum", "contrib_pvalue"):
        if extra in hits:
            out[extra] = hits[extra].to_numpy()
    return out


def _negatives(p: Params, k: int, cfg: MotifScanConfig, attr, genome: Genome, L: int):
    if cfg.negatives == "shuffled":
        x = attr.null_onehot[:, 0].astype(np.float32)
        return x, attr.regions.copy()
    lay = layout(p)
    fold = get_fold(lay.folds, k)
    ex = read_examples([lay.dataset(c) for c in fold["test"]])
    neg = ex[ex.label == 0].reset_index(drop=True)
    if neg.empty:
        raise Seq2AccError(f"fold {k}: no negative examples on {fold['test']}; fix: set motif_scan.negatives: shuffled")
    if int((neg.end - neg.start).iloc[0]) != L:
        raise ParamsError("dataset.context", "negative examples and attribution windows differ in length",
                          "re-run `dvc repro attribute` after changing dataset.context")
    return gather_onehot(genome, neg, L), neg[["chrom", "start", "end"]]


def motif_scan_fold(p: Params, k: int) -> Path:
    """Stage body of ``motif_scan@K``."""
    t0 = time.perf_counter()
    cfg = motif_scan_config(p)
    genome = Genome(layout(p).genome)
    attr = read_attribution(layout(p).attribution / "folds" / f"fold{k}" / "contrib.h5")
    sc = build_scanner(cfg, genome)
    L = attr.onehot.shape[1]
    c0, c1 = _crop(L, cfg.central)
    x_pos = attr.onehot[:, c0:c1]
    x_neg, neg_regions = _negatives(p, k, cfg, attr, genome, L)
    x_neg = x_neg[:, c0:c1]
    hp = sc.hits(x_pos, cfg.pvalue, cfg.batch_size, progress=True)
    hn = sc.hits(x_neg, cfg.pvalue, cfg.batch_size, progress=True)
    enr = motif_enrichment(hp, len(x_pos), hn, len(x_neg), sc.ids, sc.names)
    null_c = attr.null_contrib[:, :, c0:c1].reshape((-1, c1 - c0, 4))
    ch = sc.contribution_hits(x_pos, attr.contrib[:, c0:c1], cfg.contrib_seq_pvalue, null_c, cfg.contrib_pvalue,
                              cfg.batch_size)
    out = cfg.out_dir / "folds" / f"fold{k}"
    out.mkdir(parents=True, exist_ok=True)
    hits = pd.concat([_genomic(hp, attr.regions, c0, "positive"), _genomic(hn, neg_regions, c0, "negative")],
                     ignore_index=True)
    write_tsv(hits, out / "hits.tsv", f"JASPAR {cfg.release} sequence hits, p < {cfg.pvalue}; 0-based half-open",
              bed=True)
    write_tsv(_genomic(ch, attr.regions, c0, "positive"), out / "contrib_hits.tsv",
              f"hits on contribution scores with sequence p < {cfg.contrib_seq_pvalue} and contribution "
              f"empirical p < {cfg.contrib_pvalue} (note 27)", bed=True)
    write_tsv(enr, out / "enrichment.tsv")
    target = p.get("baselines.pwm.jaspar_id", str, allow_none=True)
    plot_enrichment(enr, out / "enrichment.png", cfg.top_plot,
                    f"fold {k}: {len(x_pos)} positives vs {len(x_neg)} negatives ({cfg.negatives}) "
                    f"(p < {cfg.pvalue}, central {c1 - c0} bp)", target)
    summary = enrichment_summary(enr, target) | {
        "fold": k, "n_motifs": sc.n_motifs, "n_positive": len(x_pos), "n_negative": len(x_neg),
        "negatives": cfg.negatives, "scanned_bp": int(c1 - c0), "hits_positive": len(hp), "hits_negative": len(hn),
        "contrib_hits": len(ch), "contrib_hit_motifs_top": ch.motif_name.value_counts().head(5).to_dict(),
        "seconds": round(time.perf_counter() - t0, 1)}
    write_json(out / "summary.json", summary)
    log.info("%s: %s", out, {k2: v for k2, v in summary.items() if k2 != "top"})
    tracking.log_to_run(fold_model.run_id(layout(p).models, k),
                        {f"motifs.{k2}": v for k2, v in summary.items() if isinstance(v, (int, float)) and k2 != "fold"},
                        {"motifs.jaspar": f"{cfg.release}/{cfg.collection}/{cfg.tax_group}",
                         "motifs.top": summary["top"][0] if summary["top"] else ""},
                        [out / "enrichment.tsv", out / "enrichment.png", out / "summary.json"], "motifs")
    return out
