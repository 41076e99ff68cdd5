"""DVC stage ``modisco@K`` (and, with the same code on the ensemble set, ``modisco_ensemble``) (protocol 3.4 step 3): TF-MoDISco on contribution scores.

Input: the ``attribute`` stages' HDF5 (``attribution/folds/fold<K>/contrib.h5`` or ``attribution/ensemble/
contrib.h5``: one-hot + hypothetical contributions). Output directory ``modisco/folds/fold<K>/`` or
``modisco/ensemble/``:

- ``modisco.h5``: modisco's results (``modisco report``/``modisco meme`` read it as is);
- ``jaspar.meme``: the JASPAR motifs (pyjaspar, ``modisco.jaspar_*`` params) patterns are matched against;
- ``patterns.tsv``: one row per pattern: sign, seqlet count, trimmed width, consensus, best JASPAR match with
  TOMTOM p- and q-value (and the next ``modisco.top_matches - 1``); ``patterns.png``: their trimmed CWM logos;
- ``report/report.html``: modisco's descriptive HTML report (logos, seqlet examples, TOMTOM matches);
- ``summary.json`` (DVC metrics): pattern counts and the top pattern's best match.

Per-fold results are logged to the fold's MLflow run; the ensemble's to the cross-validation (parent) run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.io.atomic import atomic_path, write_json
from seq2acc.errors import InputError
from seq2acc.interpret.modisco import (limit_numba_threads, pattern_table, plot_pattern_logos, run_modisco, write_meme,
                           write_report)
from seq2acc.config import Params
from seq2acc.artifacts import fold_model
from seq2acc.artifacts.tables import read_table, write_tsv
from seq2acc.config import layout
from seq2acc.mlops import tracking

log = logging.getLogger(__name__)


@dataclass
class ModiscoConfig:
    window: int
    max_seqlets: int
    sliding_window_size: int
    flank_size: int
    trim_to_window_size: int
    initial_flank_to_add: int
    final_flank_to_add: int
    target_seqlet_fdr: float
    n_leiden_runs: int
    min_metacluster_size: int
    final_min_cluster_size: int
    trim_threshold: float
    top_matches: int
    report_examples: int
    jaspar_release: str
    collection: str | None
    tax_group: list | None
    match_q: float
    out_dir: Path

    def modisco_kwargs(self) -> dict:
        return {k: getattr(self, k) for k in (
            "window", "max_seqlets", "sliding_window_size", "flank_size", "trim_to_window_size",
            "initial_flank_to_add", "final_flank_to_add", "target_seqlet_fdr", "n_leiden_runs",
            "min_metacluster_size", "final_min_cluster_size")}


def modisco_config(p: Params) -> ModiscoConfig:
    g = p.get
    tax = p.raw("modisco.tax_group")
    return ModiscoConfig(
        window=g("modisco.window", int, ge=10),
        max_seqlets=g("modisco.max_seqlets", int, ge=10),
        sliding_window_size=g("modisco.sliding_window_size", int, ge=4),
        flank_size=g("modisco.flank_size", int, ge=0),
        trim_to_window_size=g("modisco.trim_to_window_size", int, ge=4),
        initial_flank_to_add=g("modisco.initial_flank_to_add", int, ge=0),
        final_flank_to_add=g("modisco.final_flank_to_add", int, ge=0),
        target_seqlet_fdr=g("modisco.target_seqlet_fdr", float, gt=0, lt=1),
        n_leiden_runs=g("modisco.n_leiden_runs", int, ge=1),
        min_metacluster_size=g("modisco.min_metacluster_size", int, ge=1),
        final_min_cluster_size=g("modisco.final_min_cluster_size", int, ge=1),
        trim_threshold=g("modisco.trim_threshold", float, gt=0, lt=1),
        top_matches=g("modisco.top_matches", int, ge=1),
        report_examples=g("modisco.report_examples", int, ge=1),
        jaspar_release=g("modisco.jaspar_release", str),
        collection=g("modisco.collection", str, allow_none=True),
        tax_group=[tax] if isinstance(tax, str) else tax,
        match_q=g("modisco.match_q", float, gt=0, le=1),
        out_dir=Path(g("modisco.out_dir", str)),
    )


def input_path(p: Params, k: int | None) -> Path:
    root = layout(p).attribution
    return root / ("ensemble" if k is None else f"folds/fold{k}") / "contrib.h5"


def output_dir(p: Params, k: int | None) -> Path:
    return modisco_config(p).out_dir / ("ensemble" if k is None else f"folds/fold{k}")


def read_modisco_input(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(one-hot, hypothetical contributions) from an attribution HDF5 (``input_seqs``, ``hyp_scores``)."""
    import h5py

    if not path.exists():
        raise InputError(path, "attribution file missing", "run `dvc repro attribute` (and attribute_ensemble)")
    with h5py.File(path, "r") as f:
        for key in ("input_seqs", "hyp_scores"):
            if key not in f:
                raise InputError(path, f"no '{key}' dataset: not an attribution file", "re-run `dvc repro attribute`")
        return f["input_seqs"][:].astype(np.float32), f["hyp_scores"][:].astype(np.float32)


def match_labels(table: pd.DataFrame, q: float = 0.05) -> dict[str, str]:
    """Short motif label per pattern: its best JASPAR match name when q < ``q`` (made unique with the pattern
    index when two patterns match the same motif), else 'pos_<i>' / 'neg_<i>'."""
    labels, used = {}, {}
    for r in table.itertuples(index=False):
        sign, idx = ("pos", "neg")[r.sign == "-"], r.pattern.rsplit("_", 1)[-1]
        name = getattr(r, "match0_name", None)
        good = isinstance(name, str) and name and np.isfinite(r.q_value) and r.q_value < q
        lab = str(name) if good else f"{sign}_{idx}"
        if good and lab in used:
            lab = f"{lab}_{sign}{idx}"
        used[lab] = True
        labels[r.pattern] = lab
    return labels


def run_set(p: Params, k: int | None) -> Path:
    """Stage body: TF-MoDISco on fold ``k``'s attribution set (``None`` = the ensemble)."""
    from seq2acc.interpret.motifs import fetch_jaspar

    cfg = modisco_config(p)
    limit_numba_threads()
    t0 = time.perf_counter()
    src = input_path(p, k)
    x, hyp = read_modisco_input(src)
    out = output_dir(p, k)
    out.mkdir(parents=True, exist_ok=True)
    if x.shape[1] < cfg.window:
        log.warning("%s: sequences are %d bp, shorter than modisco.window=%d: using all of them", src, x.shape[1],
                    cfg.window)
        cfg.window = int(x.shape[1])
    kw = cfg.modisco_kwargs()
    summary = run_modisco(x, hyp, out / "modisco.h5", **kw)
    meme = write_meme(out / "jaspar.meme", fetch_jaspar(collection=cfg.collection, tax_group=cfg.tax_group,
                                                        release=cfg.jaspar_release))
    table = pattern_table(out / "modisco.h5", meme, cfg.trim_threshold, cfg.top_matches)
    table.insert(1, "label", table.pattern.map(match_labels(table, cfg.match_q)) if len(table) else [])
    what = "ensemble" if k is None else f"fold {k}"
    write_tsv(table, out / "patterns.tsv", f"TF-MoDISco patterns of {src} ({what}); TOMTOM (memelite) vs "
              f"{meme.name} ({cfg.jaspar_release} {cfg.collection} {cfg.tax_group}), q = BH over the database")
    if len(table):
        plot_pattern_logos(out / "patterns.png", out / "modisco.h5", table, trim_threshold=cfg.trim_threshold)
        with atomic_path(out / "report") as tmp:
            write_report(out / "modisco.h5", tmp, meme, cfg.top_matches, cfg.trim_threshold, cfg.report_examples)
    else:
        _empty_outputs(out, src, summary, cfg)
    pos = table[table.sign == "+"] if len(table) else table
    top = pos.iloc[0] if len(pos) else None
    summary.update({
        "set": "ensemble" if k is None else f"fold{k}", "input": str(src), "n_patterns": int(len(table)),
        "top_pattern": None if top is None else top.pattern,
        "top_pattern_seqlets": None if top is None else int(top.n_seqlets),
        "top_pattern_match": None if top is None else top.best_match,
        "top_pattern_q": None if top is None else float(top.q_value),
        "patterns_matched": int((table.q_value < cfg.match_q).sum()) if len(table) else 0,
        "seconds": round(time.perf_counter() - t0, 1), "params": {k2: v for k2, v in kw.items()}})
    write_json(out / "summary.json", summary)
    log.info("%s: %d pattern(s); top: %s (%s seqlets) best JASPAR match %s q=%s", what, summary["n_patterns"],
             summary["top_pattern"], summary["top_pattern_seqlets"], summary["top_pattern_match"],
             summary["top_pattern_q"])
    metrics = {"modisco.n_patterns": summary["n_patterns"], "modisco.patterns_matched": summary["patterns_matched"]}
    if top is not None:
        metrics.update({"modisco.top_pattern_seqlets": summary["top_pattern_seqlets"],
                        "modisco.top_pattern_q": summary["top_pattern_q"]})
    artifacts = [out / "patterns.tsv", out / "patterns.png", out / "summary.json", out / "report" / "report.html"]
    tags = {"modisco.top_match": summary["top_pattern_match"] or "none"}
    tracking.log_to_run(fold_model.run_id(layout(p).models, p.get("train.folds", list) if k is None else k,
                                             parent=k is None), metrics, tags, artifacts, "modisco" if k is not None else "modisco_ensemble")
    return out


def _empty_outputs(out: Path, src: Path, summary: dict, cfg: ModiscoConfig) -> None:
    """No pattern: still write every declared output (DVC needs them) with an explanation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    msg = (f"TF-MoDISco found no pattern in {summary['n_sequences']} sequences of {src}: too few seqlets "
           f"(each sign needs more than modisco.min_metacluster_size={cfg.min_metacluster_size}). Use more "
           "sequences (attribute.regions / the ensemble) or lower modisco.min_metacluster_size.")
    log.warning(msg)
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, "no TF-MoDISco pattern (see summary.json)", ha="center", va="center")
    fig.savefig(out / "patterns.png", dpi=80)
    plt.close(fig)
    rep = out / "report"
    with atomic_path(rep) as tmp:
        tmp.mkdir()
        (tmp / "report.html").write_text(f"<html><body><h1>TF-MoDISco</h1><p>{msg}</p></body></html>\n")


def modisco_fold(p: Params, k: int) -> Path:
    """Stage body of ``modisco@K``."""
    return run_set(p, k)


def report_lines(p: Params, top: int = 8) -> list[str]:
    """Lines for ``seq2acc report``: the ensemble's TF-MoDISco patterns (seqlets, best JASPAR match, q)."""
    out = output_dir(p, None)
    if not (out / "patterns.tsv").exists():
        return []
    t = read_table(out / "patterns.tsv")
    lines = [f"== TF-MoDISco patterns of the fold ensemble ({out}/report/report.html)"]
    if t.empty:
        return lines + ["  no pattern (see summary.json)"]
    lines.append(f"  {'pattern':24s} {'label':14s} {'seqlets':>7s}  {'consensus':22s} best JASPAR match (TOMTOM q)")
    for r in t.head(top).itertuples(index=False):
        q = f"{r.q_value:.2g}" if pd.notna(r.q_value) else "-"
        lines.append(f"  {r.pattern:24s} {str(r.label):14s} {int(r.n_seqlets):7d}  {str(r.consensus)[:22]:22s} "
                     f"{r.best_match} (q={q})")
    return lines
