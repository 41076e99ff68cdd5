"""Dinucleotide shuffles, side by side in one process: seq2acc's ``dinuc_shuffle`` vs tangermeme's
``dinucleotide_shuffle`` (the tool a user would pick instead), alternating rounds on the same inputs.

    .venv/bin/python benchmarks/shuffle_speed.py [--seqs 200] [--length 1000] [--n 20] [--rounds 7] [--no-record]

Both take the same one-hot sequences (seq2acc (m, L, 4), tangermeme its (m, 4, L) layout of the same array) and
return one-hot shuffles, ``--n`` per sequence, on one thread (both libraries' default). Also timed: seq2acc on
integer codes (no one-hot either side), and tangermeme with ``n_jobs=-1`` (numba threads on every usable core).
Every output is checked: each shuffle keeps its sequence's dinucleotide counts and first and last base.
Reports the median of the rounds (load from other processes hits both alike) and appends one row (machine,
load, commit, rates, every round) to ``benchmarks/results/shuffle_speed.jsonl``.

seq2acc's shuffle is exact (Altschul-Erickson: uniform over the sequences with the same dinucleotide counts);
tangermeme's (deeplift's) keeps each letter's last out-edge fixed instead of drawing it from a random
arborescence, so it is not uniform. The speed comparison is the point here; the uniformity test is
``tests/test_shuffle.py``.

Needs tangermeme (``pip install seq2acc[bench]``); without it, seq2acc alone is timed and nothing is recorded.
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
RESULTS = ROOT / "benchmarks/results/shuffle_speed.jsonl"


def dinucs_kept(codes: np.ndarray, shuffled: np.ndarray) -> bool:
    """Every shuffle (m, n, L) keeps its sequence's (m, L) dinucleotide counts and first and last letter."""
    m, n, L = shuffled.shape
    pairs = lambda c: (c[..., :-1].astype(np.int64) * 5 + c[..., 1:]).reshape(-1, L - 1)  # noqa: E731
    count = lambda p: np.stack([np.bincount(r, minlength=25) for r in p])  # noqa: E731
    want = np.repeat(count(pairs(codes)), n, axis=0)
    ends = (shuffled[..., 0] == codes[:, None, 0]).all() and (shuffled[..., -1] == codes[:, None, -1]).all()
    return bool(ends and (count(pairs(shuffled)) == want).all())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seqs", type=int, default=200, help="sequences shuffled per call")
    ap.add_argument("--length", type=int, default=1000)
    ap.add_argument("--n", type=int, default=20, help="shuffles per sequence")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--no-record", action="store_true", help=f"do not append the row to {RESULTS.name}")
    a = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from seq2acc.mlops.lineage import git_commit
    from seq2acc.mlops.machine import machine_info
    from seq2acc.seq.encoding import onehot_codes
    from seq2acc.seq.shuffle import dinuc_shuffle

    try:
        import torch
        from tangermeme.ersatz import dinucleotide_shuffle
        import tangermeme
    except ImportError:
        dinucleotide_shuffle = None
        print("tangermeme is not installed (pip install 'seq2acc[bench]'): timing seq2acc alone, recording nothing")
    info = machine_info()
    info["usable_cores"] = len(os.sched_getaffinity(0))
    commit, dirty = git_commit(ROOT)
    codes = np.random.default_rng(0).integers(0, 4, size=(a.seqs, a.length)).astype(np.uint8)
    x = onehot_codes(codes)  # (m, L, 4) float32
    impls = {"seq2acc dinuc_shuffle (one-hot)": lambda seed: dinuc_shuffle(x, seed, n=a.n),
             "seq2acc dinuc_shuffle (codes)": lambda seed: dinuc_shuffle(codes, seed, n=a.n)}
    to_codes = {"seq2acc dinuc_shuffle (one-hot)": lambda o: o.argmax(-1), "seq2acc dinuc_shuffle (codes)": lambda o: o}
    if dinucleotide_shuffle is not None:
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))  # tangermeme's (m, 4, L), same values
        impls["tangermeme dinucleotide_shuffle"] = lambda seed: dinucleotide_shuffle(xt, n=a.n, random_state=seed)
        impls["tangermeme dinucleotide_shuffle n_jobs=-1"] = (
            lambda seed: dinucleotide_shuffle(xt, n=a.n, random_state=seed, n_jobs=-1))
        to_codes["tangermeme dinucleotide_shuffle"] = lambda o: o.numpy().argmax(2)
        to_codes["tangermeme dinucleotide_shuffle n_jobs=-1"] = to_codes["tangermeme dinucleotide_shuffle"]
    for f in impls.values():  # numba compile / first call, not timed
        f(0)
    rounds = {k: [] for k in impls}
    kept = {k: True for k in impls}
    for r in range(a.rounds):
        for k, f in impls.items():
            t0 = time.perf_counter()
            out = f(r + 1)
            rounds[k].append(a.seqs * a.n / (time.perf_counter() - t0))
            kept[k] = kept[k] and dinucs_kept(codes, np.asarray(to_codes[k](out), dtype=np.uint8))
        print(f"round {r + 1}/{a.rounds}: " + ", ".join(f"{k} {v[-1]:.0f}/s" for k, v in rounds.items()), flush=True)
    med = {k: float(np.median(v)) for k, v in rounds.items()}
    base = med.get("tangermeme dinucleotide_shuffle")
    print(f"\nmachine: {info['cpu']} ({info['usable_cores']} usable cores, load {info['load_average_at_start'][0]} at "
          f"start, {os.getloadavg()[0]:.2f} at end); {a.seqs} sequences x {a.n} shuffles, {a.length} bp; "
          f"medians of {a.rounds} alternating rounds")
    print(f"{'implementation':<44}{'shuffles/s':>12}{'vs tangermeme':>15}  dinucleotides kept")
    for k, v in med.items():
        print(f"{k:<44}{v:>12.0f}{(f'{v / base:.2f}x' if base else '-'):>15}  {kept[k]}")
    if base and not a.no_record:
        row = {"benchmark": "shuffle_speed", "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "commit": commit,
               "dirty": dirty, "machine": info, "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
               "tangermeme": tangermeme.__version__, "seqs": a.seqs, "length": a.length, "n": a.n,
               "shuffles_per_s_median": med, "over_tangermeme": {k: v / base for k, v in med.items()},
               "rounds": rounds, "dinucleotides_kept": kept}
        with open(RESULTS, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(f"row appended to {RESULTS}")
    return 0 if all(kept.values()) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
