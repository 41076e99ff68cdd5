"""Multi-task training and evaluation (issue 16, second half) on the project's real data: one fold's model for one
task (Reb1) and for a task list, trained and evaluated by the stage bodies (``train@K``, ``evaluate@K``), with the
genome-wide AUPRC per task of the CNN and of the task's PWM and k-mer baselines, and the wall times.

    .venv/bin/python benchmarks/multitask_train.py [--project .] [--fold 0] [--tasks Reb1 Rsc3 Tbf1]
        [--out benchmarks/results/multitask_train.jsonl]

Runs in a scratch folder that links the project's ``data/raw`` and ``data/genome`` (run ``dvc repro genome``
first), with its own MLflow store; every other param is the project's params.yaml. Writes nothing into the project
but the results rows (one JSON line per configuration, with the machine, the load average and the commit).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TQDM_DISABLE", "1")

# JASPAR2024 ids of the shipped yeast factors (docs/multitask.md); Sua7 has none
JASPAR = {"Cin5": "MA0284", "Fhl1": "MA0295", "Fkh1": "MA0296", "Hsf1": "MA0319", "Mcm1": "MA0331", "Reb1": "MA0363",
          "Rsc3": "MA0374", "Sfp1": "MA0378", "Sok2": "MA0385", "Spt15": "MA0386", "Stb5": "MA0392", "Sua7": None,
          "Sum1": "MA0398", "Tbf1": "MA0403", "Ume6": "MA0412"}


def run(project: Path, tasks: list[str] | None, fold: int) -> dict:
    import yaml

    from seq2acc.config import Params
    from seq2acc.pipeline.dataset import build_dataset
    from seq2acc.pipeline.evaluate import evaluate_fold
    from seq2acc.pipeline.folds import build_folds
    from seq2acc.pipeline.peaks import prepare_peaks
    from seq2acc.pipeline.train import train_fold

    params = yaml.safe_load((project / "params.yaml").read_text())
    with tempfile.TemporaryDirectory(prefix="mt_train_") as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        (root / ".dvc").mkdir()
        for d in ("raw", "genome"):
            (root / "data" / d).symlink_to((project / "data" / d).resolve())
        if tasks:
            peaks_dir = Path(params["peaks"]["target"]).parent
            params["peaks"]["target"] = None
            params["peaks"]["tasks"] = [{"name": n, "peaks": str(peaks_dir / f"{n}.bed"), "signal": None,
                                         "jaspar_id": JASPAR.get(n), "min_width": params["peaks"]["min_width"]}
                                        for n in tasks]
        params["train"]["folds"] = [fold]
        params["evaluate"]["tracks"] = False
        (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        cwd, env = os.getcwd(), dict(os.environ)
        os.chdir(root)
        os.environ.update(MLFLOW_TRACKING_URI=f"sqlite:///{root / 'mlflow.db'}", DVC_ROOT=str(root))
        try:
            p = Params.load("params.yaml")
            prepare_peaks(p)
            for c in p.get("dataset.chromosomes", list):
                build_dataset(p, c)
            build_folds(p)
            t0 = time.perf_counter()
            train_fold(p, fold)
            t1 = time.perf_counter()
            ev = evaluate_fold(p, fold)
            t2 = time.perf_counter()
            hist = json.loads((root / f"models/fold{fold}/history.json").read_text())
        finally:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(env)
    per = ev.get("tasks") or {(tasks or ["Reb1"])[0]: ev}
    return {"config": f"{len(per)} task(s)", "tasks": list(per), "fold": fold, "train_s": round(t1 - t0, 1),
            "evaluate_s": round(t2 - t1, 1), "epochs_run": hist["epochs_run"], "best_epoch": hist["best_epoch"],
            "best_val_auprc": round(hist["val_auprc"][hist["best_epoch"] - 1], 4),
            "genomewide": {t: {"positive_rate": round(m["genomewide"]["positive_rate"], 5),
                               "cnn_auprc": round(m["genomewide"]["auprc"], 4),
                               **{f"{b}_auprc": round(v["genomewide"]["auprc"], 4) for b, v in m["baselines"].items()}}
                           for t, m in per.items()}}


def main() -> None:
    from multitask_data import machine

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--project", default=".", help="project root (its params.yaml, data/raw, data/genome)")
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--tasks", nargs="+", default=["Reb1", "Rsc3", "Tbf1"], help="the multi-task configuration")
    ap.add_argument("--out", default="benchmarks/results/multitask_train.jsonl")
    a = ap.parse_args()
    project = Path(a.project).resolve()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                            text=True).stdout.strip()
    for tasks in (None, a.tasks):
        load_before = os.getloadavg()
        row = run(project, tasks, a.fold)
        row.update(machine=machine(), load_before=[round(x, 2) for x in load_before],
                   load_after=[round(x, 2) for x in os.getloadavg()], commit=commit)
        print(json.dumps(row), flush=True)
        with open(a.out, "a") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
