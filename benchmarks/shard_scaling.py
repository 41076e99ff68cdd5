"""Genome-wide prediction sharded per chromosome: wall time of one process vs local worker processes (vs a local
Ray cluster), same inputs, in one run, checking that every setting gives the same table (issue 15).

    .venv/bin/python benchmarks/shard_scaling.py [--model basset] [--chroms 4] [--chrom-bp 40000]
        [--workers 1,2] [--ray] [--out benchmarks/results/shard_scaling.jsonl]

A random genome of ``--chroms`` chromosomes and an untrained zoo model (saved as ``model.keras``: speed does not
depend on the weights) are made in a temp dir; :func:`seq2acc.apps.predict.predict_chromosomes` (what
``seq2acc predict --chrom all`` runs) scores every grid window with each ``--workers`` setting and, with
``--ray``, on a Ray cluster of ``max(workers)`` CPUs started here on 127.0.0.1. Wall time includes starting the
workers (each imports TensorFlow and loads the model): the fixed cost that sharding must win back, so
chromosomes must take longer than that for it to pay. One jsonl row: machine, load, commit, windows/s per setting.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TQDM_DISABLE", "1")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="basset")
    ap.add_argument("--chroms", type=int, default=4)
    ap.add_argument("--chrom-bp", type=int, default=40_000)
    ap.add_argument("--workers", default="1,2", help="local worker counts to time, comma-separated")
    ap.add_argument("--ray", action="store_true", help="also time a local Ray cluster of max(workers) CPUs")
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/shard_scaling.jsonl",
                    help="jsonl file the row is appended to ('-' = print only)")
    a = ap.parse_args(argv)
    import pandas as pd

    from seq2acc import logutil
    from seq2acc.apps.predict import ChromosomeJob, predict_chromosomes
    from seq2acc.config import Params
    from seq2acc.mlops.lineage import git_commit
    from seq2acc.mlops.machine import machine_info
    from seq2acc.model.zoo import build_model

    logutil.setup("WARNING")
    p = Params.load(a.params)
    L, bin_size, stride = (p.get(k, int, gt=0) for k in ("dataset.context", "dataset.bin_size", "dataset.stride"))
    tmp = Path(tempfile.mkdtemp(prefix="shard"))
    rng = np.random.default_rng(0)
    chroms = [f"chr{i + 1}" for i in range(a.chroms)]
    (tmp / "g.fa").write_text("".join(f">{c}\n" + "".join("ACGT"[i] for i in rng.integers(0, 4, a.chrom_bp)) + "\n"
                                      for c in chroms))
    build_model({"name": a.model}, input_length=L, seed=0).save(tmp / "model.keras")
    job = ChromosomeJob(str(tmp / "model.keras"), "", "", (), "", str(tmp / "g.fa"), bin_size, stride, True)
    settings = [("local", int(w)) for w in a.workers.split(",")]
    if a.ray:
        settings.append(("ray", max(w for _, w in settings)))
    row = {"benchmark": "shard_scaling", "model": a.model, "chroms": a.chroms, "chrom_bp": a.chrom_bp,
           "machine": machine_info(), "runs": []}
    ref = None
    for kind, n in settings:
        kw = {"workers": n}
        if kind == "ray":
            import ray

            # a private cluster on 127.0.0.1 (no auth token written to ~/.ray, no usage report)
            os.environ.update(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_USAGE_STATS_ENABLED="0",
                              RAY_AUTH_MODE="disabled")
            t0 = time.perf_counter()
            ray_tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths
            ray.init(num_cpus=n, include_dashboard=False, object_store_memory=100 * 2**20, _temp_dir=ray_tmp)
            start = time.perf_counter() - t0
            kw = {"ray_address": ray.get_runtime_context().gcs_address}
        t = time.perf_counter()
        df = predict_chromosomes(job, chroms, **kw)
        secs = time.perf_counter() - t
        if kind == "ray":
            ray.shutdown()
            shutil.rmtree(ray_tmp, ignore_errors=True)
        same = True if ref is None else bool(df.equals(ref))
        ref = df if ref is None else ref
        r = {"kind": kind, "workers": n, "seconds": secs, "windows": len(df), "windows_per_s": len(df) / secs,
             "same_table_as_first": same}
        if kind == "ray":
            r["cluster_start_seconds"] = start
        row["runs"].append(r)
        print(f"{kind:5s} x{n}: {secs:7.1f} s, {len(df) / secs:8.1f} windows/s, same table: {same}", flush=True)
        assert isinstance(df, pd.DataFrame) and same, "sharded output differs from the first setting's"
    shutil.rmtree(tmp, ignore_errors=True)
    commit, dirty = git_commit(ROOT)
    row.update(load_average_at_end=[round(v, 2) for v in os.getloadavg()], commit=commit, dirty=dirty,
               time=time.strftime("%Y-%m-%dT%H:%M:%S"))
    if str(a.out) != "-":
        with open(a.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"appended a row to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
