"""Training throughput, side by side in one run: the training input alone vs. the training step of each zoo model.

    .venv/bin/python benchmarks/train_throughput.py [--root DIR] [--fold 0] [--batches 200] [--rounds 3]
        [--models small,basset,basset_p50,residual] [--cores 2] [--fit] [--no-record]

- loader: the real training input (``data.loader.make_dataset`` over fold K's examples + genome-wide negatives,
  RC augmentation, shifts, one-hot in ``tf.data``, prefetch) iterated with no model: examples/s the trainer can
  be fed;
- <model> step: ``train_on_batch`` on batches already in memory (the model's own cost, forward + backward + Adam);
- <model> fit (``--fit``): ``model.fit`` on the real loader (what a train@K stage sees), once per model.

The loader and the model steps alternate for ``--rounds`` rounds in one process (medians reported), so load
from other processes hits them alike. ``--cores N`` pins the process to N cores before TensorFlow starts (the
figure "on 2 cores" on a bigger machine). Checks that the loader's batches are the numpy path's
(``epoch_batches``). Appends one row (machine, load, commit, medians, every round) to
``benchmarks/results/train_throughput.jsonl``. Exits 1 if the loader is not >= 10x every model's step.

Data: ``--root``'s project (``data/folds.json``, ``data/genome/genome.fa``, params.yaml; default this checkout),
else a synthetic toy genome.
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
RESULTS = ROOT / "benchmarks/results/train_throughput.jsonl"


def project_params(root: Path):
    """The project's params (real data) or a synthetic 3-chromosome project in a temp dir."""
    from seq2acc.config import Params

    if (root / "data/folds.json").exists() and (root / "data/genome/genome.fa").exists():
        os.chdir(root)
        return Params.load(root / "params.yaml"), f"project data ({root}/data)"
    sys.path.insert(0, str(ROOT / "tests"))
    from test_training import make_toy_project  # noqa: E402

    d = Path(tempfile.mkdtemp())
    return make_toy_project(d), "synthetic toy genome"


def time_loader(make, n_batches: int) -> float:
    it = iter(make())
    next(it)  # warm-up: generator start, first chunk
    t0 = time.perf_counter()
    n = 0
    for _ in range(n_batches):
        n += int(next(it)[0].shape[0])
    return n / (time.perf_counter() - t0)


def time_step(model, xb, yb) -> float:
    t0 = time.perf_counter()
    for x, y in zip(xb, yb):
        model.train_on_batch(x, y)
    return sum(len(x) for x in xb) / (time.perf_counter() - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=ROOT, help="project whose data/ and params.yaml are used")
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--batches", type=int, default=200, help="loader batches timed per round")
    ap.add_argument("--step-batches", type=int, default=10, help="train_on_batch calls timed per model and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=None, help="default: the project's train.batch_size")
    ap.add_argument("--models", default="small,basset,basset_p50,residual")
    ap.add_argument("--cores", type=int, default=None, help="pin to this many cores before TensorFlow starts")
    ap.add_argument("--fit", action="store_true", help="also time model.fit on the loader, once per model")
    ap.add_argument("--no-record", action="store_true", help=f"do not append the row to {RESULTS.name}")
    a = ap.parse_args(argv)
    if a.cores:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:a.cores])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from seq2acc import logutil
    from seq2acc.data.loader import chunk_batches, fold_data, make_dataset
    from seq2acc.io.fasta import Genome
    from seq2acc.mlops.lineage import git_commit
    from seq2acc.mlops.machine import machine_info
    from seq2acc.model.fit import compile_model
    from seq2acc.model.zoo import build_model
    from seq2acc.pipeline.train import load_elsewhere, paths as task_paths, validate_params

    logutil.setup("WARNING")
    info = machine_info()
    info["usable_cores"] = len(os.sched_getaffinity(0))
    commit, dirty = git_commit(ROOT)
    p, source = project_params(a.root.resolve())
    if a.batch_size:
        p.data.setdefault("train", {})["batch_size"] = a.batch_size
    tc, mc, context = validate_params(p)
    pp = task_paths(p)
    g = Genome(pp["genome"])
    data = fold_data(g, pp["data_dir"], pp["folds"], a.fold, tc, context, load_elsewhere(p, tc))
    n_batches = min(a.batches, len(data.train) - 1)

    # the loader's batches are the numpy path's (same examples, order, augmentation)
    data.train.epoch = 0
    ref = [b for _, b in zip(range(3), data.train.epoch_batches())]
    data.train.epoch = 0
    got = [b for _, b in zip(range(3), make_dataset(data.train))]
    same = all((x.numpy() == xr).all() and (y.numpy() == yr).all() for (x, y), (xr, yr) in zip(got, ref))

    # in-memory batches for the model steps (the loader's own, one-hot float32)
    data.train.epoch = 0
    mem = [b for _, b in zip(range(a.step_batches + 1), data.train.epoch_batches())]
    xb, yb = [m[0] for m in mem], [m[1] for m in mem]
    names = a.models.split(",")
    models = {}
    for name in names:
        cfg = dict(mc) if name == mc["name"] else {"name": name}
        m = build_model(cfg, input_length=context, seed=0)
        compile_model(m, tc, steps_per_epoch=len(xb))
        m.train_on_batch(xb[0], yb[0])  # trace + warm-up
        models[name] = m
    rounds = {"loader": []} | {f"{n} step": [] for n in names}
    for r in range(a.rounds):
        rounds["loader"].append(time_loader(lambda: make_dataset(data.train), n_batches))
        for name, m in models.items():
            rounds[f"{name} step"].append(time_step(m, xb[1:], yb[1:]))
        print(f"round {r + 1}/{a.rounds}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in rounds.items()), flush=True)
    med = {k: float(np.median(v)) for k, v in rounds.items()}
    if a.fit:
        for name, m in models.items():
            sub = make_dataset(data.train).take(a.step_batches)
            m.fit(sub.take(2), epochs=1, verbose=0)  # warm-up of the fit path
            t0 = time.perf_counter()
            m.fit(sub, epochs=1, verbose=0)
            med[f"{name} fit"] = a.step_batches * tc.batch_size / (time.perf_counter() - t0)
    over = {n: med["loader"] / med[f"{n} step"] for n in names}
    row = {"benchmark": "train_throughput", "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "commit": commit,
           "dirty": dirty, "machine": info, "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
           "data": source, "fold": a.fold, "batch_size": tc.batch_size, "context": context,
           "chunk_batches": chunk_batches(tc.batch_size),
           "train_config": {k: getattr(tc, k) for k in ("rc_augment", "max_shift", "genomewide_negatives")},
           "loader_batches_per_round": n_batches, "step_batches_per_round": len(xb) - 1,
           "examples_per_s_median": med, "rounds": rounds, "loader_over_step": over,
           "params": {n: int(m.count_params()) for n, m in models.items()},
           "loader_batches_equal_numpy_path": bool(same)}
    keras.backend.clear_session()
    print(f"\nmachine: {info['cpu']} ({info['usable_cores']} usable cores, load {info['load_average_at_start'][0]} at "
          f"start, {row['load_average_at_end'][0]} at end), TF {info['tensorflow']}, GPUs {info['gpus'] or 'none'}; "
          f"data: {source}; batch {tc.batch_size}; medians of {a.rounds} alternating rounds")
    print(f"{'measurement':<22}{'examples/s':>12}{'loader / this':>15}")
    for k, v in med.items():
        name = k.rsplit(" ", 1)[0]
        print(f"{k:<22}{v:>12.0f}" + (f"{over[name]:>14.1f}x" if k.endswith(" step") else ""))
    print(f"loader batches equal the numpy path's: {same}")
    if not a.no_record:
        with open(RESULTS, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(f"row appended to {RESULTS}")
    return 0 if same and all(v >= 10 for v in over.values()) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
