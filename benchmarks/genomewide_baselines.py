"""Baselines on every genome-wide bin of every fold's test chromosomes (no CNN needed): pooled and per-fold AUPRC.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/genomewide_baselines.py \
        [--pwm-central 400 200] [--kmer-k 6] [--kmer-window 200] [--no-kmer] [--out results.json]

Uses the project's params.yaml (baselines section) with the given overrides, the datasets in data/datasets and
data/folds.json, and exactly the code of the ``evaluate@K`` stages (``build_baselines`` + ``score``), so the numbers
are those the cross-validation summary will show next to the CNN. Prints one JSON line per fold and the pooled
metrics (every chromosome is a test chromosome exactly once).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--pwm-central", type=int, nargs="*", help="central window(s) of the PWM baseline (bp)")
    ap.add_argument("--no-pwm", action="store_true")
    ap.add_argument("--kmer-k", type=int)
    ap.add_argument("--kmer-window", type=int)
    ap.add_argument("--no-kmer", action="store_true")
    ap.add_argument("--out", help="write the results as JSON here")
    a = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.chdir(ROOT)
    from seq2acc import logutil
    from seq2acc.data.store import dataset_path, read_genomewide
    from seq2acc.evaluate.metrics import binary_metrics
    from seq2acc.data.folds import load_folds
    from seq2acc.io.fasta import Genome
    from seq2acc.config import Params
    from seq2acc.evaluate.fold import is_logit
    from seq2acc.pipeline.evaluate import build_baselines

    logutil.setup("WARNING")
    p = Params.load(a.params)
    b = p.data.setdefault("baselines", {})
    if a.pwm_central:
        b.setdefault("pwm", {})["central"] = list(a.pwm_central)
    if a.no_pwm:
        b.setdefault("pwm", {})["jaspar_id"] = None
    if a.kmer_k:
        b.setdefault("kmer", {})["k"] = a.kmer_k
    if a.kmer_window:
        b.setdefault("kmer", {})["window"] = a.kmer_window
    if a.no_kmer:
        b.setdefault("kmer", {})["enabled"] = False
    data_dir = p.get("dataset.out_dir", str, "data/datasets")
    genome = Genome(p.get("genome.fasta_out", str, "data/genome/genome.fa"))
    labels, scores, rows = [], {}, []
    for fold in load_folds(p.get("folds.out", str, "data/folds.json")):
        t = time.perf_counter()
        baselines = build_baselines(p, genome, fold, data_dir, p.get("dataset.context", int, 1000))
        ys, fs = [], {n: [] for n in baselines}
        for c in fold["test"]:
            _, _, _, df = read_genomewide(dataset_path(data_dir, c))
            ys.append(df.label.to_numpy())
            for n, bl in baselines.items():
                fs[n].append(bl.score(genome, c, df.start.to_numpy(), progress=False))
        y = np.concatenate(ys)
        labels.append(y)
        row = {"fold": fold["fold"], "test": fold["test"], "positive_rate": float(y.mean()),
               "seconds": round(time.perf_counter() - t, 1)}
        for n, parts in fs.items():
            s = np.concatenate(parts)
            scores.setdefault(n, []).append(s)
            row[f"{n}_auprc"] = binary_metrics(y, s, is_logit(n))["auprc"]
            if hasattr(baselines[n], "chosen_C"):
                row[f"{n}_C"] = baselines[n].chosen_C
        rows.append(row)
        print(json.dumps(row), flush=True)
    y = np.concatenate(labels)
    pooled = {n: binary_metrics(y, np.concatenate(s), is_logit(n)) for n, s in scores.items()}
    mean = {n: float(np.mean([r[f"{n}_auprc"] for r in rows])) for n in scores}
    for n in scores:
        print(f"{n:10s} pooled AUPRC {pooled[n]['auprc']:.3f} AUROC {pooled[n]['auroc']:.3f} | mean per-fold AUPRC "
              f"{mean[n]:.3f} | positive rate {pooled[n]['positive_rate']:.4f}, {pooled[n]['n_bins']} bins")
    if a.out:
        Path(a.out).write_text(json.dumps({"baselines": p.raw("baselines"), "folds": rows, "pooled": pooled,
                                           "mean": mean}, indent=1) + "\n")


if __name__ == "__main__":
    main()
