"""Human-readable summary of what the pipeline produced (printed at the end of `make demo`)."""

from __future__ import annotations

import json
from pathlib import Path

from seq2acc.config import Params


def _load(path):
    p = Path(path)
    return json.loads(p.read_text()) if p.exists() else None


def print_report(params_path="params.yaml") -> None:
    p = Params.load(params_path)
    folds = _load(p.get("folds.metrics", str))
    if folds:
        print("== folds (buckets)")
        for k, m in folds.items():
            print(f"  {k:9s} chroms={m['chromosomes']:2d} examples={m['examples']:7d} positives={m['positives']:6d} "
                  f"genome-wide bins={m['genomewide_bins']}")
    val = _load(p.get("validate.report", str))
    if val:
        print(f"== data checks: {'PASSED' if val.get('success') else 'FAILED'} "
              f"({val.get('n_passed')}/{val.get('n_checks')} checks)")
    _print_training(p)
    _print_evaluation(p)
    _print_interpretation2(p)


def _print_training(p: Params) -> None:
    """Per-fold validation loss, registered versions and the champion (written by the promote stage)."""
    tr = _load(p.get("promote.out", str))
    if not tr:
        return
    print(f"== training: registered model {tr['registered_model_name']} (criterion for champion: {tr['criterion']})")
    for k, f in tr["folds"].items():
        extra = f" genome-wide AUPRC={f['genomewide_auprc']:.4f}" if f.get("genomewide_auprc") is not None else ""
        star = ("  <- best_fold" if f["version"] == tr.get("best_fold_version")
                else "  <- champion" if f["version"] == tr["champion_version"] else "")
        print(f"  {k:7s} val_loss={f['val_loss']:.4f}{extra} version={f['version']}{star}")
    if tr.get("ensemble"):
        print(f"  mean val_loss={tr['mean_val_loss']:.4f}; {tr['decision']}; champion = fold ensemble version "
              f"{tr['champion_version']} (folds {tr['ensemble']['folds']}): mlflow.pyfunc.load_model("
              f"'{tr['champion_uri']}'); best fold: mlflow.keras.load_model('{tr['best_fold_uri']}')")
    else:
        print(f"  mean val_loss={tr['mean_val_loss']:.4f}; {tr['decision']}; load it with "
              f"mlflow.keras.load_model('{tr['champion_uri']}')")


def _print_evaluation(p: Params) -> None:
    """Cross-validation summary of the genome-wide evaluation (written by the cv_summary stage)."""
    md = Path(p.get("evaluate.metrics_dir", str)) / "summary.md"
    if md.exists():
        print("== genome-wide evaluation (cv_summary: metrics/summary.md)")
        print(md.read_text().rstrip())


def _print_interpretation2(p: Params) -> None:
    """TF-MoDISco patterns, motif interactions and variant effects (docs/interpretation2.md)."""
    from seq2acc.pipeline import combinatorial
    from seq2acc.pipeline import modisco
    from seq2acc.pipeline import variants

    for mod in (modisco, combinatorial, variants):
        try:
            lines = mod.report_lines(p)
        except Exception as e:  # noqa: BLE001 - a damaged table must not hide the rest of the report
            lines = [f"== {mod.__name__.rsplit('.', 1)[-1]}: cannot read its outputs ({e})"]
        if lines:
            print("\n".join(lines))
