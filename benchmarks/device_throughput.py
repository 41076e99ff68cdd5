"""Throughput on whatever device TensorFlow sees (a GPU if the CUDA build is installed and one is visible, else
the CPU): the same command on a laptop, this CI machine or a GPU box (issue 15).

    .venv/bin/python benchmarks/device_throughput.py [--models small,basset] [--train-examples 1024]
        [--genome-bp 100000] [--shap-seqs 8] [--out benchmarks/results/device_throughput.jsonl]

For each model of the zoo, built as the project's params build it (input ``dataset.context``, untrained weights:
throughput does not depend on them), on synthetic data made here:

- training: examples/s of one epoch of ``model.fit`` (the project's loss and optimizer, ``train.batch_size``) on
  ``--train-examples`` random one-hot windows, after a traced warm-up epoch of two batches;
- genome-wide scoring: windows/s of :func:`seq2acc.evaluate.scorers.make_scorer` (the ``evaluate@K`` scorer:
  shared trunk when the architecture allows it, ``evaluate.rc_average``) over every ``dataset.stride`` window of a
  random ``--genome-bp`` chromosome read from a FASTA;
- DeepSHAP: sequences/s of :func:`seq2acc.interpret.attribution.contributions` (``attribute.n_refs``
  dinucleotide-shuffled references), ``attribute.batch_size`` rows per call on a CPU, ``--gpu-shap-batch`` on a
  GPU (params.yaml: "use e.g. 4096 on a GPU").

One JSON row per model is appended to ``--out`` with the device (:func:`seq2acc.model.device.device_info`), the
machine, the load average before and after, the git commit and the sizes. On a GPU machine use larger sizes
(e.g. ``--train-examples 20000 --genome-bp 2000000 --shap-seqs 256``) so each measurement lasts seconds.
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
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TQDM_DISABLE", "1")


def random_onehot(n: int, L: int, seed: int) -> np.ndarray:
    from seq2acc.seq.encoding import onehot_codes

    return onehot_codes(np.random.default_rng(seed).integers(0, 4, size=(n, L)).astype(np.uint8))


def bench_training(model, tc, x, y) -> dict:
    from seq2acc.model.fit import compile_model

    bs = tc.batch_size
    compile_model(model, tc, steps_per_epoch=max(1, len(x) // bs))
    model.fit(x[:2 * bs], y[:2 * bs], batch_size=bs, epochs=1, verbose=0, shuffle=False)  # trace + warm-up
    t = time.perf_counter()
    model.fit(x, y, batch_size=bs, epochs=1, verbose=0, shuffle=False)
    secs = time.perf_counter() - t
    return {"examples": len(x), "batch_size": bs, "seconds": secs, "examples_per_s": len(x) / secs}


def bench_scoring(model, genome, chrom: str, L: int, stride: int, p) -> dict:
    from seq2acc.evaluate.scorers import make_scorer

    rc = p.get("evaluate.rc_average", bool)
    sc = make_scorer(model, L, stride, p.get("evaluate.method", str), batch_size=p.get("evaluate.batch_size", int),
                     chunk_windows=p.get("evaluate.chunk_windows", int), rc_average=rc)
    starts = np.arange(0, genome.sizes[chrom] - L + 1, stride, dtype=np.int64)
    sc.score(genome, chrom, starts[:64], progress=False)  # trace + warm-up
    t = time.perf_counter()
    out = sc.score(genome, chrom, starts, progress=False)
    secs = time.perf_counter() - t
    assert out.shape[0] == len(starts) and np.isfinite(out).all()
    return {"windows": len(starts), "bp": genome.sizes[chrom], "stride": stride, "method": sc.method,
            "rc_average": rc, "seconds": secs, "windows_per_s": len(starts) / secs}


def bench_deepshap(model, x, n_refs: int, batch_size: int) -> dict:
    from seq2acc.interpret.attribution import contributions

    contributions(model, x[:2], n_refs=n_refs, batch_size=batch_size)  # trace + warm-up
    t = time.perf_counter()
    c, _ = contributions(model, x, n_refs=n_refs, seed=0, batch_size=batch_size)
    secs = time.perf_counter() - t
    assert c.shape == x.shape and np.isfinite(c).all()
    return {"sequences": len(x), "n_refs": n_refs, "batch_size": batch_size, "seconds": secs,
            "sequences_per_s": len(x) / secs}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="small,basset", help="zoo models, comma-separated")
    ap.add_argument("--train-examples", type=int, default=1024, help="examples in the timed training epoch")
    ap.add_argument("--genome-bp", type=int, default=100_000, help="length of the scored random chromosome")
    ap.add_argument("--shap-seqs", type=int, default=8, help="sequences explained by DeepSHAP")
    ap.add_argument("--gpu-shap-batch", type=int, default=4096, help="DeepSHAP rows per call when a GPU is used")
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/device_throughput.jsonl",
                    help="jsonl file the rows are appended to ('-' = print only)")
    a = ap.parse_args(argv)
    from seq2acc import logutil
    from seq2acc.config import Params
    from seq2acc.io.fasta import Genome
    from seq2acc.mlops.lineage import git_commit
    from seq2acc.mlops.machine import machine_info
    from seq2acc.model.device import describe, device_info
    from seq2acc.model.zoo import build_model
    from seq2acc.pipeline.train import validate_params

    logutil.setup("WARNING")
    p = Params.load(a.params)
    tc, _, L = validate_params(p)
    stride = p.get("dataset.stride", int, gt=0)
    dev = device_info()
    machine = machine_info()
    commit, dirty = git_commit(ROOT)
    shap_batch = a.gpu_shap_batch if dev["gpus"] else p.get("attribute.batch_size", int, gt=0)
    n_refs = p.get("attribute.n_refs", int, gt=0)
    print(describe(dev), flush=True)

    tmp = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(1)
    (tmp / "g.fa").write_text(">chrB\n" + "".join("ACGT"[i] for i in rng.integers(0, 4, a.genome_bp)) + "\n")
    genome = Genome(tmp / "g.fa")
    x = random_onehot(a.train_examples, L, seed=2)
    y = (rng.random((a.train_examples, 1)) < 0.3).astype(np.float32)
    xs = random_onehot(a.shap_seqs, L, seed=3)
    rows = []
    for name in a.models.split(","):
        import keras

        keras.backend.clear_session()
        model = build_model({"name": name}, input_length=L, seed=0)
        row = {"benchmark": "device_throughput", "model": name, "params": int(model.count_params()), "context": L,
               "device": dev, "machine": machine}
        row["train"] = bench_training(model, tc, x, y)
        row["scoring"] = bench_scoring(model, genome, "chrB", L, stride, p)
        row["deepshap"] = bench_deepshap(model, xs, n_refs, shap_batch)
        row.update(load_average_at_end=[round(v, 2) for v in os.getloadavg()], commit=commit, dirty=dirty,
                   time=time.strftime("%Y-%m-%dT%H:%M:%S"))
        rows.append(row)
        print(f"{name:8s} train {row['train']['examples_per_s']:9.1f} examples/s | scoring "
              f"{row['scoring']['windows_per_s']:9.1f} windows/s ({row['scoring']['method']}) | DeepSHAP "
              f"{row['deepshap']['sequences_per_s']:7.2f} seq/s", flush=True)
    if str(a.out) != "-":
        a.out.parent.mkdir(parents=True, exist_ok=True)
        with open(a.out, "a") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
        print(f"appended {len(rows)} row(s) to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
