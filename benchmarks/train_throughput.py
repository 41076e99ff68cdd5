"""Training throughput, side by side in one run: the input pipeline alone vs. the training step of each model.

    .venv/bin/python benchmarks/train_throughput.py [--fold 0] [--batches 30] [--batch-size 64] [--json out.json]

- pipeline: the real training input (fold K's examples + genome-wide negatives, RC augmentation, shifts, one-hot
  on the fly, ``tf.data`` prefetch) iterated with no model: examples/s the trainer can be fed.
- <model> step: ``train_on_batch`` on batches already in memory (the model's own cost, forward + backward + Adam).
- <model> fit: ``model.fit`` on the real pipeline (what a train@K stage sees).

The input pipeline must be >= 10x faster than basset's training step, so it never limits training; the script
prints the ratio and exits 1 if it is not. Uses the project's data (`data/`) when present, else a random genome.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict:
    from seq2acc.mlops.machine import machine_info

    return machine_info()


def project_params(args):
    """The project's params (real data) or a synthetic 3-chromosome project in a temp dir."""
    from seq2acc.config import Params

    if (ROOT / "data/folds.json").exists() and (ROOT / "data/genome/genome.fa").exists():
        p = Params.load(ROOT / "params.yaml")
        os.chdir(ROOT)
        return p, "project data (data/)"
    sys.path.insert(0, str(ROOT / "tests"))
    from test_training import make_toy_project  # noqa: E402

    d = Path(tempfile.mkdtemp())
    p = make_toy_project(d)
    return p, "synthetic toy genome"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--batches", type=int, default=30, help="batches timed per measurement")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--models", default="small,basset")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from seq2acc import logutil
    from seq2acc.io.fasta import Genome
    from seq2acc.model.zoo import build_model
    from seq2acc.data.loader import fold_data, make_dataset
    from seq2acc.model.fit import compile_model
    from seq2acc.pipeline.train import load_elsewhere, validate_params

    logutil.setup("WARNING")
    p, source = project_params(a)
    p.data.setdefault("train", {})["batch_size"] = a.batch_size
    tc, mc, context = validate_params(p)
    from seq2acc.pipeline.train import paths as task_paths

    pp = task_paths(p)
    g = Genome(pp["genome"])
    data = fold_data(g, pp["data_dir"], pp["folds"], a.fold, tc, context, load_elsewhere(p, tc))
    n_batches = min(a.batches, len(data.train))
    res = {"machine": machine(), "data": source, "fold": a.fold, "batch_size": a.batch_size, "context": context,
           "train_config": {k: getattr(tc, k) for k in ("rc_augment", "max_shift", "genomewide_negatives")},
           "examples_per_s": {}}

    # input pipeline alone
    ds = make_dataset(data.train)
    it = iter(ds)
    next(it)  # warm-up (generator start, first chromosome loads)
    t0 = time.perf_counter()
    n = 0
    for _ in range(n_batches - 1):
        x, _ = next(it)
        n += int(x.shape[0])
    res["examples_per_s"]["pipeline"] = n / (time.perf_counter() - t0)

    xb, yb = [], []
    data.train.epoch = 0
    for i, (x, y) in enumerate(data.train.epoch_batches()):
        xb.append(x)
        yb.append(y)
        if i + 1 >= n_batches:
            break
    for name in a.models.split(","):
        cfg = dict(mc) if name == mc["name"] else {"name": name}
        model = build_model(cfg, input_length=context, seed=0)
        compile_model(model, tc, steps_per_epoch=n_batches)
        model.train_on_batch(xb[0], yb[0])  # trace + warm-up
        t0 = time.perf_counter()
        for x, y in zip(xb[1:], yb[1:]):
            model.train_on_batch(x, y)
        res["examples_per_s"][f"{name} step"] = sum(len(x) for x in xb[1:]) / (time.perf_counter() - t0)
        sub = make_dataset(data.train).take(n_batches)
        model.fit(sub.take(2), epochs=1, verbose=0, shuffle=False)  # warm-up of the fit path
        t0 = time.perf_counter()
        model.fit(sub, epochs=1, verbose=0, shuffle=False)
        res["examples_per_s"][f"{name} fit"] = n_batches * a.batch_size / (time.perf_counter() - t0)
        res.setdefault("params", {})[name] = model.count_params()
        keras.backend.clear_session()

    eps = res["examples_per_s"]
    ratio = eps["pipeline"] / eps["basset step"] if "basset step" in eps else float("nan")
    res["pipeline_over_basset_step"] = ratio
    print(f"machine: {res['machine']['cpu']} ({res['machine']['cores']} cores, load {res['machine']['load_average_at_start'][0]}),"
          f" TF {res['machine']['tensorflow']}, GPUs {res['machine']['gpus']}; data: {source}; batch {a.batch_size}")
    print(f"{'measurement':<16}{'examples/s':>12}")
    for k, v in eps.items():
        print(f"{k:<16}{v:>12.0f}")
    print(f"input pipeline / basset training step = {ratio:.1f}x (must be >= 10)")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    return 0 if not np.isfinite(ratio) or ratio >= 10 else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
