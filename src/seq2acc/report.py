"""Human-readable summary of what the pipeline produced (printed at the end of `make demo`)."""

from __future__ import annotations

import json
from pathlib import Path

from .params import Params


def _load(path):
    p = Path(path)
    return json.loads(p.read_text()) if p.exists() else None


def print_report(params_path="params.yaml") -> None:
    p = Params.load(params_path)
    folds = _load(p.get("folds.metrics", str, "data/folds_metrics.json"))
    if folds:
        print("== folds (buckets)")
        for k, m in folds.items():
            print(f"  {k:9s} chroms={m['chromosomes']:2d} examples={m['examples']:7d} positives={m['positives']:6d} "
                  f"genome-wide bins={m['genomewide_bins']}")
    val = _load(p.get("validate.report", str, "data/validation/summary.json"))
    if val:
        print(f"== data checks: {'PASSED' if val.get('success') else 'FAILED'} "
              f"({val.get('n_passed')}/{val.get('n_checks')} checks)")
    _print_evaluation(p)


def _print_evaluation(p: Params) -> None:
    """Cross-validation summary of the genome-wide evaluation (written by the cv_summary stage)."""
    md = Path(p.get("evaluate.metrics_dir", str, "metrics")) / "summary.md"
    if md.exists():
        print("== genome-wide evaluation (cv_summary: metrics/summary.md)")
        print(md.read_text().rstrip())
