"""DVC stage ``cv_summary``: the cross-validation at a glance (protocol 3.3).

Reads every evaluated fold's ``predictions/fold<K>/scores.h5`` (folds in ``train.folds``) and writes
- ``metrics/summary.json`` (DVC metric): per-fold numbers, their mean and standard deviation, and metrics POOLED
  over all held-out bins (every chromosome is a test chromosome exactly once, so the pooled set is the whole
  evaluable genome when all folds ran), for the CNN next to the PWM and k-mer baselines;
- ``metrics/summary.md``: the same as a markdown table (printed by ``seq2acc report``);
- ``metrics/summary_pr.png``: pooled precision-recall curves (CNN vs baselines) and the per-fold CNN curves;
- ``metrics/summary_pr.csv``: pooled interpolated precision on a common recall grid (DVC plot, one column per model);
- ``tracks/cnn_heldout.bw``: the genome-wide held-out prediction track (each chromosome scored by the fold model
  that never saw it), as calibrated probabilities (each fold's calibration, fitted on its validation chromosomes),
  so values are comparable across chromosomes.

Pooled metrics use the calibrated scores; ``pooled_uncalibrated`` (summary.json) and ``pooled_auprc_uncalibrated``
(headline.json) show the same without calibration.
"""

from __future__ import annotations

import logging


from seq2acc.io.atomic import atomic_path, write_json, write_text
from seq2acc.errors import Seq2AccError
from seq2acc.io.fasta import read_chrom_sizes
from seq2acc.config import Params
from seq2acc.io.bigwig import sigmoid, write_bigwig
from seq2acc.artifacts.fold_model import prune_other_folds
from seq2acc.artifacts.scores import read_scores
from seq2acc.config import layout
from seq2acc.data.folds import load_folds
from seq2acc.evaluate.cv import cv_headline, markdown, plot_summary, pr_grid_table, summarize
from seq2acc.evaluate.fold import calibrated

log = logging.getLogger(__name__)


def cv_summary(p: Params) -> dict:
    folds = [int(k) for k in p.get("train.folds", list)]
    """Stage body of ``cv_summary``."""
    lay = layout(p)
    pred, mdir = lay.predictions, lay.metrics
    scored = [read_scores(pred / f"fold{k}" / "scores.h5") for k in folds]
    for folder, what in ((mdir, "metrics"), (pred, "predictions"), (lay.train_plots, "training curves")):
        prune_other_folds(folder, folds, what)
    summary = summarize(scored)
    uncal = [s["fold"] for s in scored if not s["info"].get("calibration")]
    if uncal:
        log.warning("fold(s) %s have no calibration (evaluated before it existed): their raw logits are pooled; "
                    "fix: re-run `dvc repro evaluate`", uncal)
    n_folds_total = None
    try:
        n_folds_total = len(load_folds(lay.folds))
    except Seq2AccError:
        pass
    if n_folds_total and len(folds) < n_folds_total:
        log.warning("only %d of %d folds evaluated: pooled metrics cover %d chromosomes, not the whole genome",
                    len(folds), n_folds_total, summary["n_chromosomes"])
    motif = next((f"{b['motif_id']} {b['motif_name']}" for s in scored for b in s["info"].get("baselines", {}).values()
                  if "motif_id" in b), "")
    md = markdown(summary, motif)
    write_text(mdir / "summary.md", md)
    write_json(mdir / "summary.json", {k: v for k, v in summary.items() if not k.startswith("_")})
    write_json(mdir / "headline.json", cv_headline(summary))
    plot_summary(scored, mdir / "summary_pr.png")
    with atomic_path(mdir / "summary_pr.csv") as tmp:
        pr_grid_table(scored).to_csv(tmp, index=False, float_format="%.6g")
    tracks_dir = lay.summary_tracks
    sizes = read_chrom_sizes(lay.chrom_sizes)
    per, bin_size, stride = {}, None, None
    for s in scored:
        bin_size, stride = s["info"]["bin_size"], s["info"]["stride"]
        for c, d in calibrated(s)["genomewide"].items():
            per[c] = (d.bin_start.to_numpy(), sigmoid(d.cnn.to_numpy()))
    write_bigwig(tracks_dir / "cnn_heldout.bw", per, bin_size, stride, sizes)
    print(md)
    return summary
