"""The cross-validation at a glance (protocol 3.3): per-fold rows, mean and sd over folds, and metrics POOLED over
every held-out bin (each chromosome is a test chromosome exactly once), for the CNN next to the baselines; as a
dict, a markdown table, a plot and a recall-grid table. Input: a list of scored folds (``read_scores`` results).

Per-fold numbers use each fold's raw scores (AUPRC/AUROC do not change under a fold's monotone calibration). Pooled
numbers, the pooled curves and the recall-grid table use the CALIBRATED scores of every fold (each fold's
``info["calibration"]``, :func:`seq2acc.evaluate.fold.calibrated`): fold models' logits live on different scales,
and ranking them together without calibration understates the genome-wide AUPRC. The pooled metrics of the raw
scores are reported next to them (``pooled_uncalibrated``) so the effect of calibration is visible.

Several tasks (docs/multitask.md): the summary's own keys are the first task's (what one-task projects read), and
``tasks`` holds the same summary per task; ``task_table`` is the task x fold table of genome-wide CNN AUPRC with the
mean, sd and pooled AUPRC per task next to the pooled baselines'.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.errors import Seq2AccError
from seq2acc.evaluate.fold import calibrated, fold_metrics, is_logit, per_task, score_names
from seq2acc.evaluate.metrics import binary_metrics, interpolated_precision
from seq2acc.io.atomic import atomic_path


def labels(scored: list[dict]) -> dict[str, str]:
    """Short display name of every score column ('CNN', 'PWM 400 bp', '6-mer LR', ...)."""
    out = {"cnn": "CNN"}
    for s in scored:
        for name, d in s["info"].get("baselines", {}).items():
            out.setdefault(name, d.get("short", name))
    return out


def _pooled_table(scored: list[dict]) -> pd.DataFrame:
    return pd.concat([d for s in scored for d in s["genomewide"].values()], ignore_index=True)


def _row(k: int, m: dict, info: dict) -> dict:
    g = m["genomewide"]
    row = {"fold": k, "test": ",".join(info["test"]), "n_bins": g["n_bins"], "positive_rate": g["positive_rate"],
           "cnn_auprc": g["auprc"], "cnn_auroc": g["auroc"], "cnn_loss": g["loss"],
           "cnn_loss_calibrated": m.get("calibration", {}).get("cnn", {}).get("test_loss_after"),
           "cnn_sampled_auprc": m["sampled"]["auprc"]}
    for name in ("flank", "random", "elsewhere"):
        row[f"cnn_auprc_vs_{name}"] = m["by_negative_type"][name]["auprc"]
    for name, b in m["baselines"].items():
        row[f"{name}_auprc"] = b["genomewide"]["auprc"]
        row[f"{name}_auroc"] = b["genomewide"]["auroc"]
    return row


def summarize(scored: list[dict]) -> dict:
    """Per-fold rows, mean/std over folds and pooled metrics of a list of :func:`read_scores` results (of the first
    task); with several tasks also ``task_names``, ``tasks`` (the same per task) and ``task_table``."""
    out = _summarize_task(scored)
    tasks = [per_task(s) for s in scored]
    names = list(tasks[0])
    if len(names) == 1:
        return out
    for s, pt in zip(scored, tasks):
        if list(pt) != names:
            raise Seq2AccError(f"fold {s['fold']} was evaluated for the tasks {list(pt)}, fold {scored[0]['fold']} for "
                               f"{names}; fix: re-run `dvc repro evaluate` so every fold has the same tasks")
    per = {t: out if i == 0 else _summarize_task([pt[t] for pt in tasks]) for i, t in enumerate(names)}
    out = dict(out)
    out["task_names"] = names
    out["tasks"] = {t: {k: v for k, v in sm.items() if not k.startswith("_") and k not in ("tasks", "task_names")}
                    for t, sm in per.items()}
    out["task_table"] = {t: _task_row(sm) for t, sm in per.items()}
    out["_labels"] = {**{k: v for sm in per.values() for k, v in sm["_labels"].items()}, **out["_labels"]}
    return out


def _task_row(sm: dict) -> dict:
    """One task's row of the task x fold table: CNN genome-wide AUPRC per fold, mean, sd, pooled (calibrated), the
    pooled positive rate, and each baseline's pooled AUPRC and the CNN's ratio to it."""
    p = sm["pooled"]
    row = {"folds": {f: v["cnn_auprc"] for f, v in sm["folds"].items()}, "mean": sm["mean"].get("cnn_auprc"),
           "sd": sm["std"].get("cnn_auprc"), "pooled": p["cnn"]["auprc"], "pooled_auroc": p["cnn"]["auroc"],
           "positive_rate": p["cnn"]["positive_rate"]}
    for name in sm["baselines"]:
        row[f"{name}_pooled"] = p[name]["auprc"]
        row[f"cnn_over_{name}"] = p.get(f"cnn_over_{name}_auprc")
    return row


def _summarize_task(scored: list[dict]) -> dict:
    """:func:`summarize` of one task (the scored folds of that task)."""
    if not scored:
        raise Seq2AccError("no evaluated fold to summarise; fix: list folds in train.folds and run `dvc repro evaluate`")
    seen: dict[str, int] = {}
    for s in scored:
        for c in s["genomewide"]:
            if c in seen:
                raise Seq2AccError(f"chromosome {c} is a test chromosome of folds {seen[c]} and {s['fold']}; pooled "
                                   "metrics need each chromosome once; fix: rebuild folds (`dvc repro folds`)")
            seen[c] = s["fold"]
    rows = [_row(s["fold"], fold_metrics(s), s["info"]) for s in scored]
    table = pd.DataFrame(rows)
    num = table.drop(columns=["fold", "test"]).apply(pd.to_numeric, errors="coerce")
    cal = [calibrated(s) for s in scored]
    gw = _pooled_table(cal)
    sm = pd.concat([s["sampled"] for s in cal], ignore_index=True)
    y = gw.label.to_numpy()
    names = score_names(gw)
    pooled = {name: binary_metrics(y, gw[name].to_numpy(), is_logit=is_logit(name)) for name in names}
    pooled["cnn_sampled"] = binary_metrics(sm.label.to_numpy(), sm.cnn.to_numpy())
    for name in names[1:]:
        if pooled[name]["auprc"] and pooled["cnn"]["auprc"] is not None:
            pooled[f"cnn_over_{name}_auprc"] = pooled["cnn"]["auprc"] / pooled[name]["auprc"]
    raw = _pooled_table(scored)
    has_cal = {n for s in scored for n in (s["info"].get("calibration") or {})}
    cal_names = [n for n in names if n in has_cal]
    uncal = {name: binary_metrics(y, raw[name].to_numpy(), is_logit=is_logit(name)) for name in cal_names}
    return {
        "n_folds": len(scored),
        "n_chromosomes": len(seen),
        "baselines": names[1:],
        "pooled": pooled,
        "pooled_uncalibrated": uncal,
        "calibration": {f"fold{s['fold']}": s["info"].get("calibration") for s in scored},
        "mean": {c: _num(num[c].mean()) for c in num.columns if c != "n_bins"},
        "std": {c: _num(num[c].std(ddof=1)) if len(num) > 1 else None for c in num.columns if c != "n_bins"},
        "folds": {f"fold{r['fold']}": {k: v for k, v in r.items() if k not in ("fold", "test")} for r in rows},
        "_table": table,
        "_labels": labels(scored),
    }


def _num(x):
    return None if x is None or not np.isfinite(x) else float(x)


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _fmt(x, digits=3) -> str:
    return "–" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{digits}f}"


def markdown(summary: dict, motif: str = "") -> str:
    t = summary["_table"]
    lab = summary["_labels"]
    has = [n for n in summary["baselines"] if f"{n}_auprc" in t.columns]
    head = ["fold", "test chromosomes", "bins", "positive rate", "CNN AUPRC", "CNN AUROC", "CNN loss",
            "sampled AUPRC"] + [f"{lab.get(n, n)} AUPRC" for n in has]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in t.iterrows():
        cells = [str(r.fold), r.test, f"{int(r.n_bins)}", _fmt(r.positive_rate, 4), _fmt(r.cnn_auprc), _fmt(r.cnn_auroc),
                 _fmt(r.cnn_loss), _fmt(r.cnn_sampled_auprc)] + [_fmt(r[f"{n}_auprc"]) for n in has]
        lines.append("| " + " | ".join(cells) + " |")
    m, s = summary["mean"], summary["std"]

    def ms(key, d=3):
        return f"{_fmt(m.get(key), d)} ± {_fmt(s.get(key), d)}"

    lines.append("| **mean ± sd** | | | " + " | ".join([ms("positive_rate", 4), ms("cnn_auprc"), ms("cnn_auroc"),
                                                      ms("cnn_loss"), ms("cnn_sampled_auprc")]
                                                     + [ms(f"{n}_auprc") for n in has]) + " |")
    p = summary["pooled"]
    lines.append("| **pooled** | all held-out bins | " + " | ".join(
        [f"{p['cnn']['n_bins']}", _fmt(p["cnn"]["positive_rate"], 4), _fmt(p["cnn"]["auprc"]), _fmt(p["cnn"]["auroc"]),
         _fmt(p["cnn"]["loss"]), _fmt(p["cnn_sampled"]["auprc"])] + [_fmt(p[n]["auprc"]) for n in has]) + " |")
    out = ["## Cross-validation: genome-wide evaluation", "",
           f"{_n(summary['n_folds'], 'fold')}, {_n(summary['n_chromosomes'], 'test chromosome')}; every bin of each held-out "
           "chromosome scored by the model that never saw it. AUPRC is the primary metric; the positive rate is the "
           "AUPRC of a random model. 'sampled AUPRC' is the same CNN on the sampled test examples (positives + "
           "informative negatives, ~1:1): the inflated view genome-wide evaluation avoids.", "", *lines, ""]
    ratios = [f"CNN / {lab.get(n, n)} pooled AUPRC = {_fmt(p.get(f'cnn_over_{n}_auprc'), 2)}x" for n in has]
    if ratios:
        out += ["; ".join(ratios) + (f" (PWM: {motif})" if motif else ""), ""]
    u = summary.get("pooled_uncalibrated") or {}
    if u:
        methods = sorted({c["method"] for cal in summary.get("calibration", {}).values() for c in (cal or {}).values()})
        missing = [f for f, cal in summary.get("calibration", {}).items() if not cal]
        out += [f"Calibration ({', '.join(methods)}; fitted per fold on its validation chromosomes' genome-wide bins): "
                "pooled rows use calibrated scores. Pooled AUPRC without calibration: "
                + ", ".join(f"{lab.get(n, n)} {_fmt(u[n]['auprc'])} (calibrated {_fmt(p[n]['auprc'])})" for n in u)
                + (f"; not calibrated (evaluated without calibration): {', '.join(missing)}" if missing else "")
                + ".", ""]
    if summary.get("task_table"):
        out += _task_markdown(summary)
    return "\n".join(out)


def _task_markdown(summary: dict) -> list[str]:
    """The task x fold table (genome-wide CNN AUPRC per fold, mean ± sd, pooled) with the pooled baselines."""
    lab = summary["_labels"]
    rows = summary["task_table"]
    folds = list(next(iter(rows.values()))["folds"])
    bases = [n for n in dict.fromkeys(n for sm in summary["tasks"].values() for n in sm["baselines"])]
    head = ["task", "positive rate", *folds, "mean ± sd", "pooled CNN AUPRC", *[f"pooled {lab.get(n, n)}" for n in bases]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for t, r in rows.items():
        lines.append("| " + " | ".join([t, _fmt(r["positive_rate"], 4), *[_fmt(r["folds"][f]) for f in folds],
                                        f"{_fmt(r['mean'])} ± {_fmt(r['sd'])}", f"**{_fmt(r['pooled'])}**",
                                        *[_fmt(r.get(f"{n}_pooled")) for n in bases]]) + " |")
    return ["## Per task: genome-wide AUPRC", "",
            f"{len(rows)} tasks, one model output each (the rows above are the first task's, "
            f"{next(iter(rows))}). Folds: the CNN's genome-wide AUPRC on the fold's held-out chromosomes; pooled: "
            "every held-out bin, calibrated scores; '–': no such baseline for the task (no JASPAR id).", "",
            *lines, ""]


def plot_summary(scored: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    from seq2acc.evaluate.metrics import _clean

    gw = _pooled_table([calibrated(s) for s in scored])  # pooled: calibrated; per fold: raw (same ranking)
    y = gw.label.to_numpy()
    lab = labels(scored)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11.5, 4.8))
    for name in score_names(gw):
        yy, ss = _clean(y, gw[name].to_numpy())
        m = binary_metrics(yy, ss, is_logit=False)
        if m["auprc"] is None:
            continue
        p, r, _ = precision_recall_curve(yy, ss)
        a1.step(r, p, where="post", lw=1.5, label=f"{lab.get(name, name)} (AUPRC {m['auprc']:.3f})")
    rate = y.mean() if len(y) else 0
    a1.axhline(rate, ls="--", c="grey", lw=0.8, label=f"random ({rate:.3f})")
    a1.set(title=f"pooled over {len(scored)} folds ({len(y)} bins)", xlabel="recall", ylabel="precision",
           xlim=(0, 1), ylim=(0, 1.02))
    for s in scored:
        d = pd.concat(list(s["genomewide"].values()), ignore_index=True)
        yy, ss = _clean(d.label.to_numpy(), d.cnn.to_numpy())
        m = binary_metrics(yy, ss, is_logit=False)
        if m["auprc"] is None:
            continue
        p, r, _ = precision_recall_curve(yy, ss)
        a2.step(r, p, where="post", lw=1.0, alpha=0.85,
                label=f"fold {s['fold']} {','.join(s['info']['test'])} ({m['auprc']:.3f})")
    a2.set(title="CNN per fold (genome-wide)", xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    for a in (a1, a2):
        a.grid(alpha=0.3)
        a.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def pr_grid_table(scored: list[dict], n: int = 201) -> pd.DataFrame:
    """Pooled (calibrated) interpolated precision of every score on a recall grid of ``n`` points."""
    gw = _pooled_table([calibrated(s) for s in scored])
    grid = np.linspace(0, 1, n)
    out = {"recall": grid}
    for name in score_names(gw):
        out[name] = interpolated_precision(gw.label.to_numpy(), gw[name].to_numpy(), grid)
    return pd.DataFrame(out)


def cv_headline(summary: dict) -> dict:
    """The cross-validation's headline numbers (``metrics/headline.json``): pooled genome-wide AUPRC and AUROC of the
    CNN (calibrated scores), the same AUPRC without calibration, pooled AUPRC of each baseline and the CNN's ratio
    to it, and the mean and sd of the per-fold CNN AUPRC."""
    pooled = summary["pooled"]
    out = {"n_folds": summary["n_folds"], "pooled_auprc": pooled["cnn"]["auprc"], "pooled_auroc": pooled["cnn"]["auroc"],
           "mean_fold_auprc": summary["mean"]["cnn_auprc"], "sd_fold_auprc": summary["std"]["cnn_auprc"]}
    if "cnn" in summary.get("pooled_uncalibrated", {}):
        out["pooled_auprc_uncalibrated"] = summary["pooled_uncalibrated"]["cnn"]["auprc"]
    for name in summary["baselines"]:
        out[f"{name}_pooled_auprc"] = pooled[name]["auprc"]
        out[f"cnn_over_{name}"] = pooled.get(f"cnn_over_{name}_auprc")
    if summary.get("task_table"):  # several tasks: the same per task (the top level is the first task's)
        out["tasks"] = {t: {"pooled_auprc": r["pooled"], "pooled_auroc": r["pooled_auroc"], "mean_fold_auprc": r["mean"],
                            "sd_fold_auprc": r["sd"],
                            **{f"{k[:-len('_pooled')]}_pooled_auprc": v for k, v in r.items() if k.endswith("_pooled")}}
                        for t, r in summary["task_table"].items()}
    return out
