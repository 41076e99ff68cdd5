"""DVC stage ``motif_summary``: the ``motif_scan@K`` enrichment pooled over folds -> ``motifs/summary.tsv``,
``summary.png`` and ``summary.json`` (DVC metrics)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from seq2acc.artifacts.fold_model import prune_other_folds
from seq2acc.config import Params
from seq2acc.errors import Seq2AccError
from seq2acc.interpret.enrichment import enrichment_from_counts, enrichment_summary, plot_enrichment
from seq2acc.io.atomic import write_json
from seq2acc.artifacts.tables import write_tsv
from seq2acc.pipeline.motif_scan import motif_scan_config

log = logging.getLogger(__name__)


def motif_summary(p: Params) -> Path:
    """Stage body of ``motif_summary``: per-motif counts pooled over folds, Fisher's test, BH."""
    cfg = motif_scan_config(p)
    folds = p.get("train.folds", list)
    prune_other_folds(cfg.out_dir / "folds", folds, "motif scans")
    tabs = []
    for k in folds:
        path = cfg.out_dir / "folds" / f"fold{k}" / "enrichment.tsv"
        if not path.exists():
            raise Seq2AccError(f"{path} missing; fix: run `dvc repro motif_scan`")
        tabs.append(pd.read_csv(path, sep="\t"))
    allt = pd.concat(tabs, ignore_index=True)
    g = allt.groupby(["motif_id", "motif_name"], sort=True)[["pos_with_hit", "n_pos", "neg_with_hit", "n_neg"]].sum()
    g = g.reset_index()
    n_pos = int(sum(t.n_pos.iloc[0] for t in tabs))
    n_neg = int(sum(t.n_neg.iloc[0] for t in tabs))
    enr = enrichment_from_counts(g.pos_with_hit, n_pos, g.neg_with_hit, n_neg, g.motif_id, g.motif_name)
    out = cfg.out_dir
    write_tsv(enr, out / "summary.tsv", f"pooled over folds {folds}")
    target = p.get("baselines.pwm.jaspar_id", str, allow_none=True)
    plot_enrichment(enr, out / "summary.png", cfg.top_plot,
                    f"all folds: {n_pos} positives vs {n_neg} negatives ({cfg.negatives})", target)
    summary = enrichment_summary(enr, target) | {"folds": folds, "n_positive": n_pos, "n_negative": n_neg,
                                       "n_motifs": len(enr)}
    write_json(out / "summary.json", summary)
    log.info("motif summary: %s", summary)
    return out
