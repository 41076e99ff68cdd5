"""One fold's scored bins as tables, and every number of its ``evaluate.json``.

A scored table has columns ``bin_start, start, label, n_frac`` (genome-wide bins) or ``chrom, bin_start, label,
source`` (sampled examples) followed by one column per scorer: ``cnn`` first, then the baselines in the order they
were added (``pwm``, ``pwm_<bp>``, ``kmer``). CNN and k-mer scores are logits; PWM scores are log-odds bits.

Several tasks (docs/multitask.md): a scored fold holds ``tasks`` = ``{task: scored fold of that task}`` (each with
its own ``label``, ``cnn`` = that model output's logit, baselines and calibration); the fold's own tables are those of
the first task, so everything written for one task reads a multi-task fold as its first task. :func:`per_task` gives
the tasks of either kind of fold; :func:`evaluation_metrics` the whole ``evaluate.json``.

The stored scores are the RAW logits of the fold's models. ``info["calibration"]`` (``{score name: calibration}``,
see :mod:`seq2acc.evaluate.calibration`) holds the fold's calibration of its learned scores (CNN, k-mer), fitted on
the genome-wide bins of its validation chromosomes; :func:`calibrated` applies it (pooling over folds needs it).
"""

from __future__ import annotations

import pandas as pd

from seq2acc.errors import Seq2AccError
from seq2acc.evaluate.calibration import apply_calibration
from seq2acc.evaluate.metrics import auprc_by_negative_type, bce_with_logits, binary_metrics


NON_SCORE = ("bin_start", "start", "label", "n_frac", "chrom", "source")


def task_names(scored: dict) -> list[str]:
    """The tasks of a scored fold, in model output order (a fold scored before tasks existed: one, ``target``)."""
    return list((scored.get("info") or {}).get("task_names") or ["target"])


def per_task(scored: dict) -> dict[str, dict]:
    """``{task: scored fold of that task}``: the fold's ``tasks`` (several tasks), or the fold itself (one)."""
    if scored.get("tasks"):
        return scored["tasks"]
    return {(scored.get("info") or {}).get("task") or task_names(scored)[0]: scored}


def score_names(df: pd.DataFrame) -> list[str]:
    """Score columns of a scored table: 'cnn' first, then the baselines in the order they were added."""
    return [c for c in df.columns if c not in NON_SCORE]


def is_logit(name: str) -> bool:
    """CNN and k-mer scores are logits (a loss is defined); PWM scores are log-odds bits of a motif match."""
    return name == "cnn" or name.startswith("kmer")


def sampled_scores(examples: pd.DataFrame, gw: dict) -> pd.DataFrame:
    """Scores of the sampled test examples, looked up among the genome-wide bins (same grid: every example bin
    is a genome-wide bin)."""
    cols = score_names(next(iter(gw.values())))
    allb = pd.concat([d.assign(chrom=c)[["chrom", "bin_start", *cols]] for c, d in gw.items()], ignore_index=True)
    out = examples[["chrom", "bin_start", "label", "source"]].merge(allb, on=["chrom", "bin_start"], how="left")
    missing = int(out[cols[0]].isna().sum())
    if missing:
        raise Seq2AccError(f"{missing} sampled test examples are not among the genome-wide bins; fix: rebuild the "
                           "datasets (`dvc repro dataset`) so both come from the same grid")
    return out


def calibrated(scored: dict) -> dict:
    """A copy of a scored fold whose calibrated score columns (those named in ``info["calibration"]``) hold the
    calibrated logits, in the genome-wide tables and the sampled table. A fold without calibration (evaluated
    before it existed, or ``evaluate.calibration: none``) comes back unchanged; an already calibrated copy
    (``info["calibrated"]``) too, so calibrating twice is harmless."""
    info = scored.get("info", {})
    cals = info.get("calibration") or {}
    if info.get("calibrated") or not cals:
        return scored

    def cal(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        for name, c in cals.items():
            if name in df.columns:
                df[name] = apply_calibration(df[name].to_numpy(), c)
        return df

    out = {**scored, "genomewide": {c: cal(d) for c, d in scored["genomewide"].items()},
           "sampled": cal(scored["sampled"]), "info": {**info, "calibrated": True}}
    if scored.get("tasks"):
        out["tasks"] = {t: calibrated(s) for t, s in scored["tasks"].items()}
    return out


def fold_metrics(scored: dict) -> dict:
    """The numbers of one task of a scored fold (:func:`score_fold`'s output; the first task for a multi-task fold):
    genome-wide, sampled, by negative type (``other_task`` too when the fold has several tasks), per chromosome,
    baselines, calibration. :func:`evaluation_metrics` adds the other tasks."""
    gw = pd.concat(list(scored["genomewide"].values()), ignore_index=True)
    sm = scored["sampled"]
    y = gw.label.to_numpy()
    out = {"genomewide": binary_metrics(y, gw.cnn.to_numpy()),
           "sampled": binary_metrics(sm.label.to_numpy(), sm.cnn.to_numpy()),
           "by_negative_type": auprc_by_negative_type(sm.label.to_numpy(), sm.cnn.to_numpy(), sm.source.to_numpy(),
                                                      other_task=len(task_names(scored)) > 1),
           "per_chromosome": {c: binary_metrics(d.label.to_numpy(), d.cnn.to_numpy())
                              for c, d in scored["genomewide"].items()},
           "baselines": {}}
    for name in score_names(gw)[1:]:
        out["baselines"][name] = {
            "genomewide": binary_metrics(y, gw[name].to_numpy(), is_logit=is_logit(name)),
            "sampled": binary_metrics(sm.label.to_numpy(), sm[name].to_numpy(), is_logit=is_logit(name))}
        fit = ((scored.get("info") or {}).get("baselines") or {}).get(name) or {}
        if "chosen_C" in fit:  # k-mer LR: the regularisation chosen, and whether it is a bound of the search
            out["baselines"][name]["chosen_C"] = fit["chosen_C"]
            out["baselines"][name]["C_at_bound"] = fit.get("C_at_bound")
    cals = scored.get("info", {}).get("calibration") or {}
    if cals and not scored["info"].get("calibrated"):  # raw scores: add the calibration and its effect on the loss
        out["calibration"] = {}
        for name, c in cals.items():
            if name not in gw.columns:
                continue
            z = gw[name].to_numpy()
            out["calibration"][name] = {**c, "test_loss_before": bce_with_logits(y, z) if len(y) else None,
                                        "test_loss_after": bce_with_logits(y, apply_calibration(z, c)) if len(y)
                                        else None}
    return out


def evaluation_metrics(scored: dict) -> dict:
    """``evaluate.json``: :func:`fold_metrics` of the first task (the keys one-task projects, the README and the DVC
    metrics read) and, with several tasks, ``task_names`` and ``tasks`` = ``{task: fold_metrics of that task}``."""
    tasks = per_task(scored)
    first = fold_metrics(scored)
    if len(tasks) == 1:
        return first
    names = list(tasks)
    return {**first, "task_names": names,
            "tasks": {t: first if i == 0 else fold_metrics(s) for i, (t, s) in enumerate(tasks.items())}}


def headline(metrics: dict) -> dict:
    """The few numbers ``dvc metrics show`` lists for a fold (``headline.json``): genome-wide AUPRC, AUROC, loss and
    positive rate of the CNN (``loss``: raw logits; ``loss_calibrated``: after the fold's calibration), and each
    baseline's genome-wide AUPRC; with several tasks the same per task under ``tasks`` (the top level is the first
    task's). The detail stays in ``evaluate.json``."""
    g = metrics["genomewide"]
    out = {"auprc": g["auprc"], "auroc": g["auroc"], "loss": g["loss"], "positive_rate": g["positive_rate"]}
    if "cnn" in metrics.get("calibration", {}):
        out["loss_calibrated"] = metrics["calibration"]["cnn"]["test_loss_after"]
    out.update({f"{name}_auprc": b["genomewide"]["auprc"] for name, b in metrics["baselines"].items()})
    if metrics.get("tasks"):
        out["tasks"] = {t: headline({k: v for k, v in m.items() if k != "tasks"}) for t, m in metrics["tasks"].items()}
    return out
