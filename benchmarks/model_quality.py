"""Model-quality comparison: configs -> genome-wide AUPRC (every bin of held-out chromosomes, both strands averaged).

    nice -n 10 .venv/bin/python benchmarks/model_quality.py --config default --config no-l2 ... [--out rows.jsonl]
    nice -n 10 .venv/bin/python benchmarks/model_quality.py --cv --config default       # all 10 folds, pooled

Split mode (default; as issue 4's quick trials): test chr4 + chr11, validate chr15, train on the other 13.
``--cv``: every fold of data/folds.json trained as the train@K stage would, each scored on its own test
chromosomes, metrics pooled over all held-out bins; prints total training time.
Each config = params.yaml (the shipped defaults) with the overrides in CONFIGS. Rows are JSON lines: genome-wide
AUPRC forward-only (``auprc_fw``) and averaged over both strands (``auprc_rc``), AUROC, epochs, seconds.
The ``hist-*`` configs are the search that led to the defaults (docs/training.md); some of them ran before
fresh per-epoch negatives were fixed (commit 1764d5a), see the notes there.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TEST, VALID = ["chr4", "chr11"], ["chr15"]

# Old defaults (before this search): the history configs start from these, so they stay reproducible.
OLD_SMALL = {"name": "small", "conv_filters": [64, 64], "conv_widths": [15, 9], "pool_sizes": [5, 10],
             "dense_units": [64], "dropout": 0.3, "conv_dropout": 0.1, "l2": 1e-4, "norm": "none"}
OLD = {"model": OLD_SMALL, "train": {"lr": 0.001, "monitor": "val_loss", "genomewide_negatives": 0,
                                     "rc_augment": True, "max_shift": 0, "patience": 3, "restarts": 0}}
TINY = OLD_SMALL | {"conv_filters": [32, 32], "conv_widths": [19, 5], "pool_sizes": [10, 5], "dense_units": [32],
                    "dropout": 0.2, "conv_dropout": 0.0, "l2": 0.0}
ONE = TINY | {"conv_filters": [64], "conv_widths": [19], "pool_sizes": [50]}
ONEND = ONE | {"dense_units": []}
F32 = ONEND | {"l2": 1e-3, "conv_filters": [32]}
LR3 = {"genomewide_negatives": 5, "lr": 0.003}
L2T = LR3 | {"monitor": "val_auprc"}

CONFIGS = {
    # the shipped defaults (params.yaml) and one-change ablations of them
    "default": {},
    "default-seed2": {"train": {"seed": 99}},
    "default-seed3": {"train": {"seed": 7}},
    "lr-1e-3": {"train": {"lr": 0.001}},
    "no-l2": {"model": {"l2": 0.0}},
    "no-rc-aug": {"train": {"rc_augment": False}},
    "no-gw-negatives": {"train": {"genomewide_negatives": 0}},
    "monitor-val-loss": {"train": {"monitor": "val_loss"}},
    "shift-20": {"train": {"max_shift": 20}},
    "2-layer-dense": {"model": OLD_SMALL},
    "2-layer-dense-bn": {"model": OLD_SMALL | {"norm": "batch"}},
    # issue 14: learning from little data
    "motif-init": {"train": {"motif_init": "target"}},
    "motif-init-seed2": {"train": {"motif_init": "target", "seed": 99}},
    "exp-act": {"model": {"first_activation": "exponential"}},
    "f64": {"model": {"conv_filters": [64]}},
    "motif-init-f64": {"model": {"conv_filters": [64]}, "train": {"motif_init": "target"}},
    "gw10": {"train": {"genomewide_negatives": 10}},
    "gw20": {"train": {"genomewide_negatives": 20}},
    "gw40": {"train": {"genomewide_negatives": 40}},
    "gw20-f64": {"model": {"conv_filters": [64]}, "train": {"genomewide_negatives": 20}},
    "gw20-seed3": {"train": {"genomewide_negatives": 20, "seed": 7}},
    "gw20-seed2": {"train": {"genomewide_negatives": 20, "seed": 99}},
    "residual": {"model": {"name": "residual"}},
    "residual-f32": {"model": {"name": "residual", "conv_filters": [32]}},
    "residual-2": {"model": {"name": "residual", "dilated_layers": 2}},
    "residual-pooled": {"model": {"name": "residual_pooled"}},
    "seeds3": {"train": {"seeds": 3}},
    "residual-pooled-seeds2": {"model": {"name": "residual_pooled"}, "train": {"seeds": 2}},
    "residual-pooled-seed2": {"model": {"name": "residual_pooled"}, "seed": 99},
    "residual-pooled-f32": {"model": {"name": "residual_pooled", "conv_filters": [32]}},
    "residual-pooled-exp": {"model": {"name": "residual_pooled", "first_activation": "exponential"}},
}
HISTORY = {  # (overrides on OLD)
    "small-v0": {"train": {"rc_augment": False}},
    "small-rc": {},
    "small-rc-gw3": {"train": {"genomewide_negatives": 3}},
    "small-gw5-lr3": {"train": LR3},
    "tiny-gw5": {"model": TINY, "train": {"genomewide_negatives": 5}},
    "tiny-gw5-exp": {"model": TINY | {"first_activation": "exponential"}, "train": {"genomewide_negatives": 5}},
    "tiny-gw10": {"model": TINY, "train": {"genomewide_negatives": 10}},
    "tiny-gw5-lr3": {"model": TINY, "train": LR3},
    "tiny-gw5-lr3-seed2": {"model": TINY, "train": LR3 | {"seed": 99}},
    "tiny-gw5-lr10": {"model": TINY, "train": LR3 | {"lr": 0.01}},
    "tiny-gw3-el2-lr3-seed2": {"model": TINY, "train": LR3 | {"seed": 99, "genomewide_negatives": 3,
                                                              "elsewhere_negatives": 2}},
    "one-gw5-lr3": {"model": ONE, "train": LR3},
    "one-nodense-lr3": {"model": ONEND, "train": LR3},
    "one-nodense-lr3-seed2": {"model": ONEND, "train": LR3 | {"seed": 99}},
    "one-nodense-monauprc": {"model": ONEND, "train": LR3 | {"monitor": "val_auprc", "patience": 4}},
    "one-nodense-l2": {"model": ONEND | {"l2": 1e-3}, "train": LR3},
    "one-l2-seed2": {"model": ONEND | {"l2": 1e-3}, "train": LR3 | {"seed": 99}},
    "one-l2-vgw": {"model": ONEND | {"l2": 1e-3}, "train": LR3 | {"valid_set": "genomewide", "monitor": "val_auprc"}},
    "one-nodense-shift25": {"model": ONEND, "train": LR3 | {"max_shift": 25}},
    "one-nodense-f16w12": {"model": ONEND | {"conv_filters": [16], "conv_widths": [12]}, "train": LR3},
    "one-nodense-b32": {"model": ONEND, "train": LR3 | {"batch_size": 32}},
    "one-l2-f32": {"model": F32, "train": LR3},
    "f32-auprc": {"model": F32, "train": L2T},
    "f32-auprc-seed2": {"model": F32, "train": L2T | {"seed": 99}},
    "f32-auprc-cos10": {"model": F32, "train": L2T | {"lr_schedule": "cosine", "epochs": 10}},
    "f32-auprc-gw3": {"model": F32, "train": L2T | {"genomewide_negatives": 3}},
    "f32-auprc-lr5": {"model": F32, "train": L2T | {"lr": 0.005}},
}


def config_params(base: dict, name: str) -> dict:
    if name in CONFIGS:
        out = deep_update(copy.deepcopy(base), copy.deepcopy(CONFIGS[name]))
    elif name in HISTORY:
        old = deep_update(copy.deepcopy(base), copy.deepcopy(OLD))
        out = deep_update(old, copy.deepcopy(HISTORY[name]))
    else:
        raise SystemExit(f"unknown config {name!r}; known: {', '.join([*CONFIGS, *HISTORY])}")
    if "seed" in out["train"]:  # the configs' train.seed (an older param) is the global seed training reads now
        out["seed"] = out["train"].pop("seed")
    return out


def deep_update(d, u):
    for k, v in u.items():
        if isinstance(v, dict) and isinstance(d.get(k), dict):
            deep_update(d[k], v)
        else:
            d[k] = v
    return d


def score_chroms(model, genome, data_dir, chroms, rc_average: bool):
    """Logits and labels of every genome-wide bin of ``chroms`` (shared-trunk scorer when the model allows it)."""
    from seq2acc.data.store import dataset_path, read_genomewide
    from seq2acc.evaluate.scorers import make_scorer

    scorer = None
    ss, ys = [], []
    for c in chroms:
        chrom, _, spec, df = read_genomewide(dataset_path(data_dir, c))
        scorer = scorer or make_scorer(model, spec.context, spec.stride, rc_average=rc_average)
        ss.append(scorer.score(genome, chrom, df.start.to_numpy(), progress=False)[:, 0])
        ys.append(df.label.to_numpy())
    return np.concatenate(ss), np.concatenate(ys)


def train_one(p, genome, data_dir, folds_path, k):
    """One fold as train@K trains it (``train.seeds`` members merged into one model when > 1)."""
    from seq2acc.data.loader import fold_data
    from seq2acc.model.seed_ensemble import fit_seed_ensemble
    from seq2acc.pipeline.train import load_elsewhere, motif_init_pwms, validate_params

    tc, mc, context = validate_params(p)
    data = fold_data(genome, data_dir, folds_path, k, tc, context, load_elsewhere(p, tc))

    def make(tc_m):
        return data if tc_m.seed == tc.seed else fold_data(genome, data_dir, folds_path, k, tc_m, context,
                                                           load_elsewhere(p, tc_m))
    t0 = time.perf_counter()
    model, hist, _ = fit_seed_ensemble(genome, make, tc, mc, context, int(p.raw("train.seeds")),
                                       init_pwms=motif_init_pwms(p))
    return model, hist, data, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", action="append", required=True, help="a name from CONFIGS or HISTORY (repeatable)")
    ap.add_argument("--cv", action="store_true", help="train every fold of data/folds.json and pool")
    ap.add_argument("--folds", default=None, help="with --cv: comma-separated subset of folds, e.g. 0,1,2")
    ap.add_argument("--out", default=None, help="append the JSON rows to this file")
    ap.add_argument("--save", default=None, help="directory to save each config's model and test scores")
    ap.add_argument("--from-saved", default=None, help="re-score the models a --save run left in this directory "
                    "(<config>-fold<K>.keras) instead of training")
    a = ap.parse_args(argv)
    import yaml
    from sklearn.metrics import average_precision_score, roc_auc_score

    from seq2acc import logutil
    from seq2acc.data.folds import load_folds
    from seq2acc.io.fasta import Genome
    from seq2acc.config import Params
    from seq2acc.evaluate.calibration import apply_calibration, fit_calibration

    logutil.setup("WARNING")
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    base["peaks"]["out_dir"] = str(ROOT / base["peaks"]["out_dir"])
    data_dir = ROOT / base["dataset"]["out_dir"]
    genome = Genome(ROOT / base["genome"]["fasta_out"])
    if a.cv:
        folds_path = ROOT / base["folds"]["out"]
        folds = load_folds(folds_path)
        if a.folds:
            keep = {int(x) for x in a.folds.split(",")}
            folds = [f for f in folds if f["fold"] in keep]
    else:
        chroms = base["dataset"]["chromosomes"]
        folds_path = Path(tempfile.mkdtemp()) / "folds.json"
        folds = [{"fold": 0, "test": TEST, "valid": VALID, "train": [c for c in chroms if c not in TEST + VALID]}]
        folds_path.write_text(json.dumps({"folds": folds}))
    pwm = None
    if base["baselines"]["pwm"]["jaspar_id"]:  # the 200-bp PWM on the same bins: the bar of issue 14
        from seq2acc.evaluate.baselines import PWMBaseline

        pwm = PWMBaseline(base["baselines"]["pwm"]["jaspar_id"], base["dataset"]["context"], 200,
                          base["baselines"]["pwm"]["release"], None, base["baselines"]["pwm"]["pseudocount"])
    pwm_scores: dict[int, tuple] = {}
    for name in a.config:
        p = Params(config_params(base, name))
        from seq2acc.mlops.machine import machine_info

        row = {"config": name, "mode": "cv" if a.cv else "split chr4+chr11", "folds": [],
               "date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine_info(),
               "target": base["peaks"]["target"], "motif": base["baselines"]["pwm"]["jaspar_id"]}
        scores = {True: [], False: []}
        labels, t_total = [], 0.0
        calibrated = []
        for f in folds:
            if a.from_saved:
                from seq2acc.model.load import load_model

                model, t = load_model(Path(a.from_saved) / f"{name}-fold{f['fold']}.keras"), 0.0
                fold_row = {"fold": f["fold"], "test": f["test"], "rescored": a.from_saved}
            else:
                model, hist, data, t = train_one(p, genome, data_dir, folds_path, f["fold"])
                fold_row = {"fold": f["fold"], "test": f["test"], "epochs": hist["epochs_run"],
                            "best_epoch": hist["best_epoch"], "attempts": len(hist.get("attempts", [1])),
                            "train_s": round(t, 1), "sec_per_epoch": round(t / hist["epochs_run"], 1),
                            "val_loss_hist": [round(v, 4) for v in hist["val_loss"]],
                            "val_auprc_hist": [round(v, 4) for v in hist.get("val_auprc", [])]}
            t_total += t
            for rc in (False, True):
                s, y = score_chroms(model, genome, data_dir, f["test"], rc)
                scores[rc].append(s)
                fold_row[f"auprc_{'rc' if rc else 'fw'}"] = round(float(average_precision_score(y, s)), 4)
            # as evaluate@K: Platt scaling fitted on every genome-wide bin of the fold's validation chromosomes
            sv, yv = score_chroms(model, genome, data_dir, f["valid"], True)
            cal = fit_calibration(sv, yv, "platt")
            calibrated.append(apply_calibration(scores[True][-1], cal))
            fold_row["platt"] = {k: round(float(v), 4) for k, v in cal.items() if k in ("a", "b")}
            labels.append(y)
            if pwm is not None:
                if f["fold"] not in pwm_scores:
                    from seq2acc.data.store import dataset_path, read_genomewide

                    parts = []
                    for c in f["test"]:
                        chrom, _, _, df = read_genomewide(dataset_path(data_dir, c))
                        parts.append(pwm.score(genome, chrom, df.start.to_numpy(), progress=False))
                    pwm_scores[f["fold"]] = np.concatenate(parts)
                fold_row["pwm200_auprc"] = round(float(average_precision_score(y, pwm_scores[f["fold"]])), 4)
            row["folds"].append(fold_row)
            row["params"] = model.count_params()
            if a.save:
                Path(a.save).mkdir(parents=True, exist_ok=True)
                model.save(Path(a.save) / f"{name}-fold{f['fold']}.keras")
            print(json.dumps({"config": name, **fold_row}), flush=True)
        y = np.concatenate(labels)
        if pwm is not None:
            row["pwm200_auprc"] = round(float(average_precision_score(
                y, np.concatenate([pwm_scores[f["fold"]] for f in folds]))), 4)
        row.update(train_s=round(t_total, 1), n_bins=int(len(y)), pos_rate=round(float(y.mean()), 5))
        for rc in (False, True):
            s = np.concatenate(scores[rc])
            tag = "rc" if rc else "fw"
            row[f"auprc_{tag}"] = round(float(average_precision_score(y, s)), 4)
            row[f"auroc_{tag}"] = round(float(roc_auc_score(y, s)), 4)
        row["auprc_rc_calibrated"] = round(float(average_precision_score(y, np.concatenate(calibrated))), 4)
        row["auprc_rc_fold_mean"] = round(float(np.mean([fr["auprc_rc"] for fr in row["folds"]])), 4)
        if a.save:
            np.savez(Path(a.save) / f"{name}.npz", scores=np.concatenate(scores[True]), labels=y)
        if not a.cv:  # flatten the single fold for the table
            row.update({k: v for k, v in row["folds"][0].items() if k not in ("fold", "test")})
        print(json.dumps(row), flush=True)
        if a.out:
            with open(a.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
