"""`seq2acc explain` on real peaks: speed, memory, and whether the significant windows are the target's motif.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/explain_regions.py [--project DIR] [--model fold0] [--fold 0] \
        [--n-regions 20] [--every 5] [--core TACCC] [--out benchmarks/results/explain.jsonl]

In ``--project`` (a trained project: params.yaml, models/, data/; default this checkout), takes every
``--every``-th target peak (``peaks.out_dir``/target.bed) on fold ``--fold``'s test chromosomes (so ``fold<K>``
never saw them), up to ``--n-regions``, and runs :func:`seq2acc.explain` exactly as ``seq2acc explain --regions``
does (settings: the project's ``attribute`` section) into a temporary directory. Records wall seconds, windows/s
and peak RSS, the fraction of windows with a significant region, and the fraction of significant regions
(+-2 bp) that contain the motif core ``--core`` or its reverse complement next to the same fraction for random
intervals of the same sizes in the same windows (20 per region, seeded). One JSON row is printed and appended to
``--out`` with the machine, its load and the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _rc(s: str) -> str:
    return s[::-1].translate(str.maketrans("ACGT", "TGCA"))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", default=str(ROOT))
    ap.add_argument("--model", default="fold0")
    ap.add_argument("--fold", type=int, default=0, help="regions from this fold's test chromosomes")
    ap.add_argument("--n-regions", type=int, default=20)
    ap.add_argument("--every", type=int, default=5, help="every N-th target peak")
    ap.add_argument("--core", default="TACCC", help="motif core (REB1: TACCC)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "explain.jsonl"))
    a = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    out_path = Path(a.out).resolve()
    os.chdir(a.project)

    import seq2acc
    from seq2acc.config import Params, layout
    from seq2acc.data.folds import get_fold
    from seq2acc.io.bed import read_intervals
    from seq2acc.io.fasta import Genome
    from seq2acc.mlops.machine import machine_info

    p = Params.load("params.yaml")
    lay = layout(p)
    genome = Genome(lay.genome)
    test = get_fold(lay.folds, a.fold)["test"]
    peaks = read_intervals(lay.peaks / "target.bed", genome.sizes, what="target peaks").df
    peaks = peaks[peaks.chrom.isin(test)].iloc[::a.every].head(a.n_regions).reset_index(drop=True)
    info = machine_info()
    with tempfile.TemporaryDirectory() as tmp:
        bed = Path(tmp) / "regions.bed"
        peaks[["chrom", "start", "end"]].to_csv(bed, sep="\t", header=False, index=False)
        t0 = time.perf_counter()
        e = seq2acc.explain(str(bed), a.model, params=p, out=Path(tmp) / "out", kind="regions")
        seconds = time.perf_counter() - t0
    pat = re.compile(f"{a.core}|{_rc(a.core)}")

    def has_core(c, s, t):
        return bool(pat.search("".join("ACGTN"[x] for x in genome.codes(c)[max(s, 0):t])))

    bed = e.significant_bed()
    sig = [has_core(r.chrom, r.start - 2, r.end + 2) for r in bed.itertuples()]
    rng = np.random.default_rng(0)
    ctrl = []
    for r in bed.itertuples():
        w = e.regions.iloc[int(r.seq)]
        size = int(r.end - r.start) + 4
        for s in rng.integers(w.start, w.end - size, 20):
            ctrl.append(has_core(r.chrom, int(s), int(s) + size))
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    row = {"benchmark": "explain_regions", "project": str(Path(a.project).resolve()), "target": p.get("peaks.target"),
           "model": a.model, "fold_test": test, "n_windows": len(e.regions), "method": e.attrs["method"],
           "n_refs": e.attrs["n_refs"], "null_shuffles": e.attrs["null_shuffles"], "seconds": round(seconds, 1),
           "windows_per_s": round(len(e.regions) / seconds, 3),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "fraction_windows_significant": float((e.summary().significant_regions > 0).mean()),
           "significant_regions": len(bed), "core": a.core,
           "fraction_significant_with_core": float(np.mean(sig)) if sig else None,
           "fraction_random_same_size_with_core": float(np.mean(ctrl)) if ctrl else None,
           "commit": commit, "machine": info, "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(row))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(out_path, "a") as fh:
        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
