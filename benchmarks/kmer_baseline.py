"""k-mer baseline before/after: genome-wide AUPRC per fold of the old and new k-mer LR next to the 200-bp PWM.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/kmer_baseline.py [--folds 0 1 2] \
        [--config old --config default ...] [--no-pwm] [--out benchmarks/results/kmer_baseline.jsonl]

Every config is params.yaml's ``baselines.kmer`` (the shipped defaults) with the overrides in CONFIGS, fitted
exactly as ``evaluate@K`` does (``build_baselines``: training table, validation bins, C search) on the fold's
training / validation chromosomes and scored on every genome-wide bin of its test chromosomes. ``old`` is the
baseline before this change: the fixed 4-point C grid, trained on the sampled (~1:1) examples only. The target is
whatever ``peaks.target`` the datasets in data/datasets were built for (recorded). One JSON row per (fold, config)
is printed and appended to ``--out`` with the machine and its load.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

OLD_GRID = [3.0e-5, 1.0e-4, 3.0e-4, 1.0e-3]
CONFIGS = {
    "old": {"k": 6, "window": 200, "C": OLD_GRID, "C_bounds": [OLD_GRID[0], OLD_GRID[-1]],  # before this change
            "genomewide_negatives": 0},
    "default": {},                                                                                   # shipped now
    # the search that led to the defaults (k=6 rows: the old k with the new C search)
    "extend-only": {"k": 6, "genomewide_negatives": 0},  # grid extension, sampled examples only
    "gw1": {"k": 6, "genomewide_negatives": 1},
    "gw2": {"k": 6, "genomewide_negatives": 2},
    "gw5": {"k": 6, "genomewide_negatives": 5},
    "gw10": {"k": 6, "genomewide_negatives": 10},
    "gw20": {"k": 6, "genomewide_negatives": 20},
    "gw-all": {"k": 6, "genomewide_negatives": 1000},  # every negative bin of the training chromosomes
    "k5": {"k": 5, "genomewide_negatives": 5}, "k7": {"k": 7, "genomewide_negatives": 5},
    "w300": {"k": 6, "window": 300, "genomewide_negatives": 5}, "w150": {"k": 6, "window": 150,
                                                                       "genomewide_negatives": 5},
    "k7-gw10": {"k": 7, "genomewide_negatives": 10}, "k7-gw20": {"k": 7, "genomewide_negatives": 20},
    "k7-gw-all": {"k": 7, "genomewide_negatives": 1000},
    "k8-gw20": {"k": 8, "genomewide_negatives": 20},
}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--folds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--config", action="append", choices=sorted(CONFIGS), help="repeatable; default: old, default")
    ap.add_argument("--no-pwm", action="store_true", help="skip the 200-bp PWM")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "kmer_baseline.jsonl"))
    a = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.chdir(ROOT)
    from seq2acc import logutil
    from seq2acc.config import Params
    from seq2acc.data.folds import load_folds
    from seq2acc.data.store import dataset_path, read_genomewide
    from seq2acc.evaluate.baselines import PWMBaseline
    from seq2acc.evaluate.metrics import binary_metrics
    from seq2acc.io.fasta import Genome
    from seq2acc.mlops.machine import machine_info
    from seq2acc.pipeline.evaluate import build_baselines

    logutil.setup("WARNING")
    base = Params.load(a.params)
    machine = machine_info()
    target = Path(json.loads((ROOT / "data" / "peaks" / "summary.json").read_text()).get("target_file", "")).stem \
        if (ROOT / "data" / "peaks" / "summary.json").exists() else None
    target = target or Path(base.raw("peaks.target")).stem
    data_dir = base.get("dataset.out_dir", str)
    context = base.get("dataset.context", int)
    genome = Genome(base.get("genome.fasta_out", str))
    folds = {f["fold"]: f for f in load_folds(base.get("folds.out", str))}
    motif = base.get("baselines.pwm.jaspar_id", str, allow_none=True)
    configs = a.config or ["old", "default"]
    for k in a.folds:
        fold = folds[k]
        test = []
        for c in fold["test"]:
            _, _, _, df = read_genomewide(dataset_path(data_dir, c))
            test.append((c, df.start.to_numpy(), df.label.to_numpy()))
        y = np.concatenate([t[2] for t in test])
        pwm = None
        if motif and not a.no_pwm:
            b = PWMBaseline(motif, context, central=200, release=base.get("baselines.pwm.release", str, allow_none=True))
            pwm = binary_metrics(y, np.concatenate([b.score(genome, c, s, progress=False) for c, s, _ in test]),
                                 is_logit=False)["auprc"]
        for name in configs:
            data = copy.deepcopy(base.data)
            data["baselines"]["pwm"]["jaspar_id"] = None
            data["baselines"]["kmer"].update(enabled=True, **CONFIGS[name])
            p = Params(data, a.params)
            t = time.perf_counter()
            km = build_baselines(p, genome, fold, data_dir, context)["kmer"]
            t_fit = time.perf_counter() - t
            s = np.concatenate([km.score(genome, c, st, progress=False) for c, st, _ in test])
            m = binary_metrics(y, s)
            info = km.info()
            row = {"benchmark": "kmer_baseline", "target": target, "fold": k, "test": fold["test"], "config": name,
                   "kmer": {kk: data["baselines"]["kmer"][kk] for kk in ("k", "window", "C", "C_bounds", "C_step",
                                                                        "genomewide_negatives")},
                   "auprc": m["auprc"], "auroc": m["auroc"], "positive_rate": m["positive_rate"], "n_bins": m["n_bins"],
                   "pwm200_auprc": pwm, "chosen_C": info["chosen_C"], "C_at_bound": info["C_at_bound"],
                   "C_at_initial_grid_edge": info["chosen_C"] in (min(km.C), max(km.C)) if isinstance(km.C, list)
                   else None,
                   "n_C_tried": len(info["selection"]), "n_train": info["n_train"],
                   "n_train_positive": info["n_train_positive"],
                   "selection": info["selection"], "fit_seconds": round(t_fit, 1),
                   "machine": machine, "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                   "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
            print(json.dumps({kk: v for kk, v in row.items() if kk not in ("machine", "selection", "kmer")}),
                  flush=True)
            if a.out:
                Path(a.out).parent.mkdir(parents=True, exist_ok=True)
                with open(a.out, "a") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
