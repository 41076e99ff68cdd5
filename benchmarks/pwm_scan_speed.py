"""PWM scanning side by side in one process: seq2acc's numba sequence scanner (``PWMScanner.hits``, k-mer index +
branch and bound, :mod:`seq2acc.interpret.seqscan`) vs memelite's ``fimo`` (the tool a user would pick instead),
alternating rounds on the same inputs (issue 17).

    .venv/bin/python benchmarks/pwm_scan_speed.py [--genome data/genome/genome.fa] [--seqs 1000] [--length 1000]
        [--pvalue 1e-4] [--rounds 7] [--with-conv] [--no-record]

Inputs: the 178 JASPAR2024 CORE fungi matrices inside pyjaspar (log-odds, uniform background, pseudocount 0.8),
``--seqs`` x ``--length`` bp (1 Mbp by default) of the genome FASTA cut from its longest chromosomes (random
sequence when the FASTA does not exist), both strands, hits at p < ``--pvalue``. Both take the same one-hot array
(seq2acc (n, L, 4), memelite its (n, 4, L) layout of the same values) and return thresholded hits. For identical
hits seq2acc uses FIMO's score grid and look-up (``pvalue_bin=0.1, pvalue_lookup="score"``) and memelite is given
our log-odds exactly (probabilities ``0.25 * 2**pwm - eps``).

Timed, after a warm-up call each (numba compiles): seq2acc with the scanner built inside the call (PWMs, p-value
tables and plan each time, as ``fimo`` builds its tables each call), seq2acc with the scanner reused, memelite
``fimo``, seq2acc at the project's defaults (word look-up on a 0.001-bit grid: ``motif_scan``'s hits, not
FIMO's), and the reused scanner and ``fimo`` again on one numba thread each (less exposed to other jobs' load).
``--with-conv`` adds one round of the old frozen-Conv1D path. Reported: M bp x motif / s (bp scanned x motifs,
both strands each), medians and best rounds; the ratios to FIMO (of the medians, the median of the same-round
ratios, of the best rounds); whether the hits agree (same windows, strands and motifs; scores within 1e-4;
p-values). The machine's limits are measured too, with numba: float32 add throughput (all threads, data in cache)
and streaming read bandwidth, and the ceiling they put on any scan that scores every window (2 x mean width adds
per bp x motif). One JSON row (machine, load from ``uptime``, commit,
rates, every round) is appended to ``benchmarks/results/pwm_scan_speed.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks/results/pwm_scan_speed.jsonl"


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def sequences(genome: Path, n: int, L: int) -> tuple[np.ndarray, str]:
    """(n, L) uint8 codes from the longest chromosomes of ``genome`` (in order), or random ones."""
    if not genome.exists():
        return np.random.default_rng(2).integers(0, 4, size=(n, L)).astype(np.uint8), "random"
    from seq2acc.io.fasta import Genome

    g = Genome(genome)
    parts, have = [], 0
    for c in sorted(g.sizes, key=g.sizes.get, reverse=True):
        parts.append(g.codes(c)[:n * L - have])
        have += len(parts[-1])
        if have >= n * L:
            break
    codes = np.concatenate(parts)
    if len(codes) < n * L:
        raise SystemExit(f"{genome} has {len(codes)} bp, fewer than {n} x {L}")
    return codes.reshape(n, L), f"{genome} ({', '.join(str(len(p)) for p in parts)} bp of its longest chromosomes)"


def machine_limits(threads: int) -> dict:
    """float32 adds/s of one core (an L1-resident array summed many times; numba fastmath lets LLVM use SIMD lanes
    and several accumulators), times ``threads``; and streaming read bytes/s on ``threads`` numba threads."""
    import numba

    @numba.njit(fastmath=True)
    def chain(a, reps):
        s = np.float32(0)
        for _ in range(reps):
            for i in range(a.shape[0]):
                s += a[i]
        return s

    @numba.njit(parallel=True, fastmath=True)
    def read(a):
        s = 0.0
        for i in numba.prange(a.shape[0]):
            s += a[i]
        return s

    small = np.ones(4096, dtype=np.float32)  # 16 kB: in L1
    chain(small, 1)
    reps = 20000
    best = np.inf
    for _ in range(5):
        t = time.perf_counter()
        chain(small, reps)
        best = min(best, time.perf_counter() - t)
    per_core = reps * small.size / best
    big = np.ones(2 ** 26, dtype=np.float32)  # 256 MB: from memory
    read(big)
    best = np.inf
    for _ in range(3):
        t = time.perf_counter()
        read(big)
        best = min(best, time.perf_counter() - t)
    return {"float32_adds_per_s_per_core": per_core, "float32_adds_per_s": per_core * threads,
            "read_bytes_per_s": big.nbytes / best, "threads": threads}


def one_thread(f):
    """``f`` run with one numba thread (both libraries parallelise with numba's prange)."""
    import numba

    def run():
        n = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            return f()
        finally:
            numba.set_num_threads(n)
    return run


def fimo_table(frames) -> "dict":
    import pandas as pd

    f = pd.concat([d for d in frames if len(d)], ignore_index=True)
    return {(int(s), int(a), st, m): (sc, p) for s, a, st, m, sc, p in
            zip(f.sequence_name, f.start, f.strand, f.motif_name, f.score, f["p-value"])}


def agreement(ours, theirs: dict) -> dict:
    mine = {(int(s), int(a), st, m): (sc, p) for s, a, st, m, sc, p in
            zip(ours.seq, ours.start, ours.strand, ours.motif_id, ours.score, ours.p_value)}
    same = set(mine) == set(theirs)
    common = sorted(set(mine) & set(theirs))
    ds = max((abs(mine[k][0] - theirs[k][0]) for k in common), default=0.0)
    dp = max((abs(mine[k][1] / theirs[k][1] - 1) for k in common if theirs[k][1] > 0), default=0.0)
    return {"hits_seq2acc": len(mine), "hits_fimo": len(theirs), "same_windows_strands_motifs": same,
            "only_seq2acc": len(set(mine) - set(theirs)), "only_fimo": len(set(theirs) - set(mine)),
            "max_abs_score_diff": float(ds), "max_rel_pvalue_diff": float(dp),
            "fimo_pvalues_0": sum(theirs[k][1] == 0 for k in common),
            "agree": bool(same and ds < 1e-4)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genome", type=Path, default=ROOT / "data/genome/genome.fa",
                    help="genome FASTA to cut the sequences from (random sequence if it does not exist)")
    ap.add_argument("--seqs", type=int, default=1000)
    ap.add_argument("--length", type=int, default=1000)
    ap.add_argument("--pvalue", type=float, default=1e-4)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--with-conv", action="store_true", help="also time the frozen-Conv1D path once (imports TF)")
    ap.add_argument("--no-record", action="store_true", help=f"do not append the row to {RESULTS.name}")
    a = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import memelite
    import numba
    from memelite import fimo

    from seq2acc.interpret.motifs import PWMScanner, fetch_jaspar
    from seq2acc.mlops.lineage import git_commit
    from seq2acc.model.device import cpu_model
    from seq2acc.seq.encoding import onehot_codes

    load_start = uptime()
    limits0 = machine_limits(numba.get_num_threads())
    commit, dirty = git_commit(ROOT)
    motifs = fetch_jaspar(collection="CORE", tax_group=["fungi"], release="JASPAR2024")
    codes, source = sequences(a.genome, a.seqs, a.length)
    x = onehot_codes(codes)  # (n, L, 4) float32
    xt = np.ascontiguousarray(x.transpose(0, 2, 1))  # memelite's (n, 4, L), same values
    work = codes.size * len(motifs)
    fimo_grid = {"pvalue_bin": 0.1, "pvalue_lookup": "score"}
    reused = PWMScanner.from_motifs(motifs, **fimo_grid)
    defaults = PWMScanner.from_motifs(motifs)  # motif_scan's grid and look-up (params.yaml)
    pwms = {m.id: (0.25 * 2.0 ** p - 1e-4).T for m, p in zip(motifs, reused.pwms)}  # fimo: log2(. + eps) - log2(.25)
    impls = {
        "seq2acc PWMScanner.hits, scanner built in the call": lambda: PWMScanner.from_motifs(motifs, **fimo_grid).hits(
            x, a.pvalue),
        "seq2acc PWMScanner.hits, scanner reused": lambda: reused.hits(x, a.pvalue),
        "memelite fimo": lambda: fimo(pwms, xt, threshold=a.pvalue),
        "seq2acc PWMScanner.hits, project defaults (word look-up, 0.001 bit)": lambda: defaults.hits(x, a.pvalue),
        "seq2acc PWMScanner.hits, scanner reused, 1 thread": one_thread(lambda: reused.hits(x, a.pvalue)),
        "memelite fimo, 1 thread": one_thread(lambda: fimo(pwms, xt, threshold=a.pvalue)),
    }
    for name, f in impls.items():  # numba compiles, p-value tables, not timed
        print(f"warm-up: {name}", flush=True)
        f()
    rounds = {k: [] for k in impls}
    outputs = {}
    names = list(impls)
    for r in range(a.rounds):
        order = names if r % 2 == 0 else names[::-1]  # alternate who goes first
        for k in order:
            t = time.perf_counter()
            outputs[k] = impls[k]()
            rounds[k].append(work / (time.perf_counter() - t) / 1e6)
        print(f"round {r + 1}/{a.rounds} (M bp x motif/s): " + "; ".join(
            f"{k.replace('seq2acc PWMScanner.hits, ', '')} {rounds[k][-1]:.0f}" for k in names), flush=True)
    med = {k: float(np.median(v)) for k, v in rounds.items()}
    best = {k: float(np.max(v)) for k, v in rounds.items()}  # the least disturbed round of each
    peer = {k: ("memelite fimo, 1 thread" if k.endswith("1 thread") else "memelite fimo") for k in names}
    paired = {k: float(np.median(np.array(rounds[k]) / np.array(rounds[peer[k]]))) for k in names}  # same round
    base = med["memelite fimo"]
    base1 = med["memelite fimo, 1 thread"]
    theirs = fimo_table(outputs["memelite fimo"])
    agree = {k: agreement(outputs[k], theirs) for k in names[:2]}
    conv = None
    if a.with_conv:
        sc = PWMScanner.from_motifs(motifs, **fimo_grid)
        sc.hits(x[:4], a.pvalue, engine="conv")
        t = time.perf_counter()
        h = sc.hits(x, a.pvalue, engine="conv")
        conv = {"per_s_M": work / (time.perf_counter() - t) / 1e6, "hits": len(h),
                "same_as_numba": bool(h.equals(outputs[names[1]]))}
    threads = numba.get_num_threads()
    limits = {k: max(v, limits0[k]) for k, v in machine_limits(threads).items()}
    widths = np.array([m.width for m in motifs])
    ceiling = limits["float32_adds_per_s"] / (2 * widths.mean()) / 1e6  # every window, both strands, w adds each
    load_end = uptime()
    print(f"\nmachine: {cpu_model()}, {len(os.sched_getaffinity(0))} usable cores, numba {numba.__version__} "
          f"({numba.threading_layer()}, {threads} threads); load at start: {load_start}; at end: {load_end}")
    print(f"inputs: {len(motifs)} JASPAR2024 CORE fungi motifs x {codes.size:,} bp ({a.seqs} x {a.length}) of "
          f"{source}, both strands, p < {a.pvalue:g}; medians of {a.rounds} alternating rounds")
    print(f"{'implementation':<70}{'median':>8}{'best':>7}  {'vs fimo: medians, per round, best':<34}hits")
    for k in names:
        hits = len(outputs[k]) if not k.startswith("memelite") else sum(len(d) for d in outputs[k])
        ratio = f"{med[k] / med[peer[k]]:.2f}x, {paired[k]:.2f}x, {best[k] / best[peer[k]]:.2f}x"
        print(f"{k:<70}{med[k]:>8.0f}{best[k]:>7.0f}  {ratio:<34}{hits}")
    print("(M bp x motif/s; one-thread rows against fimo on one thread)")
    if conv:
        print(f"{'seq2acc PWMScanner.hits, frozen Conv1D (one round)':<70}{conv['per_s_M']:>15.0f}"
              f"{conv['per_s_M'] / base:>8.2f}x  {conv['hits']}")
    for k, v in agree.items():
        print(f"hits vs fimo, {k.replace('seq2acc PWMScanner.hits, ', '')}: {v}")
    print(f"machine limits (best of the start and end of the run): "
          f"{limits['float32_adds_per_s_per_core'] / 1e9:.1f} G float32 adds/s a core (SIMD, in cache; x {threads} "
          f"threads = {limits['float32_adds_per_s'] / 1e9:.1f} G), "
          f"{limits['read_bytes_per_s'] / 1e9:.1f} GB/s streaming read; a scan that scores every window needs 2 x "
          f"{widths.mean():.1f} adds per bp x motif, so the adds alone cap it at {ceiling:,.0f} M bp x motif/s "
          f"(seq2acc reused runs at {med[names[1]] / ceiling:.2f} of that cap, fimo at {base / ceiling:.2f})")
    ok = all(v["agree"] for v in agree.values())
    if not a.no_record:
        row = {"benchmark": "pwm_scan_speed", "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "commit": commit,
               "dirty": dirty,
               "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
                           "platform": platform.platform(), "python": platform.python_version(),
                           "numba": numba.__version__, "numba_threads": threads,
                           "threading_layer": numba.threading_layer(), "memelite": memelite.__version__},
               "load": {"uptime_at_start": load_start, "uptime_at_end": load_end},
               "inputs": {"motifs": len(motifs), "bp": int(codes.size), "seqs": a.seqs, "length": a.length,
                          "source": source, "pvalue": a.pvalue, "both_strands": True},
               "unit": "M bp x motif / s", "per_s_median": med, "per_s_best_round": best,
               "over_fimo": {k: v / (base1 if k.endswith("1 thread") else base) for k, v in med.items()},
               "over_fimo_same_round_median": paired,
               "over_fimo_best_rounds": {k: best[k] / best[peer[k]] for k in names},
               "rounds": rounds,
               "hits": {k: (len(outputs[k]) if not k.startswith("memelite") else sum(len(d) for d in outputs[k]))
                        for k in names},
               "agreement_with_fimo": agree, "conv_one_round": conv,
               "machine_limits": limits | {"mean_motif_width": float(widths.mean()),
                                           "dense_scan_ceiling_M_per_s": ceiling}}
        with open(RESULTS, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(f"row appended to {RESULTS}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
