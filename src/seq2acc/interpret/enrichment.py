"""Motif enrichment (protocol 3.4 step 2, note 27): per motif, sequences with a hit among positives vs negatives,
Fisher's exact test, Haldane-corrected odds ratio, BH q-value; its summary and plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.interpret.null import bh
from seq2acc.io.atomic import atomic_path


def motif_enrichment(pos_hits: pd.DataFrame, n_pos: int, neg_hits: pd.DataFrame, n_neg: int,
                     ids, names) -> pd.DataFrame:
    """Per motif: sequences with >= 1 hit among positives vs negatives; Fisher's exact test (one-sided,
    enrichment in positives), odds ratio (Haldane-corrected), BH q-value. Sorted by p-value."""
    m = len(list(ids))
    a = np.zeros(m, dtype=np.int64)
    b = np.zeros(m, dtype=np.int64)
    if len(pos_hits):
        g = pos_hits.groupby("motif_idx").seq.nunique()
        a[g.index.to_numpy()] = g.to_numpy()
    if len(neg_hits):
        g = neg_hits.groupby("motif_idx").seq.nunique()
        b[g.index.to_numpy()] = g.to_numpy()
    return enrichment_from_counts(a, n_pos, b, n_neg, ids, names)


def enrichment_from_counts(a, n_pos: int, b, n_neg: int, ids, names) -> pd.DataFrame:
    """:func:`motif_enrichment` from per-motif counts of sequences with a hit (``a`` of ``n_pos``, ``b`` of ``n_neg``)."""
    from scipy.stats import fisher_exact

    ids, names = list(ids), list(names)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    m = len(ids)
    p = np.array([fisher_exact([[a[i], n_pos - a[i]], [b[i], n_neg - b[i]]], alternative="greater").pvalue
                  for i in range(m)])
    odds = ((a + 0.5) * (n_neg - b + 0.5)) / ((n_pos - a + 0.5) * (b + 0.5))
    q = bh(p)
    df = pd.DataFrame({"motif_idx": np.arange(m), "motif_id": ids, "motif_name": names,
                       "pos_with_hit": a, "n_pos": n_pos, "frac_pos": a / max(n_pos, 1),
                       "neg_with_hit": b, "n_neg": n_neg, "frac_neg": b / max(n_neg, 1),
                       "log2_odds_ratio": np.log2(odds), "p_value": p, "q_value": q})
    df = df.sort_values(["p_value", "log2_odds_ratio"], ascending=[True, False], kind="stable")
    df.insert(0, "rank", np.arange(1, m + 1))
    return df.reset_index(drop=True)


def plot_enrichment(enr: pd.DataFrame, path: Path, top: int, title: str, highlight: str | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = enr.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(d) + 1.2))
    score = -np.log10(np.maximum(d.q_value.to_numpy(), 1e-300))
    colors = ["tab:red" if highlight and str(i).split(".")[0] == highlight.split(".")[0] else "tab:blue"
              for i in d.motif_id]
    ax.barh(np.arange(len(d)), score, color=colors)
    ax.set_yticks(np.arange(len(d)))
    ax.set_yticklabels([f"{n} ({i})  {fp:.0%} vs {fn:.0%}" for n, i, fp, fn in
                        zip(d.motif_name, d.motif_id, d.frac_pos, d.frac_neg)], fontsize=7)
    ax.axvline(-np.log10(0.05), color="grey", lw=0.8, ls="--")
    ax.set_xlabel("-log10 BH q (Fisher, positives vs negatives with >= 1 hit)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def enrichment_summary(enr: pd.DataFrame, target: str | None) -> dict:
    """Significant motifs (q < 0.05), the top 5, and the rank / q / odds ratio of the ``target`` JASPAR id."""
    s = {"n_significant": int((enr.q_value < 0.05).sum()),
         "top": [f"{r.motif_name} ({r.motif_id})" for r in enr.head(5).itertuples()]}
    if target:
        row = enr[enr.motif_id.str.split(".").str[0] == target.split(".")[0]]
        if len(row):
            r = row.iloc[0]
            s.update(target_motif=str(r.motif_id), target_rank=int(r["rank"]), target_q=float(r.q_value),
                     target_log2_odds_ratio=float(r.log2_odds_ratio), target_frac_pos=float(r.frac_pos),
                     target_frac_neg=float(r.frac_neg))
        else:
            s.update(target_motif=target, target_rank=None)
    return s
