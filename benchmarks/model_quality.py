"""Model-quality comparison: train configs on one split and score every genome-wide bin of its test chromosomes.

    nice -n 10 .venv/bin/python benchmarks/model_quality.py --config NAME [--config NAME ...] [--out table.jsonl]

Split (same as issue 4's quick trials): test chr4 + chr11, validate chr15, train on the other 13 chromosomes.
Each config = params.yaml's train/model sections overridden by the entry in CONFIGS. Prints genome-wide AUPRC
(primary), AUROC and the positive rate of the test bins (one JSON line per config).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TEST, VALID = ["chr4", "chr11"], ["chr15"]

CONFIGS = {
    "small-v0": {"model": {"name": "small"}, "train": {"rc_augment": False}},
    "small-rc": {"model": {"name": "small"}, "train": {"rc_augment": True}},
    "small-rc-gw3": {"model": {"name": "small"}, "train": {"rc_augment": True, "genomewide_negatives": 3}},
    "small-rc-exp": {"model": {"name": "small", "first_activation": "exponential"}, "train": {"rc_augment": True}},
    "small-rc-shift20": {"model": {"name": "small"}, "train": {"rc_augment": True, "max_shift": 20}},
}
TINY = {"name": "small", "conv_filters": [32, 32], "conv_widths": [19, 5], "pool_sizes": [10, 5], "dense_units": [32],
        "dropout": 0.2, "conv_dropout": 0.0, "l2": 0.0}
CONFIGS |= {
    "tiny-gw5": {"model": TINY, "train": {"rc_augment": True, "genomewide_negatives": 5}},
    "tiny-gw5-exp": {"model": TINY | {"first_activation": "exponential"},
                     "train": {"rc_augment": True, "genomewide_negatives": 5}},
    "tiny-gw5-lr3": {"model": TINY, "train": {"rc_augment": True, "genomewide_negatives": 5, "lr": 0.003}},
    "tiny-gw10": {"model": TINY, "train": {"rc_augment": True, "genomewide_negatives": 10}},
}
LR3 = {"rc_augment": True, "genomewide_negatives": 5, "lr": 0.003}
CONFIGS |= {
    "tiny-gw5-lr3-seed2": {"model": TINY, "train": LR3 | {"seed": 99}},
    "tiny-gw5-lr10": {"model": TINY, "train": LR3 | {"lr": 0.01}},
    "tiny-gw5-lr3-plateau": {"model": TINY, "train": LR3 | {"lr_schedule": "plateau", "patience": 4}},
    "small-gw5-lr3": {"model": {"name": "small"}, "train": LR3},
    "tiny-gw5-lr3-shift20": {"model": TINY, "train": LR3 | {"max_shift": 20}},
    "tiny-gw2-lr3": {"model": TINY, "train": LR3 | {"genomewide_negatives": 2}},
    "tiny-gw5-lr3-norc": {"model": TINY, "train": LR3 | {"rc_augment": False}},
}
ONE = {"name": "small", "conv_filters": [64], "conv_widths": [19], "pool_sizes": [50], "dense_units": [32],
       "dropout": 0.2, "conv_dropout": 0.0, "l2": 0.0}
CONFIGS |= {
    "one-gw5-lr3": {"model": ONE, "train": LR3},
    "one-gw5-lr3-seed2": {"model": ONE, "train": LR3 | {"seed": 99}},
    "tiny-gw5-lr3-pat6-seed2": {"model": TINY, "train": LR3 | {"seed": 99, "patience": 6}},
    "tiny-gw3-el2-lr3-seed2": {"model": TINY, "train": LR3 | {"seed": 99, "genomewide_negatives": 3,
                                                              "elsewhere_negatives": 2}},
    "tiny-gw3-el2-lr3": {"model": TINY, "train": LR3 | {"genomewide_negatives": 3, "elsewhere_negatives": 2}},
    "one-nodense-lr3": {"model": ONE | {"dense_units": []}, "train": LR3},
    "one-nodense-lr3-seed2": {"model": ONE | {"dense_units": []}, "train": LR3 | {"seed": 99}},
    "tiny-nodense-lr3": {"model": TINY | {"dense_units": []}, "train": LR3},
    "tiny-nodense-lr3-seed2": {"model": TINY | {"dense_units": []}, "train": LR3 | {"seed": 99}},
}
ONEND = ONE | {"dense_units": []}
F32 = ONEND | {"l2": 1e-3, "conv_filters": [32]}
L2T = LR3 | {"monitor": "val_auprc"}
CONFIGS |= {
    "one-nodense-l2": {"model": ONEND | {"l2": 1e-3}, "train": LR3},
    "one-nodense-shift25": {"model": ONEND, "train": LR3 | {"max_shift": 25}},
    "one-nodense-f16w12": {"model": ONEND | {"conv_filters": [16], "conv_widths": [12]}, "train": LR3},
    "one-nodense-b32": {"model": ONEND, "train": LR3 | {"batch_size": 32}},
    "one-nodense-monauprc": {"model": ONEND, "train": LR3 | {"monitor": "val_auprc", "patience": 4}},
    "one-nodense-vgw": {"model": ONEND, "train": LR3 | {"valid_set": "genomewide", "monitor": "val_auprc", "patience": 4}},
    "one-nodense-vgw-seed2": {"model": ONEND, "train": LR3 | {"valid_set": "genomewide", "monitor": "val_auprc",
                                                              "patience": 4, "seed": 99}},
    "one-l2-seed2": {"model": ONEND | {"l2": 1e-3}, "train": LR3 | {"seed": 99}},
    "one-l2-vgw": {"model": ONEND | {"l2": 1e-3}, "train": LR3 | {"valid_set": "genomewide", "monitor": "val_auprc"}},
    "one-l2-f32": {"model": ONEND | {"l2": 1e-3, "conv_filters": [32]}, "train": LR3},
    "f32-auprc": {"model": F32, "train": L2T},
    "f32-auprc-cos10": {"model": F32, "train": L2T | {"lr_schedule": "cosine", "epochs": 10}},
    "f32-auprc-gw3": {"model": F32, "train": L2T | {"genomewide_negatives": 3}},
    "f32-auprc-lr5": {"model": F32, "train": L2T | {"lr": 0.005}},
    "f32-auprc-cos10-seed2": {"model": F32, "train": L2T | {"lr_schedule": "cosine", "epochs": 10, "seed": 99}},
    "f32-auprc-seed2": {"model": F32, "train": L2T | {"seed": 99}},
    "tiny-vgw": {"model": TINY, "train": LR3 | {"valid_set": "genomewide", "monitor": "val_auprc", "patience": 4}},
    "tiny-vgw-seed2": {"model": TINY, "train": LR3 | {"valid_set": "genomewide", "monitor": "val_auprc", "patience": 4,
                                                      "seed": 99}},
}


def deep_update(d, u):
    for k, v in u.items():
        if isinstance(v, dict) and isinstance(d.get(k), dict):
            deep_update(d[k], v)
        else:
            d[k] = v
    return d


def genomewide_xy(genome, data_dir, chroms):
    from seq2acc.datasets import dataset_path, read_genomewide
    from seq2acc.onehot import onehot_codes

    xs, ys = [], []
    for c in chroms:
        chrom, _, spec, df = read_genomewide(dataset_path(data_dir, c))
        xs.append(onehot_codes(genome.gather(chrom, df.start.to_numpy(), spec.context)))
        ys.append(df.label.to_numpy())
    return np.concatenate(xs), np.concatenate(ys)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", action="append", required=True)
    ap.add_argument("--out", default=None)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--save", default=None, help="directory to save each config's model and test scores")
    a = ap.parse_args(argv)
    import yaml
    from sklearn.metrics import average_precision_score, roc_auc_score

    if a.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    from seq2acc import logutil
    from seq2acc.folds import load_folds
    from seq2acc.genome import Genome
    from seq2acc.params import Params
    from seq2acc.predict import predict_logits
    from seq2acc.training import build_and_fit, fold_data, load_elsewhere, validate_params

    logutil.setup("WARNING")
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    data_dir = ROOT / base["dataset"]["out_dir"]
    genome = Genome(ROOT / base["genome"]["fasta_out"])
    chroms = base["dataset"]["chromosomes"]
    train = [c for c in chroms if c not in TEST + VALID]
    tmp = Path(tempfile.mkdtemp())
    folds_path = tmp / "folds.json"
    folds_path.write_text(json.dumps({"folds": [{"fold": 0, "test": TEST, "valid": VALID, "train": train}]}))
    x_test, y_test = genomewide_xy(genome, data_dir, TEST)
    for name in a.config:
        cfg = deep_update(copy.deepcopy(base), copy.deepcopy(CONFIGS[name]))
        p = Params(cfg)
        tc, mc, context = validate_params(p)
        p.data["peaks"]["out_dir"] = str(ROOT / base["peaks"]["out_dir"])
        data = fold_data(genome, data_dir, folds_path, 0, tc, context, load_elsewhere(p, tc))
        t0 = time.perf_counter()
        model, hist = build_and_fit(genome, data, tc, mc, context)
        t_train = time.perf_counter() - t0
        row = {"config": name, "params": model.count_params(), "epochs": hist["epochs_run"],
               "best_epoch": hist["best_epoch"], "best_val_loss": min(hist["val_loss"]), "train_s": round(t_train, 1),
               "sec_per_epoch": round(t_train / hist["epochs_run"], 1), "pos_rate": float(y_test.mean()),
               "n_bins": int(len(y_test)), "val_loss_hist": [round(v, 4) for v in hist["val_loss"]],
               "val_auprc_hist": [round(v, 4) for v in hist.get("val_auprc", [])]}
        for rc in (False, True):
            s = predict_logits(model, x_test, rc_average=rc)[:, 0]
            if a.save and rc:
                Path(a.save).mkdir(parents=True, exist_ok=True)
                model.save(Path(a.save) / f"{name}.keras")
                np.savez(Path(a.save) / f"{name}.npz", scores=s, labels=y_test)
            tag = "rc" if rc else "fw"
            row[f"auprc_{tag}"] = round(float(average_precision_score(y_test, s)), 4)
            row[f"auroc_{tag}"] = round(float(roc_auc_score(y_test, s)), 4)
        print(json.dumps(row), flush=True)
        if a.out:
            with open(a.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
