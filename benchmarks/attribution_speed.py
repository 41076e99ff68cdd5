"""Interpretation speed, side by side in one run (issue 5):

- DeepSHAP throughput (sequences/s, 20 dinucleotide-shuffled references, 1000 bp) of seq2acc's batched
  ``contributions`` next to ``shap.DeepExplainer`` run directly (one sequence at a time, references from a
  function), for the ``small`` and ``basset`` models; the two give the same numbers (checked here too);
- dinucleotide shuffles/s (1000 bp);
- PWM scan throughput (bp x motifs / s) of the Conv1D ``PWMScanner`` (``engine="conv"``, the path contribution
  scans use) next to memelite's FIMO, on the same one-hot sequences and JASPAR fungi PWMs, with the same p-value
  threshold (FIMO warmed up: numba compile excluded). Sequence scans use the numba index scanner:
  ``benchmarks/pwm_scan_speed.py`` measures it against FIMO.

    nice -n 10 .venv/bin/python benchmarks/attribution_speed.py [--seqs 16] [--json out.json]

Prints one JSON line per measurement and a table; the machine (CPU, cores, TF devices) is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TQDM_DISABLE", "1")


def machine() -> dict:
    import tensorflow as tf

    from seq2acc.model.device import cpu_model

    cpu = cpu_model()
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    try:
        import subprocess

        names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        gpus = names.splitlines() or gpus
    except Exception:  # noqa: BLE001
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)), "gpus": gpus,
            "tensorflow": tf.__version__, "python": platform.python_version()}


def timed(fn, repeat: int = 1):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench_attribution(name: str, n: int, L: int, n_refs: int, batch_sizes, rounds: int = 3) -> list[dict]:
    """seq2acc (each batch size) and shap.DeepExplainer run directly, interleaved for ``rounds`` rounds on the
    same sequences (best round of each), so that load from other processes hits all of them alike."""
    import shap

    from seq2acc.interpret.attribution import REF_STREAM, contributions, seq_rng
    from seq2acc.model.zoo import build_model
    from seq2acc.seq.encoding import onehot_codes
    from seq2acc.seq.shuffle import dinuc_shuffle

    model = build_model({"name": name}, input_length=L, seed=0)
    x = onehot_codes(np.random.default_rng(0).integers(0, 4, size=(n, L)).astype(np.uint8))
    counter = {"i": 0}

    def refs(inputs):  # shap calls this once per sequence: the same references as seq2acc's
        i = counter["i"]
        counter["i"] += 1
        return [dinuc_shuffle(inputs[0], seq_rng(0, REF_STREAM, i), n=n_refs)]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = shap.DeepExplainer(model, refs)
        e.shap_values(x[:1], check_additivity=False)  # trace
        for bs in batch_sizes:
            contributions(model, x[:2], n_refs=n_refs, batch_size=bs)  # trace
        best = {bs: float("inf") for bs in batch_sizes}
        best["shap"] = float("inf")
        c = sv = None
        for _ in range(rounds):
            for bs in batch_sizes:
                t, (c, _) = timed(lambda: contributions(model, x, n_refs=n_refs, seed=0, batch_size=bs))
                best[bs] = min(best[bs], t)
            counter["i"] = 0
            t, sv = timed(lambda: e.shap_values(x, check_additivity=False))
            best["shap"] = min(best["shap"], t)
    agree = float(np.abs(np.asarray(sv).reshape(n, L, 4).sum(-1) - c.sum(-1)).max())
    rows = [{"what": f"deepshap {name}", "impl": f"seq2acc.contributions (batch {bs} rows)", "sequences": n,
             "seconds": best[bs], "per_s": n / best[bs], "unit": "sequences/s", "n_refs": n_refs, "L": L}
            for bs in batch_sizes]
    rows.append({"what": f"deepshap {name}", "impl": "shap.DeepExplainer direct", "sequences": n,
                 "seconds": best["shap"], "per_s": n / best["shap"], "unit": "sequences/s", "n_refs": n_refs, "L": L,
                 "max_abs_diff_vs_seq2acc": agree})
    return rows


def bench_shuffle(n: int, L: int) -> dict:
    from seq2acc.seq.shuffle import dinuc_shuffle

    x = np.random.default_rng(1).integers(0, 4, size=(n, L)).astype(np.uint8)
    dinuc_shuffle(x[:1], 0)  # numba compile
    t, _ = timed(lambda: dinuc_shuffle(x, 0, n=10), repeat=2)
    return {"what": "dinucleotide shuffle", "impl": "seq2acc.seq.shuffle.dinuc_shuffle (Altschul-Erickson)",
            "shuffles": n * 10, "seconds": t, "per_s": n * 10 / t, "unit": "shuffles/s", "L": L}


def bench_scan(n: int, L: int, pvalue: float) -> list[dict]:
    from memelite import fimo

    from seq2acc.interpret.motifs import PWMScanner, fetch_jaspar
    from seq2acc.seq.encoding import onehot_codes

    motifs = fetch_jaspar(tax_group=["fungi"], release="JASPAR2024")
    sc = PWMScanner.from_motifs(motifs, pvalue_bin=0.1, pvalue_lookup="score")  # FIMO's p-values: same hits
    x = onehot_codes(np.random.default_rng(2).integers(0, 4, size=(n, L)).astype(np.uint8))
    work = n * L * len(motifs)
    sc.hits(x[:4], pvalue, engine="conv")  # trace + p-value tables
    t_ours, h = timed(lambda: sc.hits(x, pvalue, batch_size=64, engine="conv"), repeat=2)
    pwms = {m.id: (0.25 * 2.0 ** p - 1e-4).T for m, p in zip(motifs, sc.pwms)}
    xt = np.ascontiguousarray(x.transpose(0, 2, 1))
    fimo(pwms, xt[:4], threshold=pvalue)  # numba compile
    t_fimo, f = timed(lambda: fimo(pwms, xt, threshold=pvalue), repeat=2)
    n_fimo = int(sum(len(d) for d in f))
    t_max, _ = timed(lambda: sc.max_scores(x, batch_size=64, engine="conv"), repeat=2)
    return [{"what": "PWM scan", "impl": "seq2acc PWMScanner.hits (frozen Conv1D, both strands)", "motifs": len(motifs),
             "bp": n * L, "seconds": t_ours, "per_s": work / t_ours, "unit": "bp x motifs/s", "hits": len(h)},
            {"what": "PWM scan", "impl": "seq2acc PWMScanner.max_scores (frozen Conv1D)", "motifs": len(motifs), "bp": n * L,
             "seconds": t_max, "per_s": work / t_max, "unit": "bp x motifs/s"},
            {"what": "PWM scan", "impl": "memelite.fimo", "motifs": len(motifs), "bp": n * L, "seconds": t_fimo,
             "per_s": work / t_fimo, "unit": "bp x motifs/s", "hits": n_fimo}]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seqs", type=int, default=16, help="sequences (1000 bp) explained by each implementation")
    ap.add_argument("--refs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, nargs="+", default=[80, 640],
                    help="model rows per call (seq x ref pairs, x2); each is measured")
    ap.add_argument("--scan-seqs", type=int, default=1000, help="1000 bp sequences for the PWM scan")
    ap.add_argument("--models", nargs="+", default=["small", "basset"])
    ap.add_argument("--json", type=Path, default=None, help="also write all results to this file")
    a = ap.parse_args(argv)
    rows = []
    info = machine()
    print(json.dumps({"machine": info}), flush=True)
    for name in a.models:
        for r in bench_attribution(name, a.seqs, 1000, a.refs, a.batch_size):
            rows.append(r)
            print(json.dumps(r), flush=True)
    r = bench_shuffle(200, 1000)
    rows.append(r)
    print(json.dumps(r), flush=True)
    for r in bench_scan(a.scan_seqs, 1000, 1e-4):
        rows.append(r)
        print(json.dumps(r), flush=True)
    print(f"\nmachine: {info['cpu']}, {info['affinity']} usable cores, GPUs: {info['gpus'] or 'none'}")
    print(f"{'measurement':28s} {'implementation':55s} {'rate':>14s}  unit  (best round)")
    for r in rows:
        print(f"{r['what']:28s} {r['impl']:55s} {r['per_s']:14.4g}  {r['unit']}")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps({"machine": info, "results": rows}, indent=1))


if __name__ == "__main__":
    main()
