"""Accuracy of PWM score p-values against exact enumeration of every k-mer (JASPAR fungi motifs of width <= 10).

    nice -n 10 .venv/bin/python benchmarks/pvalue_accuracy.py [--max-width 9]

For each motif, the exact P(score >= s) under a uniform background is computed by enumerating all 4^w words, at
the scores of the 2,000 best words (p <= ~1e-3 for w >= 8). Reported: the largest relative error of seq2acc's
score-distribution p-values with the two look-ups (``score``: floor(score / grid), memelite FIMO's, reproduced
exactly at grid 0.1; ``word``: the word's own grid score, seq2acc's default) at grids 0.1, 0.01 and 0.001 bit.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main(argv=None):
    from seq2acc.interpret.motifs import ScoreDistribution, fetch_jaspar, log_odds

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--max-width", type=int, default=9)
    a = ap.parse_args(argv)
    rows = []
    for m in fetch_jaspar(tax_group=["fungi"], release="JASPAR2024"):
        if m.width > a.max_width:
            continue
        lo = log_odds(m)
        w = m.width
        words = np.array(list(itertools.product(range(4), repeat=w)), dtype=np.int8)
        all_scores = lo[np.arange(w), words].sum(1)
        order = np.argsort(all_scores)
        score = all_scores[order]
        pick = order[-2000:][::20]  # the best words
        test = all_scores[pick]
        exact = (len(score) - np.searchsorted(score, test - 1e-9)) / len(score)
        row = {"motif": m.id, "name": m.name, "width": w}
        for b in (0.1, 0.01, 0.001):
            d = ScoreDistribution.build(lo, None, b)
            p_score = d.pvalue(test)  # float-score look-up (memelite FIMO's)
            p_word = d.word_pvalue(d.q[np.arange(w), words[pick]].sum(1))  # the word's grid score (default)
            row[f"score_lookup_bin{b}"] = float(np.abs(p_score / exact - 1).max())
            row[f"word_lookup_bin{b}"] = float(np.abs(p_word / exact - 1).max())
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("largest relative error of p per motif, summarised over motifs:")
    for look in ("score", "word"):
        for b in (0.1, 0.01, 0.001):
            e = np.array([r[f"{look}_lookup_bin{b}"] for r in rows])
            print(f"{look:5s} look-up, grid {b:>5} bit: {len(e)} motifs, median {np.median(e):.3f}, "
                  f"90th pct {np.quantile(e, 0.9):.3f}, max {e.max():.3f}")


if __name__ == "__main__":
    main()
