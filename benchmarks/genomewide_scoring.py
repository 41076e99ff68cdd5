"""Genome-wide scoring speed: window-by-window vs shared-trunk, side by side on the same model and windows.

    nice -n 10 .venv/bin/python benchmarks/genomewide_scoring.py [--windows 4000] [--models small basset basset_p50]
                                                               [--rc] [--out benchmarks/results/genomewide_scoring.json]

For each model (untrained weights: speed does not depend on them) both scorers run on consecutive 50 bp grid
windows of the demo genome (``data/genome/genome.fa``; a random sequence if it is missing), after a warm-up call.
Reported per scorer: windows/s, the FLOPs it actually executes per second (convolutions + dense layers, 2 per
multiply-add) and the window-equivalent FLOP rate (window FLOPs x windows/s: what window-by-window scoring would
need to match it). The shared-trunk result is checked against window-by-window (max abs difference < 1e-5).

Models: ``small`` (the default; one conv layer, pooling 50), ``basset`` (Kelley 2016; pooling 3x4x4 = 48 does not divide
the 50 bp stride, so the shared trunk does not apply and ``auto`` falls back to window-by-window) and
``basset_p50`` (Basset's layers with pooling 2x5x5 = 50, so its trunk can be shared).
Human scale: ~62 million windows at stride 50 -> hours = 62e6 / windows_per_s / 3600.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

MODELS = {
    "small": {"name": "small"},
    "basset": {"name": "basset"},
    "basset_p50": {"name": "basset", "pool_sizes": [2, 5, 5]},
}


def machine() -> dict:
    from seq2acc.mlops.machine import machine_info

    return machine_info()


def genome_and_starts(n: int, context: int = 1000, stride: int = 50):
    from seq2acc.io.fasta import Genome

    fa = ROOT / "data" / "genome" / "genome.fa"
    if not fa.exists():
        import tempfile

        rng = np.random.default_rng(0)
        length = n * stride + context + 10
        fa = Path(tempfile.mkdtemp()) / "random.fa"
        seq = "".join(rng.choice(list("ACGT"), size=length))
        fa.write_text(">r\n" + "\n".join(seq[i:i + 60] for i in range(0, len(seq), 60)) + "\n")
    g = Genome(fa)
    chrom = max(g.sizes, key=g.sizes.get)
    first = 20_000
    if first + n * stride + context > g.sizes[chrom]:
        first = 0
    return g, chrom, first + stride * np.arange(n, dtype=np.int64)


def timed(fn, repeats: int = 2) -> float:
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_model(name: str, cfg: dict, g, chrom, starts, n_window: int, rc: bool) -> dict:
    from seq2acc.model.zoo import build_model
    from seq2acc.evaluate.scorers import (SharedTrunkNotApplicable, SharedTrunkScorer, WindowScorer, shared_trunk_flops,
                                 window_flops)

    model = build_model(cfg, 1000, seed=0)
    wf = window_flops(model)
    win = WindowScorer(model, 1000, batch_size=256, rc_average=rc)
    sw = starts[:n_window]
    win.score(g, chrom, sw[:256], progress=False)  # warm-up (tracing)
    t_w = timed(lambda: win.score(g, chrom, sw, progress=False), repeats=1 if name.startswith("basset") else 2)
    rate_w = len(sw) / t_w
    out = {"model": name, "config": cfg, "params": int(model.count_params()), "window_gflop": wf / 1e9,
           "rc_average": rc,
           "window": {"windows": len(sw), "seconds": t_w, "windows_per_s": rate_w,
                      "gflops_executed": wf * rate_w * (2 if rc else 1) / 1e9}}
    try:
        sh = SharedTrunkScorer(model, 1000, 50, chunk_windows=2048, rc_average=rc)
    except SharedTrunkNotApplicable as e:
        out["shared_trunk"] = {"applicable": False, "reason": str(e)}
        return out
    sh.score(g, chrom, starts[:64], progress=False)  # warm-up
    res = {}

    def run():
        res["y"] = sh.score(g, chrom, starts, progress=False)

    t_s = timed(run)
    ref = win.score(g, chrom, sw, progress=False)
    diff = float(np.max(np.abs(res["y"][:len(sw)] - ref)))
    rate_s = len(starts) / t_s
    out["shared_trunk"] = {"applicable": True, "windows": len(starts), "seconds": t_s, "windows_per_s": rate_s,
                           "gflops_executed": shared_trunk_flops(sh, len(starts)) / t_s / 1e9,
                           "gflops_window_equivalent": wf * rate_s * (2 if rc else 1) / 1e9,
                           "speedup": rate_s / rate_w, "max_abs_diff_vs_window": diff}
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--windows", type=int, default=20000, help="windows scored by the shared-trunk scorer")
    ap.add_argument("--window-windows", type=int, default=2000,
                    help="windows scored window-by-window (basset: a tenth of it; rates are per window)")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--rc", action="store_true", help="average both strands (evaluate.rc_average)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "genomewide_scoring.json"))
    a = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    info = machine()
    g, chrom, starts = genome_and_starts(a.windows)
    rows = []
    for name in a.models:
        nw = a.window_windows // 10 if name.startswith("basset") else a.window_windows
        r = bench_model(name, MODELS[name], g, chrom, starts, nw, a.rc)
        rows.append(r)
        w, s = r["window"], r["shared_trunk"]
        line = (f"{name:11s} {r['window_gflop'] * 1e3:8.1f} MFLOP/window | window-by-window {w['windows_per_s']:9.1f} "
                f"win/s {w['gflops_executed']:7.1f} GFLOP/s")
        if s.get("applicable"):
            line += (f" | shared trunk {s['windows_per_s']:9.1f} win/s ({s['gflops_executed']:6.1f} GFLOP/s executed, "
                     f"{s['gflops_window_equivalent']:7.1f} window-equivalent) = {s['speedup']:.1f}x, "
                     f"max |diff| {s['max_abs_diff_vs_window']:.1e}")
        else:
            line += f" | shared trunk n/a: {s['reason']}"
        print(line, flush=True)
    info["load_average_at_end"] = list(os.getloadavg())
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "chromosome": chrom, "results": rows}, indent=1) + "\n")
    print(f"machine: {info['cpu']}, {info['cores']} cores, GPUs {info['gpus'] or 'none'}, TF {info['tensorflow']}, "
          f"load {info['load_average_at_start'][0]:.1f} -> {info['load_average_at_end'][0]:.1f}; written {out}")


if __name__ == "__main__":
    main()
