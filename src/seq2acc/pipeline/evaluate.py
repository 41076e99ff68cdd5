"""DVC stage ``evaluate@K``: fold K's model (and the baselines) on EVERY bin of fold K's test chromosomes.

Genome-wide bins are the ``genomewide`` group of each test chromosome's HDF5 (every 50 bp grid bin whose 1000 bp
context fits the chromosome, not blacklisted, N fraction within limits; labels by the >50% overlap rule). Only the
test chromosomes are evaluated; training chromosomes are read only to fit the k-mer baseline (examples), and the
genome-wide bins of the validation chromosomes (never test chromosomes of the fold) only to choose the k-mer
baseline's regularisation and to fit the fold's calibration (``evaluate.calibration``: platt | temperature | none)
of its learned scores, the CNN and k-mer logits (:mod:`seq2acc.evaluate.calibration`; PWM scores are the same
function on every fold and are not calibrated). Scores stay raw logits in ``scores.h5``; the calibration is
recorded next to them and applied where folds are pooled (``cv_summary``) and in the probability tracks.

Outputs
- ``metrics/fold<K>/evaluate.json`` (DVC metric): ``genomewide`` (loss, auprc, auroc, positive_rate, n_bins,
  n_positive), ``sampled`` (the same on the sampled test examples: the inflated view), ``by_negative_type``
  (AUPRC of positives vs flank / random / elsewhere negatives), ``per_chromosome``, ``baselines.<name>``
  (``pwm``: the target's JASPAR motif in the central ``baselines.pwm.central[0]`` bp, ``pwm_<bp>`` for further
  central windows, ``kmer``: k-mer logistic regression), ``calibration.<cnn|kmer>`` (method, a, b, n_bins,
  n_positive, val_loss_before/after on the validation bins, test_loss_before/after on the test bins, fallback).
  AUPRC/AUROC are unchanged by the (monotone) calibration; ``genomewide.loss`` is the raw logits' loss.
- ``metrics/fold<K>/pr.csv``, ``roc.csv`` (DVC plots, genome-wide CNN curves), ``curves.png`` (CNN + baselines).
- ``predictions/fold<K>/``: ``scores.h5`` (every scored bin: label and CNN/PWM/k-mer scores; the sampled test
  examples), ``<chrom>.bedGraph`` and ``cnn.bw`` browser tracks (calibrated CNN probability), ``info.json``
  (scorer, timings, motif, choices, ``calibration``).
- The same metrics and ``curves.png`` logged to the fold's MLflow run (``models/fold<K>/mlflow_run.json``).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.mlops import tracking
from seq2acc.io.atomic import atomic_path, write_json
from seq2acc.evaluate.baselines import KmerBaseline, PWMBaseline
from seq2acc.data.store import (MISSING_LABEL, chrom_info, dataset_path, label_columns, read_examples,
                                read_genomewide, read_task_names)
from seq2acc.errors import InputError, ParamsError, Seq2AccError
from seq2acc.evaluate.metrics import plot_curves, pr_curve, roc_curve
from seq2acc.data.folds import get_fold
from seq2acc.io.fasta import Genome
from seq2acc.config import Params, params_keys, task_jaspar_ids
from seq2acc.evaluate.scorers import make_scorer
from seq2acc.io.bigwig import sigmoid, write_bedgraph, write_bigwig
from seq2acc.artifacts import fold_model
from seq2acc.artifacts.scores import write_scores
from seq2acc.evaluate.calibration import METHODS, fit_calibration
from seq2acc.evaluate.fold import calibrated, evaluation_metrics, headline, sampled_scores, score_names
from seq2acc.config import layout
from seq2acc.model.load import load_model

log = logging.getLogger(__name__)


def eval_paths(p: Params, k: int) -> dict[str, Path]:
    lay = layout(p)
    return {"genome": lay.genome, "data_dir": lay.datasets, "folds": lay.folds,
            "model": fold_model.model_path(lay.models, k), "run": fold_model.run_file(lay.models, k),
            "pred": lay.predictions / f"fold{k}", "metrics": lay.metrics / f"fold{k}"}


def check_fold(fold: dict) -> None:
    """A test chromosome must never be a training or validation chromosome of the same fold."""
    leak = set(fold["test"]) & (set(fold["train"]) | set(fold["valid"]))
    if leak:
        raise Seq2AccError(f"fold {fold['fold']}: test chromosome(s) {sorted(leak)} are also training/validation "
                           "chromosomes; fix: rebuild folds (`dvc repro folds`)")
    if not fold["test"]:
        raise Seq2AccError(f"fold {fold['fold']} has no test chromosome; fix: rebuild folds (`dvc repro folds`)")


def task_jaspar(p: Params, names) -> dict[str, str | None]:
    """Task (the datasets' names, model output order) -> the JASPAR id of its PWM baseline (None: no PWM baseline):
    each ``peaks.tasks`` entry's ``jaspar_id``, or ``baselines.pwm.jaspar_id`` for one task. Datasets built for other
    tasks than params lists stop with the fix."""
    ids = task_jaspar_ids(p)
    names = list(names)
    if len(names) == 1 and len(ids) == 1:  # one task: whatever the datasets call it
        return {names[0]: next(iter(ids.values()))}
    if set(names) != set(ids):
        raise ParamsError("peaks.tasks", f"the datasets were built for the tasks {names}, params lists {list(ids)}",
                          "rebuild the datasets from the current params: `dvc repro dataset`", p.path)
    return {n: ids[n] for n in names}


def build_baselines(p: Params, genome: Genome, fold: dict, data_dir: Path, context: int) -> dict:
    """The enabled baselines (name -> scorer) of the first task (the only one of a one-task project): see
    :func:`build_task_baselines`."""
    return next(iter(build_task_baselines(p, genome, fold, data_dir, context).values()))


def _pwm_baselines(p: Params, motif: str | None, context: int) -> dict:
    """PWM baselines of one JASPAR id: one per ``baselines.pwm.central`` window, ``pwm`` (the first) and
    ``pwm_<bp>``; none for ``motif`` None."""
    if not motif:
        return {}
    bg = p.raw("baselines.pwm.background")
    bg = None if bg in (None, "uniform") else bg
    centrals = p.raw("baselines.pwm.central")
    centrals = centrals if isinstance(centrals, list) else [centrals]
    if not centrals or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in centrals):
        raise ParamsError("baselines.pwm.central", f"{centrals!r} must be a positive number of bp or a list of them",
                          "use e.g. 400 or [400, 200]")
    return {("pwm" if i == 0 else f"pwm_{c}"): PWMBaseline(
        motif, context, central=c, release=p.get("baselines.pwm.release", str, allow_none=True),
        background=bg, pseudocount=p.get("baselines.pwm.pseudocount", float, ge=0)) for i, c in enumerate(centrals)}


def build_task_baselines(p: Params, genome: Genome, fold: dict, data_dir: Path, context: int,
                         names=None) -> dict[str, dict]:
    """``{task: {baseline name: scorer}}`` of the enabled baselines, per task of the datasets (``names``: their task
    names, read from the fold's training datasets when None).

    - PWM: the task's JASPAR motif (:func:`task_jaspar`; a task without one has no PWM baseline), one baseline per
      ``baselines.pwm.central`` window, named ``pwm`` (the first) and ``pwm_<bp>``. Tasks sharing a motif share the
      scorer objects.
    - k-mer: one logistic regression per task, fitted on the fold's training examples plus
      ``baselines.kmer.genomewide_negatives`` genome-wide negatives per positive (:func:`kmer_training_table`; one
      table and one count matrix for every task), each labelled by its task, its C chosen on the task's labels of
      the validation chromosomes' genome-wide bins."""
    paths = [dataset_path(data_dir, c) for c in fold["train"]]
    names = list(names) if names is not None else read_task_names(paths)
    motifs = task_jaspar(p, names)
    pwm_cache = {}
    out = {}
    for t in names:
        if motifs[t] not in pwm_cache:
            pwm_cache[motifs[t]] = _pwm_baselines(p, motifs[t], context)
        out[t] = dict(pwm_cache[motifs[t]])
    if p.get("baselines.kmer.enabled", bool):
        train = kmer_training_table(data_dir, fold["train"], p.get("baselines.kmer.genomewide_negatives", float, ge=0),
                                    p.get("seed", int))
        valid = []
        for c in fold["valid"]:
            _, _, _, df = read_genomewide(dataset_path(data_dir, c), tasks=True)
            valid.append((c, df))
        counts = None
        for t, col in zip(names, label_columns(names)):
            km = kmer_baseline(p, context)
            if counts is None:
                counts = km.training_counts(genome, train)
            vb = []
            for c, df in valid:
                keep = _labelled(df[col].to_numpy())
                vb.append((c, df.start.to_numpy()[keep], df[col].to_numpy()[keep]))
            out[t]["kmer"] = km.fit(genome, train, vb, label=col, counts=counts)
    return out


def _labelled(y: np.ndarray) -> np.ndarray:
    return np.asarray(y) != MISSING_LABEL


def kmer_baseline(p: Params, context: int) -> KmerBaseline:
    """The (unfitted) k-mer baseline of ``baselines.kmer``; a bad value is a ParamsError naming its key."""
    C = p.raw("baselines.kmer.C")
    grid = C if isinstance(C, list) else [C]
    try:
        grid = [float(c) for c in grid]
    except (TypeError, ValueError):
        grid = []
    if not grid or not all(np.isfinite(c) and c > 0 for c in grid):
        raise ParamsError("baselines.kmer.C", f"{C!r} must be a positive number or a list of them",
                          "use e.g. [3.0e-5, 1.0e-4, 3.0e-4, 1.0e-3]", p.path)
    bounds = p.raw("baselines.kmer.C_bounds")
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ParamsError("baselines.kmer.C_bounds", f"{bounds!r} must be a list [low, high] of two numbers",
                          "use e.g. [1.0e-7, 1.0]", p.path) from None
    step = p.get("baselines.kmer.C_step", float, gt=1)
    with params_keys(p, prefix="baselines.kmer."):
        return KmerBaseline(context, k=p.get("baselines.kmer.k", int, ge=1, le=10),
                            window=p.get("baselines.kmer.window", int, gt=0),
                            C=grid if isinstance(C, list) else grid[0], C_bounds=(lo, hi), C_step=step,
                            seed=p.get("seed", int))


def kmer_training_table(data_dir: Path, chroms, genomewide_negatives: float, seed: int) -> pd.DataFrame:
    """Training table of the k-mer baseline: the sampled examples of ``chroms`` (the fold's training chromosomes)
    plus ``round(genomewide_negatives * n_positive)`` genome-wide bins negative for every task of the same
    chromosomes drawn once (seeded; all of them when fewer; ``n_positive``: examples positive for any task) -- the
    mixture ``train@K`` trains the CNN on (``train.genomewide_negatives``). Columns ``chrom``, ``start``, ``label``
    (the first task), ``genomewide`` (True for the added bins) and ``label:<task>`` per task."""
    paths = [dataset_path(data_dir, c) for c in chroms]
    cols = label_columns(read_task_names(paths))
    ex = read_examples(paths, tasks=True)
    ex = pd.DataFrame({"chrom": ex.chrom, "start": ex.start.to_numpy(np.int64), "label": ex.label.to_numpy(np.int64),
                       "genomewide": False, **{c: ex[c].to_numpy(np.int64) for c in cols}})
    n = round(genomewide_negatives * int((ex[cols] == 1).to_numpy().any(axis=1).sum()))
    if n <= 0:
        return ex
    pool = []
    for path in paths:
        chrom, _, _, df = read_genomewide(path, tasks=True)
        neg = df[~(df[cols] == 1).to_numpy().any(axis=1)]
        pool.append(pd.DataFrame({"chrom": chrom, "start": neg.start.to_numpy(np.int64),
                                  "label": neg.label.to_numpy(np.int64), "genomewide": True,
                                  **{c: neg[c].to_numpy(np.int64) for c in cols}}))
    pool = pd.concat(pool, ignore_index=True)
    pick = np.random.default_rng([int(seed), 7919]).choice(len(pool), size=min(n, len(pool)), replace=False)
    return pd.concat([ex, pool.iloc[np.sort(pick)]], ignore_index=True)


def _task_table(df: pd.DataFrame, col: str, logits: np.ndarray | None = None) -> pd.DataFrame:
    """One task's genome-wide table (``bin_start, start, label, n_frac[, cnn]``) of a chromosome read with
    ``tasks=True`` (``logits``: the task's logit of every bin): ``label`` = the task's column, bins without a label
    for the task left out."""
    keep = _labelled(df[col].to_numpy())
    out = pd.DataFrame({"bin_start": df.bin_start.to_numpy(), "start": df.start.to_numpy(),
                        "label": df[col].to_numpy(), "n_frac": df.n_frac.to_numpy()})
    if logits is not None:
        out["cnn"] = logits
    return out if keep.all() else out[keep].reset_index(drop=True)


def score_fold(p: Params, k: int, progress: bool = True) -> dict:
    """Score every genome-wide bin of fold ``k``'s test chromosomes with the CNN and the baselines, every task.

    The model scores each bin once (logits (n, n_tasks), the shared-trunk scorer when possible); each task then has
    its own tables, baselines and calibration. Returns the first task's scored fold ``{"fold", "genomewide": {chrom:
    DataFrame[bin_start, start, label, n_frac, cnn, <baselines>]}, "sampled": DataFrame[chrom, bin_start, label,
    source, cnn, ...], "info": {...}}``, with ``"tasks": {task: the same for that task}`` when there are several
    (:func:`seq2acc.evaluate.fold.per_task`).
    """
    pp = eval_paths(p, k)
    fold = get_fold(pp["folds"], k)
    check_fold(fold)
    paths = {c: dataset_path(pp["data_dir"], c) for c in fold["test"]}
    for c, path in paths.items():
        if not path.exists():
            raise InputError(path, f"dataset of test chromosome {c} missing", f"run `dvc repro dataset@{c}`")
    spec = chrom_info(next(iter(paths.values()))).spec
    names = read_task_names(list(paths.values()))
    cols = label_columns(names)
    model = load_model(pp["model"])
    n_out = int(model.outputs[0].shape[-1])
    if n_out != len(names):
        raise InputError(pp["model"], f"the model has {n_out} output(s), the datasets {len(names)} task(s) {names}",
                         f"retrain the fold on the current datasets: `dvc repro train@{k}`")
    scorer = make_scorer(model, spec.context, spec.stride, p.get("evaluate.method", str),
                         batch_size=p.get("evaluate.batch_size", int, gt=0),
                         chunk_windows=p.get("evaluate.chunk_windows", int, gt=0),
                         rc_average=p.get("evaluate.rc_average", bool))
    genome = Genome(pp["genome"])
    t0 = time.perf_counter()
    baselines = build_task_baselines(p, genome, fold, pp["data_dir"], spec.context, names)
    t_fit = time.perf_counter() - t0
    all_baselines = {id(b): b for bl in baselines.values() for b in bl.values()}  # tasks may share a PWM scorer
    gw = {t: {} for t in names}
    timing = {"cnn": 0.0, **{n: 0.0 for bl in baselines.values() for n in bl}}
    for c, path in paths.items():
        chrom, _, cspec, df = read_genomewide(path, tasks=True)
        if cspec != spec:
            raise InputError(path, f"bin settings {cspec} differ from the other test chromosomes' {spec}",
                             "rebuild all datasets with the same params (`dvc repro dataset`)")
        starts = df.start.to_numpy()
        t = time.perf_counter()
        logits = scorer.score(genome, chrom, starts, progress=progress)  # (n, n_tasks), every bin once
        timing["cnn"] += time.perf_counter() - t
        if not np.all(np.isfinite(logits)):
            raise Seq2AccError(f"fold {k}: the model predicts non-finite logits on {chrom}; fix: retrain the fold "
                               f"(check train.lr and the loss curve in models/fold{k}/loss.png)")
        shared = {}
        for i, b in all_baselines.items():
            t = time.perf_counter()
            shared[i] = b.score(genome, chrom, starts, progress=progress)
            dt = time.perf_counter() - t
            timing[next(n for bl in baselines.values() for n, bb in bl.items() if bb is b)] += dt
        for j, (task, col) in enumerate(zip(names, cols)):
            keep = _labelled(df[col].to_numpy())
            d = _task_table(df, col, logits[:, j])
            for name, b in baselines[task].items():
                d[name] = shared[id(b)][keep]
            gw[task][chrom] = d
        log.info("fold %d %s: %d bins scored (%s)", k, chrom, len(df),
                 ", ".join(f"{int((df[col] == 1).sum())} positive for {t}" for t, col in zip(names, cols)))
    n_bins = sum(len(d) for d in gw[names[0]].values())
    examples = read_examples(list(paths.values()), tasks=True)
    method = p.get("evaluate.calibration", str, choices=METHODS)
    t = time.perf_counter()
    calibration = fit_fold_calibration(fold, pp["data_dir"], spec, genome, scorer, baselines, method, progress)
    t_cal = time.perf_counter() - t
    info = {"fold": k, "test": fold["test"], "train": fold["train"], "valid": fold["valid"],
            "model": str(pp["model"]), "scorer": scorer.method, "rc_average": bool(scorer.rc_average),
            "n_bins": n_bins, "cnn_seconds": timing["cnn"],
            "cnn_windows_per_s": n_bins / timing["cnn"] if timing["cnn"] > 0 else None,
            "baseline_seconds": {n: timing[n] for n in baselines[names[0]]}, "baseline_fit_seconds": t_fit,
            "bin_size": spec.bin_size, "stride": spec.stride, "context": spec.context,
            "calibration": calibration[names[0]], "calibration_seconds": t_cal, "task_names": names}
    tasks = {}
    for task, col in zip(names, cols):
        ex = examples[_labelled(examples[col].to_numpy())]
        ex = ex.assign(label=ex[col].to_numpy())
        tinfo = {**info, "calibration": calibration[task], "baselines": _baseline_info(baselines[task])}
        if len(names) > 1:
            tinfo["task"] = task
        tasks[task] = {"fold": k, "genomewide": gw[task], "sampled": sampled_scores(ex, gw[task]), "info": tinfo}
    first = tasks[names[0]]
    if len(names) == 1:
        return first
    info = {**first["info"], "tasks": {t: {"calibration": s["info"]["calibration"],
                                           "baselines": s["info"]["baselines"]} for t, s in tasks.items()}}
    info.pop("task")
    return {**first, "info": info, "tasks": tasks}


def _baseline_info(baselines: dict) -> dict:
    out = {}
    for name, b in baselines.items():
        d = {"label": b.label, "short": b.short}
        if isinstance(b, PWMBaseline):
            d.update(motif_id=b.motif.id, motif_name=b.motif.name, width=b.width, central=b.central)
        else:
            d.update(b.info())
        out[name] = d
    return out


def fit_fold_calibration(fold: dict, data_dir: Path, spec, genome: Genome, scorer, baselines: dict, method: str,
                         progress: bool = True) -> dict:
    """``{task: {score name: calibration}}`` of the fold's learned scores of every task (``cnn`` = the model's output
    for the task, and the task's k-mer baseline, when enabled; ``baselines``: ``{task: {name: scorer}}``), fitted on
    the task's labelled genome-wide bins of the fold's validation chromosomes, scored exactly as the test bins (same
    scorer, same strand averaging; the model scores each bin once for all tasks). No validation chromosome: the
    identity, with a warning. A k-mer baseline whose fit already scored these bins (its C selection:
    ``valid_scores``, same bins in the same order) is not scored again."""
    names = list(baselines)
    cols = label_columns(names)
    kmers = {t: {n: b for n, b in bl.items() if isinstance(b, KmerBaseline)} for t, bl in baselines.items()}
    z = {t: {"cnn": [], **{n: [] for n in kmers[t]}} for t in names}
    y = {t: [] for t in names}
    for c in fold["valid"]:
        path = dataset_path(data_dir, c)
        if not path.exists():
            raise InputError(path, f"dataset of validation chromosome {c} missing", f"run `dvc repro dataset@{c}`")
        chrom, _, cspec, df = read_genomewide(path, tasks=True)
        if cspec != spec:
            raise InputError(path, f"bin settings {cspec} differ from the test chromosomes' {spec}",
                             "rebuild all datasets with the same params (`dvc repro dataset`)")
        starts = df.start.to_numpy()
        logits = scorer.score(genome, chrom, starts, progress=progress)
        for j, (t, col) in enumerate(zip(names, cols)):
            keep = _labelled(df[col].to_numpy())
            y[t].append(df[col].to_numpy()[keep])
            z[t]["cnn"].append(logits[:, j][keep])
            for n, b in kmers[t].items():
                if b.valid_scores is None:
                    z[t][n].append(b.score(genome, chrom, starts[keep], progress=progress))
    if not fold["valid"]:
        log.warning("fold %d has no validation chromosome: scores are not calibrated", fold["fold"])
    out = {}
    for t in names:
        yy = np.concatenate(y[t]) if y[t] else np.zeros(0, np.int8)
        out[t] = {}
        for n in z[t]:
            b = kmers[t].get(n)
            scores = [b.valid_scores] if b is not None and b.valid_scores is not None else z[t][n]
            zz = np.concatenate(scores) if scores else np.zeros(0)
            c = out[t][n] = fit_calibration(zz, yy, method)
            log.info("fold %d %s%s calibration (%s on %d validation bins, %d positive): a=%.4g b=%.4g, validation "
                     "loss %s -> %s%s", fold["fold"], n, f" ({t})" if len(names) > 1 else "", method, c["n_bins"],
                     c["n_positive"], c["a"], c["b"], _f(c["val_loss_before"]), _f(c["val_loss_after"]),
                     f" ({c['fallback']})" if c["fallback"] else "")
    return out


# ----------------------------------------------------------------------------- outputs


def write_curve_files(metrics_dir: Path, scored: dict, max_points: int) -> None:
    gw = pd.concat(list(scored["genomewide"].values()), ignore_index=True)
    y = gw.label.to_numpy()
    pr = pr_curve(y, gw.cnn.to_numpy(), max_points)
    roc = roc_curve(y, gw.cnn.to_numpy(), max_points)
    with atomic_path(metrics_dir / "pr.csv") as tmp:
        pr[["recall", "precision"]].to_csv(tmp, index=False, float_format="%.6g")
    with atomic_path(metrics_dir / "roc.csv") as tmp:
        roc[["fpr", "tpr"]].to_csv(tmp, index=False, float_format="%.6g")
    info = scored["info"]
    series = {"CNN": (y, gw.cnn.to_numpy())}
    for name in score_names(gw)[1:]:
        series[info.get("baselines", {}).get(name, {}).get("label", name)] = (y, gw[name].to_numpy())
    plot_curves(series, metrics_dir / "curves.png",
                title=f"fold {scored['fold']}: every bin of {', '.join(info['test'])} (genome-wide)")


def write_tracks(pred_dir: Path, scored: dict, genome: Genome, spec_bin: int, stride: int, name: str) -> None:
    """Calibrated CNN probability per bin: one bedGraph per test chromosome and one bigWig for the fold."""
    per = {}
    for c, d in calibrated(scored)["genomewide"].items():
        per[c] = (d.bin_start.to_numpy(), sigmoid(d.cnn.to_numpy()))
        write_bedgraph(pred_dir / f"{c}.bedGraph", c, *per[c], spec_bin, stride, genome.sizes[c],
                       name=f"{name} {c}", view_limits=(0, 1))
    write_bigwig(pred_dir / "cnn.bw", per, spec_bin, stride, genome.sizes)


def log_to_mlflow(run_file: Path, metrics: dict, artifacts: list[Path], info: dict) -> str | None:
    """Log the fold's evaluation into the training run named in ``mlflow_run.json`` (skipped with a warning
    when the model has no run)."""
    if not run_file.exists():
        log.warning("%s missing: evaluation not logged to MLflow", run_file)
        return None
    flat = {}

    def walk(d, prefix):
        for key, v in d.items():
            if isinstance(v, dict):
                walk(v, f"{prefix}{key}.")
            else:
                flat[f"eval.{prefix}{key}"] = v

    walk({kk: vv for kk, vv in metrics.items() if kk not in ("per_chromosome", "tasks", "task_names")}, "")
    # per task (every task, one too): auprc/<task>, auroc/<task>, auprc/<task>/<baseline> (genome-wide)
    for t, m in (metrics.get("tasks") or {info.get("task_names", ["target"])[0]: metrics}).items():
        flat[f"auprc/{t}"], flat[f"auroc/{t}"] = m["genomewide"]["auprc"], m["genomewide"]["auroc"]
        for name, b in m["baselines"].items():
            flat[f"auprc/{t}/{name}"] = b["genomewide"]["auprc"]
    tags = {"eval.scorer": info["scorer"], "eval.rc_average": str(info["rc_average"]),
            "eval.test_chromosomes": ",".join(info["test"])}
    for name, c in metrics.get("calibration", {}).items():
        tags[f"eval.calibration.{name}.method"] = c["method"]
        if c.get("fallback"):
            tags[f"eval.calibration.{name}.fallback"] = c["fallback"]
    return tracking.log_to_run(json.loads(run_file.read_text())["run_id"], flat, tags, artifacts, "evaluation")


def evaluate_fold(p: Params, k: int) -> dict:
    """Stage body of ``evaluate@K``: score, compute metrics, write metrics/plots/tracks, log to MLflow."""
    pp = eval_paths(p, k)
    scored = score_fold(p, k)
    metrics = evaluation_metrics(scored)
    info = scored["info"]
    pp["pred"].mkdir(parents=True, exist_ok=True)
    write_scores(pp["pred"] / "scores.h5", scored)
    if p.get("evaluate.tracks", bool):
        genome = Genome(pp["genome"])
        write_tracks(pp["pred"], scored, genome, info["bin_size"], info["stride"], f"seq2acc fold{k}")
    write_json(pp["pred"] / "info.json", info)
    write_curve_files(pp["metrics"], scored, p.get("evaluate.curve_points", int, ge=10))
    write_json(pp["metrics"] / "evaluate.json", metrics)
    write_json(pp["metrics"] / "headline.json", headline(metrics))
    run_id = log_to_mlflow(pp["run"], metrics, [pp["metrics"] / "curves.png", pp["metrics"] / "evaluate.json"], info)
    g, s = metrics["genomewide"], metrics["sampled"]
    msg = (f"fold {k} ({', '.join(info['test'])}): genome-wide AUPRC {_f(g['auprc'])} (random {_f(g['positive_rate'])}, "
           f"{g['n_bins']} bins), AUROC {_f(g['auroc'])}; sampled test set AUPRC {_f(s['auprc'])}")
    for name, b in metrics["baselines"].items():
        msg += f"; {name} AUPRC {_f(b['genomewide']['auprc'])}"
    c = metrics.get("calibration", {}).get("cnn")
    if c:
        msg += (f"; CNN {c['method']} calibration a={c['a']:.3g} b={c['b']:.3g}: test loss "
                f"{_f(c['test_loss_before'])} -> {_f(c['test_loss_after'])}")
    if metrics.get("tasks"):
        msg += "; genome-wide AUPRC per task: " + ", ".join(
            f"{t} {_f(m['genomewide']['auprc'])} (random {_f(m['genomewide']['positive_rate'])})"
            for t, m in metrics["tasks"].items())
    log.info("%s%s", msg, f" (logged to MLflow run {run_id})" if run_id else "")
    return metrics


def _f(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"
