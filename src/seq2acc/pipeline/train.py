"""DVC stage ``train@K``: train fold K's model, track it in MLflow, register it, write ``models/foldK/`` atomically.

``models/foldK/`` holds ``model.keras``, ``history.json``, ``config.json`` (model/train config, input length,
fold), ``loss.png`` and ``mlflow_run.json`` (run id, model URI, registered name/version) so that the evaluation
stage can log into the same run (``mlflow.start_run(run_id=...)``). The directory appears complete or not at all:
everything is written to a temporary sibling and renamed into place after the model is registered. An interrupted
run (Ctrl-C, SIGTERM, error) leaves no ``models/foldK`` and its MLflow run is marked FAILED.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
from pathlib import Path

import numpy as np

from seq2acc.model import distribute
from seq2acc.mlops import tracking
from seq2acc.io.atomic import atomic_path, write_text
from seq2acc.errors import Seq2AccError
from seq2acc.io.fasta import Genome
from seq2acc.config import Params
from seq2acc.artifacts import fold_model
from seq2acc.artifacts.fold_model import MODEL_FILE, RUN_FILE
from seq2acc.config import layout, params_keys, tracking_target
from seq2acc.data.loader import FoldData, fold_data
from seq2acc.errors import ParamsError
from seq2acc.io.bed import read_bed3
from seq2acc.mlops import lineage as lineage_mod
from seq2acc.model.fit import MONITORS, OPTIMIZERS, SCHEDULES, TASKS, VALID_SETS, TrainConfig, inference_copy
from seq2acc.model.seed_ensemble import fit_seed_ensemble, merged_config
from seq2acc.model.zoo import MODEL_NAMES, model_config, validate_config

log = logging.getLogger(__name__)

def paths(p: Params) -> dict[str, Path]:
    lay = layout(p)
    return {"data_dir": lay.datasets, "folds": lay.folds, "genome": lay.genome, "models": lay.models,
            "plots": lay.train_plots}


def fold_dir(p: Params, k: int) -> Path:
    return fold_model.fold_dir(layout(p).models, k)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Turn SIGTERM (e.g. a killed DVC stage) into KeyboardInterrupt so clean-up and MLflow status run."""
    def handler(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _history_csv(history: dict) -> str:
    keys = [k for k in ("loss", "val_loss", "auprc", "val_auprc", "auroc", "val_auroc", "mae", "val_mae",
                        "learning_rate") if k in history and isinstance(history[k], list)]
    n = len(history.get("loss", []))
    rows = ["epoch," + ",".join(keys)]
    for e in range(n):
        rows.append(f"{e + 1}," + ",".join(f"{history[k][e]:.6g}" for k in keys))
    return "\n".join(rows) + "\n"


def _loss_plot(history: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ep = np.arange(1, len(history["loss"]) + 1)
    ax.plot(ep, history["loss"], "o-", label="train")
    ax.plot(ep, history["val_loss"], "s-", label="validation")
    ax.axvline(history["best_epoch"], color="grey", ls=":", label=f"best epoch {history['best_epoch']}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _signature(model, context: int):
    from mlflow.models import infer_signature

    x = np.zeros((2, context, 4), np.float32)
    return infer_signature(x, np.asarray(model(x, training=False), np.float32))


def lineage(p: Params, k: int, data: FoldData) -> dict:
    """Git commit, DVC stage and the md5 of every input this fold read (as recorded in dvc.lock)."""
    pp = paths(p)
    commit, dirty = lineage_mod.git_commit(tracking.project_root())
    chroms = data.fold["train"] + data.fold["valid"]
    inputs = [pp["folds"], pp["genome"]] + [layout(p).dataset(c) for c in chroms]
    return {"git_commit": commit, "git_dirty": dirty, "dvc_stage": os.environ.get("DVC_STAGE", f"train@{k}"),
            "dvc_exp": os.environ.get("DVC_EXP_NAME"), "inputs": lineage_mod.input_hashes(inputs)}


def _cv_payload(p: Params, tc, mc, lin: dict) -> dict:
    train = {k: v for k, v in tc.to_dict().items() if k != "folds"}
    return {"commit": lin["git_commit"], "train": train, "model": mc, "dataset": p.raw("dataset"),
            "seed": p.raw("seed"),
            "shared_inputs": {k: v["md5"] for k, v in lin["inputs"].items() if not k.endswith(".h5")}}


def _log_parent_params(client, run_id: str, params: dict) -> None:
    import mlflow

    if client.get_run(run_id).data.params:
        return
    items = [mlflow.entities.Param(k, v) for k, v in params.items()]
    with contextlib.suppress(Exception):  # another fold process logged them first
        for i in range(0, len(items), 100):
            client.log_batch(run_id, params=items[i:i + 100])


def _require_checks_passed(p: Params) -> None:
    """Refuse to train on data whose great-expectations checks (the validate stage) failed."""
    path = layout(p).validation_report
    if not path.exists():
        return
    summary = json.loads(path.read_text())
    if not summary.get("success", True):
        raise Seq2AccError(f"{path}: the data checks failed ({summary.get('n_passed')}/{summary.get('n_checks')} "
                           "passed); fix: see data/validation/checks.json, correct the input and `dvc repro validate`")


def _fail_stale_runs(client, exp_id: str, parent: str, k: int) -> None:
    """Fold runs of this cross-validation still RUNNING were killed hard (SIGKILL, power loss): mark them FAILED."""
    with contextlib.suppress(Exception):
        for r in client.search_runs([exp_id], filter_string=f"tags.fold = '{k}' and attributes.status = 'RUNNING' "
                                                            f"and tags.`mlflow.parentRunId` = '{parent}'"):
            log.warning("marking stale run %s (fold %d, never finished) as FAILED", r.info.run_id, k)
            client.set_terminated(r.info.run_id, status="FAILED")


def train_fold(p: Params, k: int) -> Path:
    """Train, track and register fold ``k``'s model; returns ``models/fold<k>``."""
    import mlflow
    from mlflow.tracking import MlflowClient

    tc, mc, context = validate_params(p)  # bad params fail here, before any data is read
    seeds = p.get("train.seeds", int, ge=1)
    if seeds > 1:
        with params_keys(p, seeds="train.seeds"):
            merged_config(mc, seeds)  # a model the members cannot be merged into fails here
    init_pwms = motif_init_pwms(p)
    strategy_name = p.get("train.distribute", str, choices=distribute.STRATEGIES)  # ... train.distribute too
    pp = paths(p)
    _require_checks_passed(p)
    out = fold_dir(p, k)
    target, task = tracking_target(p)  # the first task names experiment and model unless tracking.* does
    with params_keys(p, name="tracking.model_name"):
        model_name = tracking.registered_model_name(target, p.get("tracking.model_name", str, allow_none=True),
                                                    task=task)
    experiment = tracking.experiment_name(target, p.get("tracking.experiment", str, allow_none=True), task=task)
    genome = Genome(pp["genome"])
    with params_keys(p, k="train.folds", elsewhere="train.elsewhere_negatives"):
        data = fold_data(genome, pp["data_dir"], pp["folds"], k, tc, context, load_elsewhere(p, tc))
    log.info("fold %d: train %s (%d examples/epoch), valid %s (%d), test %s", k, data.fold["train"],
             data.n_train_examples, data.fold["valid"], data.n_valid_examples, data.fold["test"])
    if not distribute.is_chief():
        # multi_worker: a non-chief worker takes part in every training step but writes nothing (no MLflow run,
        # no model); the chief's `dvc repro train@K` owns the outputs. Start it with `python stages/train.py K`.
        with params_keys(p, name="train.distribute"), distribute.scope(strategy_name):
            fit_seed_ensemble(genome, _member_data(p, genome, k, tc, context, data), tc, mc, context, seeds,
                              init_pwms=init_pwms)
        log.info("fold %d: non-chief worker finished; the chief writes %s", k, out)
        return out
    lin = lineage(p, k, data)
    exp_id = tracking.setup(experiment)
    client = MlflowClient()
    key = tracking.cv_key(_cv_payload(p, tc, mc, lin))
    parent = tracking.get_or_create_parent(exp_id, key, run_name=f"cv-{mc['name']}-{key[:6]}",
                                           tags={"git_commit": lin["git_commit"], "model": mc["name"]})
    _log_parent_params(client, parent, tracking.flatten(
        {"model": mc, "train": {kk: vv for kk, vv in tc.to_dict().items() if kk != "folds"}}))
    tags = {"fold": str(k), "git_commit": lin["git_commit"], "git_dirty": str(lin["git_dirty"]),
            "dvc_stage": lin["dvc_stage"], "chromosomes.train": ",".join(data.fold["train"]),
            "chromosomes.valid": ",".join(data.fold["valid"]), "chromosomes.test": ",".join(data.fold["test"]),
            "model": mc["name"], tracking.RUN_KIND_TAG: "fold", tracking.CV_KEY_TAG + ".parent": key,
            "tasks": ",".join(data.task_names)}
    for path, h in lin["inputs"].items():
        tags[f"input.{path}"] = h["md5"] or ""
        if h["dvc_lock_md5"]:
            tags[f"dvc_lock.{path}"] = h["dvc_lock_md5"]
    if lin["dvc_exp"]:
        tags["dvc_exp"] = lin["dvc_exp"]
    _fail_stale_runs(client, exp_id, parent, k)
    t0 = time.perf_counter()
    status, version = "FAILED", None
    with _sigterm_as_interrupt(), mlflow.start_run(experiment_id=exp_id, run_name=f"fold{k}", parent_run_id=parent,
                                                   tags=tags) as run:
        try:
            mlflow.log_params(tracking.flatten({"model": mc, "train": tc.to_dict(), "dataset": p.raw("dataset"),
                                                "seed": p.raw("seed"), "fold": k, "input_length": context}))
            mlflow.log_dict(lin, "lineage.json")

            def hook(epoch, logs):
                mlflow.log_metrics({_epoch_key(kk): float(v) for kk, v in logs.items() if np.isscalar(v)},
                                   step=epoch + 1)

            # train.distribute: one_device | mirrored | multi_worker
            with params_keys(p, name="train.distribute"), distribute.scope(strategy_name) as strategy:
                mlflow.set_tags({f"distribute.{kk}": str(vv) for kk, vv in distribute.describe(strategy).items()})
                model, history, saved_mc = fit_seed_ensemble(
                    genome, _member_data(p, genome, k, tc, context, data), tc, mc, context, seeds,
                    epoch_hook=hook, init_pwms=init_pwms)
            best = history["best_epoch"]
            mlflow.set_tags({"train.attempts": str(len(history["attempts"])), "train.seed_used": str(history["seed"])})
            summary = {"best_epoch": best, "epochs_run": history["epochs_run"],
                       "best_val_loss": history["val_loss"][best - 1], "train_seconds": history["train_seconds"]}
            for key_ in ("val_auprc", "val_auroc", *(kk for kk in history if kk.startswith("val_auprc/"))):
                if key_ in history:
                    summary[f"best_{key_}"] = history[key_][best - 1]
            if "ensemble" in history:  # train.seeds > 1: the merged model's validation metrics are the fold's
                summary.update({f"best_{kk}": vv for kk, vv in history["ensemble"].items()})
                summary["members"] = seeds
            mlflow.log_metrics({kk: float(v) for kk, v in summary.items()})
            model = inference_copy(model)  # saved without compile state: loads with plain Keras
            with atomic_path(out, suffix=".tmpdir") as tmp:
                tmp.mkdir()
                model.save(tmp / MODEL_FILE)
                (tmp / "history.json").write_text(json.dumps(history, indent=1))
                (tmp / "config.json").write_text(json.dumps({"fold": data.fold, "input_length": context,
                                                             "model": saved_mc, "seeds": seeds,
                                                             "train": tc.to_dict(),
                                                             "task_names": list(data.task_names)}, indent=1))
                _loss_plot(history, tmp / "loss.png", f"fold {k} ({mc['name']})")
                mlflow.log_artifact(str(tmp / "loss.png"))
                mlflow.log_artifact(str(tmp / "history.json"))
                info = mlflow.keras.log_model(model, name="model", signature=_signature(model, context),
                                              pip_requirements=tracking.pinned_requirements(),
                                              registered_model_name=model_name)
                version = str(info.registered_model_version)
                for tk, tv in {"fold": str(k), "val_loss": f"{summary['best_val_loss']:.6g}", "run_id":
                               run.info.run_id, "model": mc["name"], "git_commit": lin["git_commit"]}.items():
                    client.set_model_version_tag(model_name, version, tk, tv)
                run_info = {"run_id": run.info.run_id, "parent_run_id": parent, "experiment_id": exp_id,
                            "experiment": experiment, "tracking_uri": tracking.tracking_uri(),
                            "model_uri": info.model_uri, "registered_model_name": model_name,
                            "registered_model_version": version,
                            "registered_model_uri": f"models:/{model_name}/{version}", "fold": k,
                            "best_val_loss": summary["best_val_loss"], "best_epoch": best}
                (tmp / RUN_FILE).write_text(json.dumps(run_info, indent=1))
            write_text(pp["plots"] / f"fold{k}.csv", _history_csv(history))
            status = "FINISHED"
        except BaseException:
            if version is not None:  # registered, but models/fold<k> (and so dvc.lock) will never record it
                with contextlib.suppress(Exception):
                    client.delete_model_version(model_name, version)
                    log.warning("fold %d interrupted after registering %s version %s: version deleted", k,
                                model_name, version)
            mlflow.end_run(status="FAILED")
            raise
        finally:
            with contextlib.suppress(Exception):
                client.update_run(parent, status=status if status == "FAILED" else "FINISHED")
    log.info("fold %d: best epoch %d/%d by %s (val_loss %.4f%s; %.0f s); registered %s version %s", k, best,
             history["epochs_run"], tc.monitor, summary["best_val_loss"],
             f", val_auprc {summary['best_val_auprc']:.4f}" if "best_val_auprc" in summary else "",
             time.perf_counter() - t0, model_name, version)
    return out


def _epoch_key(key: str) -> str:
    """MLflow key of a per-epoch Keras log: as Keras names it, except the per-task training-set metrics
    (``auprc/<task>`` -> ``train_auprc/<task>``): ``auprc/<task>`` is the task's genome-wide test AUPRC that
    ``evaluate@K`` logs into the same run."""
    return f"train_{key}" if key.split("/")[0] in ("auprc", "mae") and "/" in key else key


def load_run_info(p: Params, k: int) -> dict:
    path = fold_dir(p, k) / RUN_FILE
    return json.loads(path.read_text())


def _class_weight(p: Params):
    cw = p.raw("train.class_weight")
    if cw is None or cw == "none":
        return None
    if cw == "balanced":
        return "balanced"
    if isinstance(cw, dict):
        try:
            out = {int(k): float(v) for k, v in cw.items()}
        except (TypeError, ValueError):
            out = None
        if out is not None and set(out) <= {0, 1} and all(v > 0 for v in out.values()):
            return out
    raise ParamsError("train.class_weight", f"{cw!r} is not a class weighting",
                      "use null, 'balanced' or a mapping like {0: 1.0, 1: 2.0} with positive weights")


def train_config(p: Params) -> TrainConfig:
    """Read and range-check the ``train`` section; raises :class:`ParamsError` naming the bad key."""
    g = p.get
    folds = g("train.folds", list)
    for f in folds:
        if isinstance(f, bool) or not isinstance(f, int) or f < 0:
            raise ParamsError("train.folds", f"{f!r} is not a fold number", "list fold numbers, e.g. [0, 1, 2]")
    cfg = TrainConfig(
        task=g("train.task", str, choices=TASKS),
        optimizer=g("train.optimizer", str, choices=OPTIMIZERS),
        lr=g("train.lr", float, gt=0, le=1),
        beta_1=g("train.beta_1", float, ge=0, lt=1),
        beta_2=g("train.beta_2", float, ge=0, lt=1),
        epsilon=g("train.epsilon", float, gt=0),
        rho=g("train.rho", float, ge=0, lt=1),
        momentum=g("train.momentum", float, ge=0, lt=1),
        epochs=g("train.epochs", int, ge=1),
        patience=g("train.patience", int, ge=0),
        monitor=g("train.monitor", str, choices=MONITORS),
        batch_size=g("train.batch_size", int, ge=1),
        lr_schedule=g("train.lr_schedule", str, choices=SCHEDULES),
        lr_factor=g("train.lr_factor", float, gt=0, lt=1),
        lr_patience=g("train.lr_patience", int, ge=0),
        min_lr=g("train.min_lr", float, ge=0),
        class_weight=_class_weight(p),
        rc_augment=g("train.rc_augment", bool),
        max_shift=g("train.max_shift", int, ge=0),
        genomewide_negatives=g("train.genomewide_negatives", float, ge=0),
        elsewhere_negatives=g("train.elsewhere_negatives", float, ge=0),
        flank_negatives=g("train.flank_negatives", float, ge=0),
        flank_bins=g("dataset.negatives.flank_bins", int, ge=0),
        valid_set=g("train.valid_set", str, choices=VALID_SETS),
        valid_batch_size=g("train.valid_batch_size", int, ge=1),
        restarts=g("train.restarts", int, ge=0),
        seed=g("seed", int),
        deterministic=g("train.deterministic", bool),
        folds=folds,
    )
    if cfg.task == "regression" and cfg.monitor == "val_auprc":
        raise ParamsError("train.monitor", "val_auprc needs train.task: classification", "use val_loss")
    return cfg


def model_params(p: Params) -> dict:
    """The ``model`` section (architecture name + overrides) as a full, validated config."""
    raw = p.raw("model")
    if not isinstance(raw, dict):
        raise ParamsError("model", "must be a mapping", "see params.yaml: model: {name: small, ...}")
    p.get("model.name", str, choices=MODEL_NAMES)
    with params_keys(p, prefix="model."):
        return model_config(raw)


def validate_params(p: Params) -> tuple[TrainConfig, dict, int]:
    """Everything checked before any data is read or a model is built: (train config, model config, input length)."""
    tc = train_config(p)
    context = p.get("dataset.context", int, gt=0)
    mc = model_params(p)
    with params_keys(p, prefix="model."):
        validate_config(mc, context)
    max_shift_limit = (context - p.get("dataset.bin_size", int, gt=0)) // 2
    if tc.max_shift > max_shift_limit:
        raise ParamsError("train.max_shift", f"{tc.max_shift} bp moves the labelled bin outside the input",
                          f"use at most {max_shift_limit} (a few tens of bp is typical)")
    return tc, mc, context


def _member_data(p: Params, genome, k: int, tc, context: int, data0):
    """``make_data`` of :func:`~seq2acc.model.seed_ensemble.fit_seed_ensemble`: member 0 trains on the fold data
    already read, member m on the same fold drawn with its own seed (negatives, order, augmentation)."""
    pp = paths(p)

    def make(tc_m):
        if tc_m.seed == tc.seed:
            return data0
        with params_keys(p, k="train.folds", elsewhere="train.elsewhere_negatives"):
            return fold_data(genome, pp["data_dir"], pp["folds"], k, tc_m, context, load_elsewhere(p, tc_m))
    return make


def motif_init_pwms(p: Params) -> list | None:
    """Log-odds PWMs the first conv layer starts from (``train.motif_init``): None = random initialisation;
    ``target`` = the target's JASPAR motif (``baselines.pwm.jaspar_id``); or a list of JASPAR matrix ids."""
    spec = p.raw("train.motif_init")
    if spec is None or spec == [] or spec == "none":
        return None
    if spec == "target":
        ids = [p.get("baselines.pwm.jaspar_id", str, allow_none=True)]
        if ids == [None]:
            raise ParamsError("train.motif_init", "'target' needs baselines.pwm.jaspar_id (it is null)",
                              "set baselines.pwm.jaspar_id to the target's JASPAR id, list ids, or use null")
    elif isinstance(spec, list) and spec and all(isinstance(i, str) and i for i in spec):
        ids = spec
    else:
        raise ParamsError("train.motif_init", f"{spec!r} is not null, 'target' or a list of JASPAR ids",
                          "use null, target or e.g. [MA0363, MA0330]")
    from seq2acc.interpret.motifs import fetch_jaspar, log_odds

    release = p.get("baselines.pwm.release", str)
    with params_keys(p, ids="train.motif_init", release="baselines.pwm.release"):
        motifs = fetch_jaspar(ids=ids, release=release)
    pseudo = p.get("baselines.pwm.pseudocount", float, ge=0)
    return [log_odds(m, None, pseudo) for m in motifs]


def load_elsewhere(p: Params, tc: TrainConfig):
    """The merged 'elsewhere' peaks written by the peaks stage, when ``train.elsewhere_negatives`` needs them."""
    if tc.elsewhere_negatives <= 0:
        return None
    path = layout(p).peaks / "elsewhere.bed"
    if not path.exists():
        raise ParamsError("train.elsewhere_negatives", f"{path} does not exist",
                          "run `dvc repro peaks`, or set train.elsewhere_negatives: 0")
    return read_bed3(path)
