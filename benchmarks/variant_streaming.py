"""Variant scoring at scale: variants/s and peak memory of the streaming ``seq2acc score-variants``.

    nice -n 10 .venv/bin/python benchmarks/variant_streaming.py [--n 100000] [--also 10000] [--n-null 10]
        [--chunk 32] [--contrib] [--folds 1] [--genome FASTA] [--out benchmarks/results/variant_streaming.jsonl]

Random SNVs (sorted by chromosome and position, as a VCF is; ALT a random other base; no N positions) on the demo
yeast genome (``data/genome/genome.fa``; a random 12 Mb genome if it is missing) are scored by the real command,
``python -m seq2acc.cli score-variants`` (the same code as the ``variants`` stage), in a child process with an
untrained ``small`` model (speed and memory do not depend on the weights) of the shipped input length
(``dataset.context``). Each size in ``--also`` and ``--n`` is one run; its peak resident memory is the child's own
high-water mark (``VmHWM`` of ``/proc/self/status``, written as it exits), which includes TensorFlow itself. The smaller run shows
how little memory grows with the number of variants (the scoring is bounded by ``--chunk``; what grows is the final
assembly's few numbers per variant: p-values for BH, the volcano plot's points): the 10^6 estimate extends that
growth linearly from the main run, and scales the time linearly. For comparison, the old in-memory scorer held ~64 kB per variant
(ref, alt and their contributions as (L, 4) float32): ``n * 64 kB``.

Time per variant grows with ``--n-null`` (each variant is 2 + 2 n_null windows on both strands per fold model) and
with ``--contrib`` (DeepSHAP with ``variants.n_refs`` references); the defaults (10 backgrounds, no contributions,
one fold) keep 10^5 variants to minutes on a laptop-class CPU. The row appended to ``--out`` records the settings,
the machine, the load average at start and end, and the git commit.
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

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def genome_path(workdir: Path, given: str | None) -> Path:
    fa = Path(given) if given else ROOT / "data" / "genome" / "genome.fa"
    if fa.exists():
        return fa
    rng = np.random.default_rng(0)
    fa = workdir / "random.fa"
    with open(fa, "w") as fh:
        for c in range(4):
            seq = "".join(rng.choice(list("ACGT"), size=3_000_000))
            fh.write(f">chr{c + 1}\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60)) + "\n")
    return fa


def random_snvs(genome, n: int, seed: int, path: Path) -> None:
    """``n`` SNVs at uniformly random non-N positions, sorted; TSV chrom pos ref alt id."""
    rng = np.random.default_rng(seed)
    sizes = genome.sizes
    chroms = list(sizes)
    total = np.array([sizes[c] for c in chroms], dtype=np.int64)
    per = rng.multinomial(n, total / total.sum())
    with open(path, "w") as fh:
        fh.write("chrom\tpos\tref\talt\tid\n")
        for c, k in zip(chroms, per):
            codes = genome.codes(c)
            ok = np.flatnonzero(codes < 4)
            pos0 = np.sort(rng.choice(ok, size=k, replace=False))
            alt = (codes[pos0] + rng.integers(1, 4, size=k)) % 4
            for p0, r, a in zip(pos0, codes[pos0], alt):
                fh.write(f"{c}\t{p0 + 1}\t{'ACGT'[r]}\t{'ACGT'[a]}\t{c}_{p0 + 1}\n")


def make_project(workdir: Path, fa: Path, folds: int, args) -> int:
    from seq2acc.model.zoo import build_model

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    context = int(params["dataset"]["context"])
    for k in range(folds):
        model = build_model({"name": "small"}, context, seed=k)
        (workdir / f"models/fold{k}").mkdir(parents=True, exist_ok=True)
        model.save(workdir / f"models/fold{k}/model.keras")
    params["genome"]["fasta_out"] = str(fa)
    params["train"]["folds"] = list(range(folds))
    params["train"]["out_dir"] = "models"
    params["folds"]["out"] = "no_folds.json"  # no fold plan: heldout_fold -1
    params["variants"].update(n_null=args.n_null, contrib=bool(args.contrib), chunk=args.chunk, top_plots=0)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return context


# the child reports its own high-water mark: ``ru_maxrss`` of a child (wait4, RUSAGE_CHILDREN) also counts the
# parent's memory at fork/exec on Linux, and this parent holds TensorFlow and the genome
_CHILD = """
import os, sys
from seq2acc.cli import main
try:
    main(sys.argv[1:])
finally:
    with open("/proc/self/status") as fh:
        hwm = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
    with open(os.environ["SEQ2ACC_BENCH_HWM"], "w") as fh:
        fh.write(hwm)
"""


def run_once(workdir: Path, variants: Path, out: str) -> dict:
    hwm = workdir / f"{out}.hwm_kb"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TQDM_DISABLE="1", MLFLOW_TRACKING_URI=f"sqlite:///{workdir / 'mlflow.db'}", SEQ2ACC_BENCH_HWM=str(hwm))
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", _CHILD, "--params", "params.yaml", "score-variants", str(variants),
                          "--out", out], cwd=workdir, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"score-variants failed ({res.returncode}):\n{res.stderr[-3000:]}")
    summary = json.loads((workdir / out / "summary.json").read_text())
    with open(workdir / out / "scores.tsv") as fh:
        rows = sum(1 for _ in fh) - 2  # comment and header lines
    return {"wall_s": round(wall, 1), "stage_s": summary["seconds"], "rows": rows,
            "peak_rss_mb": round(int(hwm.read_text()) / 1024, 1)}  # VmHWM: peak resident set, kB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="variants of the main run (default 10^5)")
    ap.add_argument("--also", type=int, nargs="*", default=[10_000], help="smaller runs first (memory growth per variant)")
    ap.add_argument("--n-null", type=int, default=10, help="shuffled backgrounds per variant")
    ap.add_argument("--chunk", type=int, default=32, help="variants per chunk (params variants.chunk)")
    ap.add_argument("--contrib", action="store_true", help="also DeepSHAP contributions (params variants.method)")
    ap.add_argument("--folds", type=int, default=1, help="fold models (each scores every window)")
    ap.add_argument("--genome", default=None, help="FASTA (default data/genome/genome.fa, the demo's yeast genome; "
                    "a random 12 Mb genome if it is missing)")
    ap.add_argument("--target-gb", type=float, default=2.0, help="peak RSS target")
    ap.add_argument("--workdir", default=None, help="keep the scratch project here (default: a temporary folder)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "variant_streaming.jsonl"))
    args = ap.parse_args()

    from seq2acc.io.fasta import Genome
    from seq2acc.mlops.lineage import git_commit
    from seq2acc.mlops.machine import machine_info

    info = machine_info()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        fa = genome_path(workdir, args.genome)
        context = make_project(workdir, fa, args.folds, args)
        genome = Genome(fa)
        runs = {}
        for n in [*args.also, args.n]:
            variants = workdir / f"snvs_{n}.tsv"
            random_snvs(genome, n, seed=n, path=variants)
            r = run_once(workdir, variants, f"out_{n}")
            if r["rows"] != n:
                raise SystemExit(f"{n} variants in, {r['rows']} rows out")
            r["variants_per_s"] = round(n / r["wall_s"], 1)
            runs[str(n)] = r
            print(f"{n:>9,d} variants: {r['wall_s']:8.1f} s ({r['variants_per_s']:.1f} variants/s), peak RSS "
                  f"{r['peak_rss_mb']:.0f} MB", flush=True)
    main_run = runs[str(args.n)]
    rate = args.n / main_run["wall_s"]
    peak = max(r["peak_rss_mb"] for r in runs.values())
    small = min(runs, key=int)  # memory growth per variant, measured between the smallest and the main run
    per_variant_mb = (max(0.0, (main_run["peak_rss_mb"] - runs[small]["peak_rss_mb"]) / (args.n - int(small)))
                      if int(small) < args.n else 0.0)
    peak_1e6 = round(peak + per_variant_mb * max(0, 1_000_000 - args.n), 1)
    commit, dirty = git_commit(ROOT)
    row = {"benchmark": "variant_streaming", "genome": "random 12 Mb" if fa.name == "random.fa" else str(fa),
           "genome_bp": int(sum(genome.sizes.values())), "model": "small (untrained)", "context": context, "folds": args.folds,
           "n_null": args.n_null, "contrib": bool(args.contrib), "chunk": args.chunk, "n": args.n, "runs": runs,
           "variants_per_s": round(rate, 1), "peak_rss_mb": peak,
           "rss_growth_mb": round(main_run["peak_rss_mb"] - min(r["peak_rss_mb"] for r in runs.values()), 1),
           "extrapolated_1e6": {"hours": round(1e6 / rate / 3600, 2), "peak_rss_mb": peak_1e6,
                                "rss_kb_per_variant": round(per_variant_mb * 1024, 3)},
           "in_memory_estimate_1e6_gb": round(1e6 * 64e3 / 1e9, 1),
           "target_peak_rss_gb": args.target_gb, "target_met": peak < args.target_gb * 1024,
           "target_met_1e6_extrapolated": peak_1e6 < args.target_gb * 1024,
           "machine": info, "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
           "commit": commit, "dirty": dirty, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a") as fh:
        fh.write(json.dumps(row) + "\n")
    print(f"{args.n:,d} variants at {rate:.1f}/s, peak RSS {peak:.0f} MB (target < {args.target_gb} GB: "
          f"{'met' if row['target_met'] else 'NOT met'}); 10^6 ~ {row['extrapolated_1e6']['hours']} h, "
          f"~{peak_1e6:.0f} MB; load {info['load_average_at_start'][0]:.1f} -> {row['load_average_at_end'][0]:.1f}; row -> {out}")


if __name__ == "__main__":
    main()
