"""Expected cost of the pipeline on the human genome, from MEASURED throughput (no guessing of speeds).

    .venv/bin/python benchmarks/genome_scale_cost.py [--scoring benchmarks/results/genomewide_scoring.json]
        [--attribution benchmarks/results/attribution_speed.json] [--peaks 50000] [--bins-per-peak 4]
        [--workers 10] [--out benchmarks/results/genome_scale_cost.json]

Inputs are the results files of ``benchmarks/genomewide_scoring.py`` (genome-wide scoring windows/s per model
and scorer) and ``benchmarks/attribution_speed.py`` (DeepSHAP sequences/s), measured on this project's machine;
re-run those on your hardware (GPU, cluster node) and this script gives your numbers.

Human genome: GRCh38 primary chromosomes (chr1-22, X, Y; 3.09 Gbp). Windows on the 50 bp grid: size / stride
(assembly gaps - about 5% of the bases, N runs - are dropped by ``dataset.max_n_fraction``; not subtracted, so
the estimate is an upper bound). Scoring cost x2 with ``evaluate.rc_average: true`` (both strands; default).
Every window is scored exactly once over the cross-validation (each chromosome is a test chromosome of one
fold), so the genome-wide cost is the same with 1 or 10 folds; sharded per fold (``evaluate@K``) or per
chromosome, W workers divide the wall time by ~W (the longest shard - chr1, 8% of the genome - is the floor).
Attribution: every positive bin of the test chromosomes (``attribute.regions: null``), DeepSHAP with
``attribute.n_refs`` references, plus ``null_shuffles`` shuffled copies (x(1 + null_shuffles)).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# GRCh38 primary assembly chromosome lengths (UCSC hg38 chrom.sizes).
HG38 = {
    "chr1": 248956422, "chr2": 242193529, "chr3": 198295559, "chr4": 190214555, "chr5": 181538259,
    "chr6": 170805979, "chr7": 159345973, "chr8": 145138636, "chr9": 138394717, "chr10": 133797422,
    "chr11": 135086622, "chr12": 133275309, "chr13": 114364328, "chr14": 107043718, "chr15": 101991189,
    "chr16": 90338345, "chr17": 83257441, "chr18": 80373285, "chr19": 58617616, "chr20": 64444167,
    "chr21": 46709983, "chr22": 50818468, "chrX": 156040895, "chrY": 57227415,
}


def greedy_folds(sizes: dict[str, int], n: int) -> list[list[str]]:
    """Protocol note 13 (largest first into the currently smallest bucket) - as seq2acc.data.folds, by bp."""
    order = sorted(sizes, key=sizes.get, reverse=True)
    buckets = [[c] for c in order[:n]]
    for c in order[n:]:
        i = min(range(n), key=lambda j: sum(sizes[x] for x in buckets[j]))
        buckets[i].append(c)
    return buckets


def hours(windows: float, per_s: float) -> float:
    return windows / per_s / 3600.0


def estimate(scoring: dict, attribution: dict | None, stride: int = 50, rc: bool = True, peaks: int = 50000,
             bins_per_peak: float = 4, n_refs: int = 20, null_shuffles: int = 1, workers: int = 10,
             n_folds: int = 10) -> dict:
    total_bp = sum(HG38.values())
    windows = {c: n // stride for c, n in HG38.items()}
    n_windows = sum(windows.values())
    folds = greedy_folds(HG38, n_folds)
    fold_windows = [sum(windows[c] for c in b) for b in folds]
    rc_factor = 2 if rc else 1
    out = {"genome": "GRCh38 chr1-22,X,Y", "bp": total_bp, "stride": stride, "windows": n_windows,
           "rc_average": rc, "folds": n_folds, "largest_fold_windows": max(fold_windows),
           "largest_chromosome_windows": max(windows.values()), "workers": workers, "machine": scoring.get("machine"),
           "scoring": [], "attribution": []}
    for r in scoring.get("results", []):
        for scorer in ("shared_trunk", "window"):
            s = r.get(scorer) or {}
            if not s.get("windows_per_s"):
                continue
            wps = s["windows_per_s"] / rc_factor
            one = hours(n_windows, wps)
            shard_floor = hours(max(windows.values()), wps)
            out["scoring"].append({
                "model": r["model"], "scorer": scorer, "measured_windows_per_s": round(s["windows_per_s"], 1),
                "effective_windows_per_s": round(wps, 1), "cpu_hours_total": round(one, 2),
                "wall_hours_1_worker": round(one, 2),
                "wall_hours_per_fold_shards": round(max(hours(fw, wps) for fw in fold_windows) if workers >= n_folds
                                                    else one / workers, 2),
                "wall_hours_per_chromosome_shards": round(max(one / workers, shard_floor), 2),
            })
    n_seq = peaks * bins_per_peak
    for r in (attribution or {}).get("results", []):
        if r.get("unit") != "sequences/s" or "deepshap" not in r.get("what", ""):
            continue
        per_s = r["per_s"] * (r.get("n_refs", n_refs) / n_refs)  # rescale to the configured references
        h = hours(n_seq * (1 + null_shuffles), per_s)
        out["attribution"].append({"what": r["what"], "impl": r["impl"], "measured_sequences_per_s": round(r["per_s"], 2),
                                   "sequences": int(n_seq), "cpu_hours_total": round(h, 1),
                                   "wall_hours_with_workers": round(h / workers, 1)})
    return out


def markdown(res: dict) -> str:
    lines = [f"Human genome ({res['genome']}, {res['bp'] / 1e9:.2f} Gbp): {res['windows'] / 1e6:.1f} M windows at "
             f"{res['stride']} bp stride, scored {'on both strands' if res['rc_average'] else 'once'}; "
             f"{res['workers']} workers.", "",
             "| model | scorer | measured windows/s | 1 worker (h) | per-fold shards (h) | per-chromosome shards (h) |",
             "|---|---|---|---|---|---|"]
    for s in res["scoring"]:
        lines.append(f"| {s['model']} | {s['scorer']} | {s['measured_windows_per_s']:,.0f} | {s['wall_hours_1_worker']:,.1f} "
                     f"| {s['wall_hours_per_fold_shards']:,.1f} | {s['wall_hours_per_chromosome_shards']:,.1f} |")
    if res["attribution"]:
        lines += ["", "| attribution | measured sequences/s | sequences | CPU hours | wall hours |", "|---|---|---|---|---|"]
        for a in res["attribution"]:
            lines.append(f"| {a['what']} ({a['impl']}) | {a['measured_sequences_per_s']} | {a['sequences']:,} | "
                         f"{a['cpu_hours_total']:,.0f} | {a['wall_hours_with_workers']:,.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scoring", default=str(ROOT / "benchmarks/results/genomewide_scoring.json"))
    ap.add_argument("--attribution", default=str(ROOT / "benchmarks/results/attribution_speed.json"))
    ap.add_argument("--peaks", type=int, default=50000, help="target peaks genome-wide (e.g. an ATAC-seq set)")
    ap.add_argument("--bins-per-peak", type=float, default=4, help="positive 200 bp bins per peak on the 50 bp grid")
    ap.add_argument("--workers", type=int, default=10, help="parallel queue workers / cluster jobs")
    ap.add_argument("--no-rc", action="store_true", help="evaluate.rc_average: false")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/genome_scale_cost.json"))
    a = ap.parse_args(argv)
    scoring = json.loads(Path(a.scoring).read_text())
    attribution = json.loads(Path(a.attribution).read_text()) if Path(a.attribution).exists() else None
    res = estimate(scoring, attribution, rc=not a.no_rc, peaks=a.peaks, bins_per_peak=a.bins_per_peak,
                   workers=a.workers)
    res["markdown"] = markdown(res)
    Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    print(res["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
