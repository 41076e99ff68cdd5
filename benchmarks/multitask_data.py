"""Data stages with several tasks (issue 16, data half): wall time of ``peaks``, the ``dataset`` stages, ``folds``
and ``validate`` for the default one task (Reb1) and for every shipped yeast factor as a task, with the label
counts per task. Runs the stage bodies in a scratch folder that links the project's ``data/raw`` and
``data/genome`` (run ``dvc repro genome`` first); writes nothing into the project but the results row.

    .venv/bin/python benchmarks/multitask_data.py [--project .] [--out benchmarks/results/multitask_data.jsonl]

Checks on the way, in both runs: each task's genome-wide labels equal the >50 % rule on its own merged peaks
(``data/peaks/tasks/<name>.bed``), and ``label`` equals the first task's column. One JSON line per configuration,
with the machine, the load average and the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("TQDM_DISABLE", "1")


def machine() -> dict:
    """The machine without importing TensorFlow (:func:`seq2acc.mlops.machine.machine_info` would)."""
    from seq2acc.model.device import cpu_model

    return {"cpu": cpu_model(), "cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
            "python": platform.python_version()}


def run(project: Path, tasks: list[str] | None) -> dict:
    import numpy as np
    import yaml

    from seq2acc.config import Params
    from seq2acc.data.bins import BinSpec
    from seq2acc.data.store import label_columns, read_examples, read_genomewide
    from seq2acc.io.bed import read_bed3
    from seq2acc.pipeline.dataset import build_dataset
    from seq2acc.pipeline.folds import build_folds
    from seq2acc.pipeline.peaks import prepare_peaks
    from seq2acc.pipeline.validate import validate

    params = yaml.safe_load((project / "params.yaml").read_text())
    with tempfile.TemporaryDirectory(prefix="mt_bench_") as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        for d in ("raw", "genome"):
            (root / "data" / d).symlink_to((project / "data" / d).resolve())
        if tasks:
            peaks_dir = Path(params["peaks"]["target"]).parent
            params["peaks"]["target"] = None
            params["peaks"]["tasks"] = [{"name": n, "peaks": str(peaks_dir / f"{n}.bed"), "signal": None,
                                         "jaspar_id": None, "min_width": params["peaks"]["min_width"]} for n in tasks]
        (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        cwd = os.getcwd()
        os.chdir(root)
        try:
            p = Params.load("params.yaml")
            chroms = p.get("dataset.chromosomes", list)
            t = {"start": time.perf_counter()}
            prepare_peaks(p)
            t["peaks"] = time.perf_counter()
            for c in chroms:
                build_dataset(p, c)
            t["dataset"] = time.perf_counter()
            build_folds(p)
            t["folds"] = time.perf_counter()
            validate(p)
            t["validate"] = time.perf_counter()
            summary = json.loads(Path(p.get("validate.report", str)).read_text())
            names = summary["tasks"]
            paths = [Path(p.get("dataset.out_dir", str)) / f"{c}.h5" for c in chroms]
            ex = read_examples(paths, tasks=True)
            gw_pos, n_bins = dict.fromkeys(names, 0), 0
            for path in paths:
                chrom, _, spec, gw = read_genomewide(path, tasks=True)
                n_bins += len(gw)
                for n in names:
                    col = gw[f"label:{n}"].to_numpy()
                    gw_pos[n] += int(col.sum())
                    own = read_bed3(f"data/peaks/tasks/{n}.bed").chrom(chrom)
                    assert np.array_equal(col, BinSpec(spec.bin_size, spec.stride, spec.context,
                                                       spec.positive_overlap).labels(gw.bin_start.to_numpy(), *own))
                assert np.array_equal(gw["label"].to_numpy(), gw[f"label:{names[0]}"].to_numpy())
            cols = label_columns(names)
            size = sum(q.stat().st_size for q in paths)
        finally:
            os.chdir(cwd)
    steps = ("peaks", "dataset", "folds", "validate")
    prev = ["start", *steps[:-1]]
    return {"config": f"{len(names)} task(s)", "tasks": names,
            **{f"{s}_s": round(t[s] - t[q], 2) for s, q in zip(steps, prev)},
            "checks": f"{summary['n_passed']}/{summary['n_checks']}", "examples": len(ex),
            "examples_any_positive": int(ex[cols].to_numpy().any(axis=1).sum()),
            "sources": {str(k): int(v) for k, v in ex.source.value_counts().sort_index().items()},
            "genomewide_bins": n_bins, "genomewide_positive_rate": {n: round(gw_pos[n] / n_bins, 5) for n in names},
            "datasets_bytes": size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--project", default=".", help="project root (its params.yaml, data/raw, data/genome)")
    ap.add_argument("--out", default="benchmarks/results/multitask_data.jsonl")
    a = ap.parse_args()
    project = Path(a.project).resolve()
    import yaml

    target = Path(yaml.safe_load((project / "params.yaml").read_text())["peaks"]["target"])
    factors = sorted(f.name.split(".")[0] for f in (project / target.parent).glob("*.bed"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                            text=True).stdout.strip()
    for tasks in (None, factors):
        load_before = os.getloadavg()
        row = run(project, tasks)
        row.update(machine=machine(), load_before=[round(x, 2) for x in load_before],
                   load_after=[round(x, 2) for x in os.getloadavg()], commit=commit)
        print(json.dumps(row))
        with open(a.out, "a") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
