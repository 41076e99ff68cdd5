"""Training one fold's model (protocol 3.2, notes 14-18): config validation, input, compile, fit.

- One output (logit) per task of the datasets' label matrix (docs/multitask.md), in the datasets' task order.
- Loss: binary cross-entropy computed on LOGITS (the models have no final sigmoid, note 16), per task, averaged over
  the labelled entries: a missing label (:data:`~seq2acc.data.store.MISSING_LABEL`) weighs 0
  (:mod:`seq2acc.model.losses`). The regression variant (``train.task: regression``, note 15) uses the squared error
  on the same logits output, with the same mask. With one task both are exactly Keras's BCE / MSE.
- Early stopping on ``train.monitor``: ``val_loss``, or ``val_auprc`` = the mean over tasks of each task's
  validation AUPRC (one task: its AUPRC); each task's is logged too (``val_auprc/<task>``, several tasks only).
- Optimizer: Adam (lr 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-8) or RMSprop (lr 0.002, rho 0.98, momentum 0).
- Up to ``train.epochs`` epochs; early stopping on ``train.monitor`` (validation loss or AUPRC) with the best
  weights restored.
- Training and validation read only the fold's train / valid chromosomes (``folds.json``). Optionally each epoch
  adds fresh samples of genome-wide negative bins of the *training* chromosomes: ``genomewide_negatives`` (any
  negative bin), ``elsewhere_negatives`` (bins inside the 'elsewhere' peaks: open/bound for other factors) and
  ``flank_negatives`` (bins next to positives), each per positive example. The ~1:1 sampled set alone
  under-represents the ordinary genome and the other regulatory regions a model is scored against genome-wide.
- Augmentation: reverse complement (``rc_augment``) and random shifts of the input window (``max_shift`` bp).
- Reproducible: every random choice is seeded from ``seed``/``train.seed``; TF op determinism is switched on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import numpy as np

from seq2acc.data.loader import FoldData, make_dataset
from seq2acc.io.fasta import Genome
from seq2acc.model.zoo import build_model, init_first_filters

log = logging.getLogger(__name__)

OPTIMIZERS = ("adam", "rmsprop")
SCHEDULES = ("none", "plateau", "cosine")
TASKS = ("classification", "regression")
MONITORS = ("val_loss", "val_auprc")
VALID_SETS = ("examples", "genomewide")


@dataclass
class TrainConfig:
    """How one fold is trained: the validated ``train`` section of params.yaml (the only place with defaults; see
    the comments there for every knob) plus ``flank_bins`` (``dataset.negatives``) and the seed."""

    task: str
    optimizer: str
    lr: float
    beta_1: float
    beta_2: float
    epsilon: float
    rho: float
    momentum: float
    epochs: int
    patience: int
    monitor: str
    batch_size: int
    lr_schedule: str
    lr_factor: float
    lr_patience: int
    min_lr: float
    class_weight: dict | None
    rc_augment: bool
    max_shift: int
    genomewide_negatives: float
    elsewhere_negatives: float
    flank_negatives: float
    flank_bins: int
    valid_set: str
    valid_batch_size: int
    restarts: int
    seed: int
    deterministic: bool
    folds: list

    def to_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------- input


# ----------------------------------------------------------------------------- model
def make_optimizer(tc: TrainConfig, steps_per_epoch: int = 1):
    import keras

    lr = tc.lr
    if tc.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(tc.lr, decay_steps=max(1, tc.epochs * steps_per_epoch),
                                                    alpha=tc.min_lr / tc.lr if tc.lr else 0.0)
    if tc.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=lr, beta_1=tc.beta_1, beta_2=tc.beta_2, epsilon=tc.epsilon)
    return keras.optimizers.RMSprop(learning_rate=lr, rho=tc.rho, momentum=tc.momentum)


def compile_model(model, tc: TrainConfig, steps_per_epoch: int = 1, task_names=None):
    """Compile with the protocol loss/optimizer: per-task masked BCE on logits (classification) or squared error
    (regression), and the metrics of :func:`seq2acc.model.losses.task_metrics` for ``task_names`` (one per model
    output; None: ``task0``, ``task1``, ...)."""
    from seq2acc.model.losses import task_loss, task_metrics

    n_out = int(model.outputs[0].shape[-1])
    names = list(task_names) if task_names is not None else [f"task{i}" for i in range(n_out)]
    if len(names) != n_out:
        raise ValueError(f"{len(names)} task names for a model with {n_out} outputs")
    model.compile(optimizer=make_optimizer(tc, steps_per_epoch), loss=task_loss(tc.task),
                  metrics=task_metrics(tc.task, names))
    return model


def inference_copy(model):
    """An uncompiled copy of ``model`` with the same weights: what is saved and logged, so that a saved model loads
    with plain Keras (no optimizer state, no seq2acc loss or metric classes needed)."""
    import keras

    copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def seed_everything(seed: int, deterministic: bool = True) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def _balanced(labels: np.ndarray) -> dict:
    """{0: n / (2 n_neg), 1: n / (2 n_pos)} of one task's labelled entries."""
    n, pos = len(labels), float((labels > 0.5).sum())
    neg = n - pos
    return {0: n / (2 * neg) if neg else 1.0, 1: n / (2 * pos) if pos else 1.0}


def resolve_class_weight(tc: TrainConfig, labels: np.ndarray):
    """The class weights of ``train.class_weight`` for training labels ``labels`` ((n,) or (n, n_tasks)): None, one
    mapping {0: w0, 1: w1} (one task, or the same given weights for every task) or, ``balanced`` with several
    tasks, one mapping per task (each from that task's labelled entries)."""
    if tc.class_weight is None or tc.task != "classification":
        return None
    labels = np.asarray(labels)
    if tc.class_weight == "balanced":
        if labels.ndim == 1 or labels.shape[1] == 1:
            return _balanced(labels.reshape(-1))
        return [_balanced(col[_labelled(col)]) for col in labels.T]
    return dict(tc.class_weight)


def _labelled(y: np.ndarray) -> np.ndarray:
    from seq2acc.data.store import MISSING_LABEL

    return np.isfinite(y) & (y != MISSING_LABEL)


class _EpochLog:
    """Keras callback: per-epoch log lines, timing and an optional per-epoch hook (e.g. MLflow logging)."""

    def __new__(cls, *a, **k):
        import keras

        class Impl(keras.callbacks.Callback):
            def __init__(self, hook, total):
                super().__init__()
                self.hook, self.total, self.t0 = hook, total, None

            def on_epoch_begin(self, epoch, logs=None):
                self.t0 = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                logs = dict(logs or {})
                lr = self.model.optimizer.learning_rate
                try:
                    logs["lr"] = float(np.asarray(lr.numpy() if hasattr(lr, "numpy") else lr))
                except Exception:  # noqa: BLE001 - schedule objects
                    pass
                logs["epoch_seconds"] = time.perf_counter() - self.t0
                log.info("epoch %d/%d: %s", epoch + 1, self.total,
                         " ".join(f"{k}={v:.4g}" for k, v in logs.items() if isinstance(v, float)))
                if self.hook:
                    self.hook(epoch, logs)

        return Impl(*a, **k)


def fit(model, data: FoldData, tc: TrainConfig, context: int, epoch_hook=None, verbose: int = 0) -> dict:
    """Train ``model`` (built + compiled) on a fold; returns the history (one list per metric, plus best epoch)."""
    import keras

    weights = resolve_class_weight(tc, data.train.labels(0))
    train_ds = make_dataset(data.train, weights)
    valid_ds = make_dataset(data.valid)
    mode = "min" if tc.monitor == "val_loss" else "max"
    callbacks = [keras.callbacks.EarlyStopping(monitor=tc.monitor, mode=mode, patience=tc.patience,
                                               restore_best_weights=True, verbose=0),
                 _EpochLog(epoch_hook, tc.epochs),
                 # Keras's epoch number decides the training data of the epoch (fresh negatives, order, augmentation):
                 # Keras may draw from the generator before epoch 0 (building the model under a tf.distribute
                 # strategy), which would otherwise shift every epoch's data by one.
                 keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs=None: setattr(data.train, "epoch", epoch))]
    if tc.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor=tc.monitor, mode=mode, factor=tc.lr_factor,
                                                           patience=tc.lr_patience, min_lr=tc.min_lr, verbose=0))
    t0 = time.perf_counter()
    # No steps_per_epoch: Keras re-iterates the generator dataset each epoch (a fresh, seeded epoch of batches).
    hist = model.fit(train_ds, validation_data=valid_ds, epochs=tc.epochs, shuffle=False, callbacks=callbacks,
                     verbose=verbose)
    h = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    key = h.get(tc.monitor, [])
    best = int(np.argmin(key) if mode == "min" else np.argmax(key)) if key else 0
    h["best_epoch"] = best + 1
    h["epochs_run"] = len(h.get("loss", []))
    h["train_seconds"] = time.perf_counter() - t0
    h["class_weight"] = weights
    return h


def _entropy(labels: np.ndarray) -> float:
    q = float(np.clip(np.mean(labels), 1e-7, 1 - 1e-7))
    return float(-(q * np.log(q) + (1 - q) * np.log(1 - q)))


def constant_loss(labels: np.ndarray) -> float:
    """Binary cross-entropy of the best constant prediction, each task's positive rate: what 'learned nothing'
    scores. ``labels`` (n,) or (n, n_tasks); with several tasks the mean over labelled entries (the training loss's
    reduction) of each task's constant loss."""
    labels = np.asarray(labels)
    if labels.ndim == 1:
        return _entropy(labels)
    cols = [col[_labelled(col)] for col in labels.T]
    n = sum(len(c) for c in cols)
    return float(sum((len(c) / n) * _entropy(c) for c in cols if len(c)))


def constant_losses(labels: np.ndarray) -> list[float]:
    """:func:`constant_loss` of each task (column) of (n, n_tasks) labels, over its labelled entries."""
    return [_entropy(col[_labelled(col)]) if _labelled(col).any() else float("nan") for col in np.asarray(labels).T]


def learned_something(history: dict, valid_labels: np.ndarray, tc: TrainConfig, margin: float = 0.97) -> bool:
    """False when the best validation loss is no better than a constant predictor's (training collapsed); with
    several tasks the constant predictor predicts each task's own positive rate."""
    if tc.task != "classification" or not history.get("val_loss"):
        return True
    best = history["val_loss"][history["best_epoch"] - 1]
    return best < margin * constant_loss(valid_labels)


def flat_tasks(history: dict, valid_labels: np.ndarray, task_names) -> list[str]:
    """Tasks whose validation AUPRC at the best epoch (``val_auprc/<task>``) is no better than their validation
    positive rate (a random ranking): the tasks the model learned nothing about, even when others trained."""
    out = []
    best = history.get("best_epoch", 1) - 1
    for t, name in enumerate(task_names):
        key = f"val_auprc/{name}"
        col = np.asarray(valid_labels)[:, t]
        col = col[_labelled(col)]
        if key in history and len(col) and history[key][best] <= float(np.mean(col > 0.5)):
            out.append(name)
    return out


def build_and_fit(genome: Genome, data: FoldData, tc: TrainConfig, mc: dict, context: int, epoch_hook=None,
                  init_pwms: list | None = None):
    """Seed, build, compile and fit one model; returns (model, history).

    ``init_pwms``: log-odds matrices the first conv layer starts from (:func:`~seq2acc.model.zoo.init_first_filters`,
    each motif and its reverse complement; every attempt starts from them).

    If training collapses (best validation loss no better than predicting the positive rate, which small CNNs
    on small data occasionally do from an unlucky initialisation), it starts again from a new initialisation
    (seed + 1000 * attempt), up to ``train.restarts`` times; the data order stays the same.
    """
    valid_labels = data.valid.labels(0)  # (n, n_tasks)
    names = list(data.task_names)
    offset, attempts = 0, []
    for attempt in range(tc.restarts + 1):
        seed = tc.seed + 1000 * attempt

        def hook(epoch, logs, _off=offset, _a=attempt):
            if epoch_hook:
                epoch_hook(epoch + _off, dict(logs, attempt=float(_a)))

        seed_everything(seed, tc.deterministic)
        model = build_model(mc, input_length=context, n_tasks=len(names), seed=seed)
        if init_pwms:
            init_first_filters(model, init_pwms)
        compile_model(model, tc, steps_per_epoch=len(data.train), task_names=names)
        data.train.epoch = 0
        history = fit(model, data, tc, context, hook)
        ok = learned_something(history, valid_labels, tc)
        attempts.append({"seed": seed, "best_val_loss": history["val_loss"][history["best_epoch"] - 1],
                         "epochs_run": history["epochs_run"], "learned": ok})
        offset += history["epochs_run"]
        if ok or attempt == tc.restarts:
            break
        log.warning("training collapsed (best val_loss %.4f vs %.4f for a constant prediction): restarting from "
                    "a new initialisation (attempt %d of %d)", attempts[-1]["best_val_loss"],
                    constant_loss(valid_labels), attempt + 2, tc.restarts + 1)
    if not attempts[-1]["learned"]:
        log.warning("the model learned nothing after %d attempt(s): check the labels and data checks", len(attempts))
    if len(names) > 1:
        flat = flat_tasks(history, valid_labels, names)
        if flat:
            log.warning("no better than random on the validation data for task(s) %s (validation AUPRC at the best "
                        "epoch <= their positive rate): check their peaks and data checks", flat)
        attempts[-1]["flat_tasks"] = flat
    history["attempts"] = attempts
    history["seed"] = attempts[-1]["seed"]
    return model, history
