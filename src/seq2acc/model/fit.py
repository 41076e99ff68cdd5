"""Training one fold's model (protocol 3.2, notes 14-18): config validation, input, compile, fit.

- Loss: binary cross-entropy computed on LOGITS (``from_logits=True``; the models have no final sigmoid, note 16).
  The regression variant (``train.task: regression``, note 15) uses mean squared error on the same logits output.
- Optimizer: Adam (lr 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-8) or RMSprop (lr 0.002, rho 0.98, momentum 0).
- Up to ``train.epochs`` (20) epochs; early stopping on validation loss with the best weights restored.
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
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from seq2acc.data.store import dataset_path, read_genomewide
from seq2acc.errors import ParamsError
from seq2acc.data.folds import get_fold, load_folds
from seq2acc.io.fasta import Genome
from seq2acc.model.zoo import MODEL_NAMES, build_model, model_config, validate_config
from seq2acc.config import Params
from seq2acc.data.loader import BatchSource, fold_table

log = logging.getLogger(__name__)

OPTIMIZERS = ("adam", "rmsprop")
SCHEDULES = ("none", "plateau", "cosine")
TASKS = ("classification", "regression")
MONITORS = ("val_loss", "val_auprc")
VALID_SETS = ("examples", "genomewide")


@dataclass
class TrainConfig:
    """Validated ``train`` section of params.yaml (see the comments there for every knob)."""

    task: str = "classification"
    optimizer: str = "adam"
    lr: float = 1e-3
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    rho: float = 0.98
    momentum: float = 0.0
    epochs: int = 20
    patience: int = 3
    monitor: str = "val_loss"
    batch_size: int = 64
    lr_schedule: str = "none"
    lr_factor: float = 0.5
    lr_patience: int = 1
    min_lr: float = 1e-5
    class_weight: dict | None = None
    rc_augment: bool = True
    max_shift: int = 0
    genomewide_negatives: float = 0.0
    elsewhere_negatives: float = 0.0
    flank_negatives: float = 0.0
    flank_bins: int = 3
    valid_set: str = "examples"
    valid_batch_size: int = 512
    restarts: int = 2
    seed: int = 1234
    deterministic: bool = True
    folds: list = field(default_factory=lambda: list(range(10)))

    def to_dict(self) -> dict:
        return asdict(self)


def _class_weight(p: Params):
    cw = p.raw("train.class_weight", None)
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
    d = TrainConfig()
    g = p.get
    optimizer = g("train.optimizer", str, d.optimizer, choices=OPTIMIZERS)
    default_lr = 1e-3 if optimizer == "adam" else 2e-3
    folds = g("train.folds", list, d.folds)
    for f in folds:
        if isinstance(f, bool) or not isinstance(f, int) or f < 0:
            raise ParamsError("train.folds", f"{f!r} is not a fold number", "list fold numbers, e.g. [0, 1, 2]")
    cfg = TrainConfig(
        task=g("train.task", str, d.task, choices=TASKS),
        optimizer=optimizer,
        lr=g("train.lr", float, default_lr, gt=0, le=1),
        beta_1=g("train.beta_1", float, d.beta_1, ge=0, lt=1),
        beta_2=g("train.beta_2", float, d.beta_2, ge=0, lt=1),
        epsilon=g("train.epsilon", float, d.epsilon, gt=0),
        rho=g("train.rho", float, d.rho, ge=0, lt=1),
        momentum=g("train.momentum", float, d.momentum, ge=0, lt=1),
        epochs=g("train.epochs", int, d.epochs, ge=1),
        patience=g("train.patience", int, d.patience, ge=0),
        monitor=g("train.monitor", str, d.monitor, choices=MONITORS),
        batch_size=g("train.batch_size", int, d.batch_size, ge=1),
        lr_schedule=g("train.lr_schedule", str, d.lr_schedule, choices=SCHEDULES),
        lr_factor=g("train.lr_factor", float, d.lr_factor, gt=0, lt=1),
        lr_patience=g("train.lr_patience", int, d.lr_patience, ge=0),
        min_lr=g("train.min_lr", float, d.min_lr, ge=0),
        class_weight=_class_weight(p),
        rc_augment=g("train.rc_augment", bool, d.rc_augment),
        max_shift=g("train.max_shift", int, d.max_shift, ge=0),
        genomewide_negatives=g("train.genomewide_negatives", float, d.genomewide_negatives, ge=0),
        elsewhere_negatives=g("train.elsewhere_negatives", float, d.elsewhere_negatives, ge=0),
        flank_negatives=g("train.flank_negatives", float, d.flank_negatives, ge=0),
        flank_bins=g("dataset.negatives.flank_bins", int, d.flank_bins, ge=0),
        valid_set=g("train.valid_set", str, d.valid_set, choices=VALID_SETS),
        valid_batch_size=g("train.valid_batch_size", int, d.valid_batch_size, ge=1),
        restarts=g("train.restarts", int, d.restarts, ge=0),
        seed=g("train.seed", int, g("seed", int, d.seed)),
        deterministic=g("train.deterministic", bool, d.deterministic),
        folds=folds,
    )
    if cfg.task == "regression" and cfg.monitor == "val_auprc":
        raise ParamsError("train.monitor", "val_auprc needs train.task: classification", "use val_loss")
    return cfg


def model_params(p: Params) -> dict:
    """The ``model`` section (architecture name + overrides) as a full, validated config."""
    raw = p.raw("model", {}) or {}
    if not isinstance(raw, dict):
        raise ParamsError("model", "must be a mapping", "see params.yaml: model: {name: small, ...}")
    name = raw.get("name", "small")
    if name not in MODEL_NAMES:
        raise ParamsError("model.name", f"unknown model {name!r}", f"choose one of {', '.join(MODEL_NAMES)}", p.path)
    return model_config(raw)


def validate_params(p: Params) -> tuple[TrainConfig, dict, int]:
    """Everything checked before any data is read or a model is built: (train config, model config, input length)."""
    tc = train_config(p)
    context = p.get("dataset.context", int, 1000, gt=0)
    mc = model_params(p)
    validate_config(mc, context)
    max_shift_limit = (context - p.get("dataset.bin_size", int, 200, gt=0)) // 2
    if tc.max_shift > max_shift_limit:
        raise ParamsError("train.max_shift", f"{tc.max_shift} bp moves the labelled bin outside the input",
                          f"use at most {max_shift_limit} (a few tens of bp is typical)")
    return tc, mc, context


# ----------------------------------------------------------------------------- input
EXTRA_KINDS = ("random", "elsewhere", "flank")  # genome-wide negative pools (source codes 4, 5, 6)
_EXTRA_CODE = {"random": 4, "elsewhere": 5, "flank": 6}


class EpochSource:
    """Training batches of one fold: the fold's examples plus, each epoch, fresh samples of genome-wide negatives.

    ``extra`` is a list of ``(pool, n)``: ``n`` rows drawn without replacement from ``pool`` (a table in the
    example layout) every epoch. Deterministic: epoch ``e`` uses ``numpy.random.default_rng([seed, e, i])`` for the
    sample of pool ``i``, and ``BatchSource`` seeds the order and the augmentations by ``(seed, e)``.
    """

    def __init__(self, genome: Genome, examples: pd.DataFrame, extra: list | None, batch_size: int, seed: int,
                 rc_augment: bool, max_shift: int, context: int, shuffle: bool = True):
        self.genome, self.examples = genome, examples.reset_index(drop=True)
        self.extra = [(pool, min(int(n), len(pool))) for pool, n in (extra or []) if pool is not None and len(pool)
                      and int(n) > 0]
        self.kw = dict(batch_size=batch_size, shuffle=shuffle, rc_augment=rc_augment, max_shift=max_shift,
                       context=context)
        self.seed = int(seed)
        self.epoch = 0
        self.n = len(self.examples) + sum(n for _, n in self.extra)
        self.batch_size = batch_size

    def __len__(self):
        return int(math.ceil(self.n / self.batch_size))

    def table(self, epoch: int) -> pd.DataFrame:
        if not self.extra:
            return self.examples
        parts = [self.examples]
        for i, (pool, n) in enumerate(self.extra):
            rng = np.random.default_rng([self.seed, epoch, i + 1])
            parts.append(pool.iloc[np.sort(rng.choice(len(pool), size=n, replace=False))])
        return pd.concat(parts, ignore_index=True)

    def labels(self, epoch: int = 0) -> np.ndarray:
        return self.table(epoch).label.to_numpy(np.float32)

    def epoch_batches(self):
        # Count the epoch when it starts: Keras stops after len(self) batches (the dataset's cardinality) and
        # drops the generator unfinished, so code after the last yield would never run (same data every epoch).
        epoch, self.epoch = self.epoch, self.epoch + 1
        src = BatchSource(self.genome, self.table(epoch), seed=self.seed, **self.kw)
        src.epoch = epoch
        yield from src.epoch_batches()


def genomewide_table(data_dir, chroms) -> pd.DataFrame:
    """Every genome-wide bin (positive and negative) of ``chroms`` in the example-table layout (source 7)."""
    frames = []
    for c in chroms:
        chrom, size, spec, df = read_genomewide(dataset_path(data_dir, c))
        st = df.start.to_numpy(np.int64)
        frames.append(pd.DataFrame({"chrom": chrom, "start": st, "end": st + spec.context,
                                    "bin_start": df.bin_start.to_numpy(np.int64), "label": df.label.to_numpy(np.uint8),
                                    "source": np.uint8(7), "n_frac": df.n_frac.to_numpy(np.float32),
                                    "chrom_size": size}))
    return pd.concat(frames, ignore_index=True)


def genomewide_pools(data_dir, chroms, kinds=EXTRA_KINDS, elsewhere=None, flank_bins: int = 3) -> dict:
    """Negative genome-wide bins of ``chroms`` in the example-table layout, by kind.

    - ``random``: every negative bin;
    - ``elsewhere``: negative bins covered more than ``positive_overlap`` by the 'elsewhere' peaks (``elsewhere`` is
      an :class:`~seq2acc.io.bed.Intervals`; the same rule that labels positives);
    - ``flank``: negative bins within ``flank_bins`` grid steps of a positive bin.
    """
    cols = ["chrom", "start", "end", "bin_start", "label", "source", "n_frac", "chrom_size"]
    frames = {k: [] for k in kinds}
    for c in chroms:
        chrom, size, spec, df = read_genomewide(dataset_path(data_dir, c))
        bins = df.bin_start.to_numpy(np.int64)
        neg = df.label.to_numpy() == 0
        masks = {"random": neg}
        if "elsewhere" in kinds:
            es = elsewhere.chrom(chrom) if elsewhere is not None else (np.zeros(0, np.int64), np.zeros(0, np.int64))
            masks["elsewhere"] = neg & spec.labels(bins, *es).astype(bool)
        if "flank" in kinds:
            pos = np.sort(bins[~neg])
            if len(pos):
                i = np.clip(np.searchsorted(pos, bins), 1, len(pos)) - 1
                j = np.clip(i + 1, 0, len(pos) - 1)
                dist = np.minimum(np.abs(bins - pos[i]), np.abs(bins - pos[j]))
                masks["flank"] = neg & (dist <= flank_bins * spec.stride)
            else:
                masks["flank"] = np.zeros(len(bins), bool)
        for k in kinds:
            sub = df[masks[k]]
            frames[k].append(pd.DataFrame({"chrom": chrom, "start": sub.start.to_numpy(np.int64),
                                           "end": sub.start.to_numpy(np.int64) + spec.context,
                                           "bin_start": sub.bin_start.to_numpy(np.int64), "label": np.uint8(0),
                                           "source": np.uint8(_EXTRA_CODE[k]), "n_frac": sub.n_frac.to_numpy(np.float32),
                                           "chrom_size": size}))
    return {k: pd.concat(v, ignore_index=True) if v else pd.DataFrame(columns=cols) for k, v in frames.items()}


def make_tf_dataset(source, context: int, weights: dict | None = None):
    """``tf.data`` wrapper (prefetched) of a source with ``epoch_batches``; adds per-example class weights."""
    import tensorflow as tf

    sig = (tf.TensorSpec((None, context, 4), tf.float32), tf.TensorSpec((None, 1), tf.float32))
    gen = source.epoch_batches
    if weights:
        w0, w1 = float(weights.get(0, 1.0)), float(weights.get(1, 1.0))
        sig = sig + (tf.TensorSpec((None,), tf.float32),)

        def gen():  # noqa: F811 - weighted variant
            for x, y in source.epoch_batches():
                yield x, y, np.where(y[:, 0] > 0.5, w1, w0).astype(np.float32)

    ds = tf.data.Dataset.from_generator(gen, output_signature=sig)
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(source)))  # Keras then knows the steps per epoch
    return ds.prefetch(tf.data.AUTOTUNE)


@dataclass
class FoldData:
    fold: dict
    train: EpochSource
    valid: EpochSource
    n_train_examples: int
    n_valid_examples: int


def fold_data(genome: Genome, data_dir, folds_path, k: int, tc: TrainConfig, context: int,
              elsewhere=None) -> FoldData:
    """Training and validation sources of fold ``k`` (only its train / valid chromosomes are read).

    ``elsewhere``: the merged 'elsewhere' peaks (:class:`~seq2acc.io.bed.Intervals`), needed when
    ``train.elsewhere_negatives`` > 0.
    """
    n_folds = len(load_folds(folds_path))
    if not 0 <= k < n_folds:
        raise ParamsError("train.folds", f"fold {k} does not exist: {folds_path} has {n_folds} folds",
                          f"list folds 0..{n_folds - 1} in train.folds (or raise folds.n_folds)")
    fold = get_fold(folds_path, k)
    tr, va = fold_table(data_dir, fold["train"]), fold_table(data_dir, fold["valid"])
    if not len(tr) or not (tr.label == 1).any():
        raise ParamsError("train.folds", f"fold {k} has no positive training examples (chromosomes {fold['train']})",
                          "check the peaks file and dataset.chromosomes")
    if not len(va):
        raise ParamsError("train.folds", f"fold {k} has no validation examples ({fold['valid']})",
                          "use fewer folds (folds.n_folds) so each bucket has examples")
    rates = {"random": tc.genomewide_negatives, "elsewhere": tc.elsewhere_negatives, "flank": tc.flank_negatives}
    kinds = tuple(k for k in EXTRA_KINDS if rates[k] > 0)
    if "elsewhere" in kinds and elsewhere is None:
        raise ParamsError("train.elsewhere_negatives", "needs the 'elsewhere' peaks (data/peaks/elsewhere.bed)",
                          "run the peaks stage, or set train.elsewhere_negatives: 0")
    if kinds:
        pool_tr = genomewide_pools(data_dir, fold["train"], kinds, elsewhere, tc.flank_bins)
        pool_va = genomewide_pools(data_dir, fold["valid"], kinds, elsewhere, tc.flank_bins)
    n_tr, n_va = int((tr.label == 1).sum()), int((va.label == 1).sum())
    extra_tr = [(pool_tr[k], round(rates[k] * n_tr)) for k in kinds]
    extra_va = [(pool_va[k], round(rates[k] * n_va)) for k in kinds]
    train = EpochSource(genome, tr, extra_tr, tc.batch_size, tc.seed, tc.rc_augment, tc.max_shift, context)
    # Validation: fixed set (same sample every epoch), no augmentation, same composition as training.
    if tc.valid_set == "genomewide":
        # Every genome-wide bin of the validation chromosomes: val_loss / val_auprc are then the genome-wide numbers
        # the model is judged on (positive rate ~2%, not the sampled ~50%).
        valid_table = genomewide_table(data_dir, fold["valid"])
    else:
        valid_table = EpochSource(genome, va, extra_va, tc.batch_size, tc.seed + 1, False, 0, context).table(0)
    valid = EpochSource(genome, valid_table, None, tc.valid_batch_size, tc.seed, False, 0, context, shuffle=False)
    return FoldData(fold, train, valid, train.n, valid.n)


def load_elsewhere(p: Params, tc: TrainConfig):
    """The merged 'elsewhere' peaks written by the peaks stage, when ``train.elsewhere_negatives`` needs them."""
    if tc.elsewhere_negatives <= 0:
        return None
    from seq2acc.io.bed import read_bed3

    path = Path(p.get("peaks.out_dir", str, "data/peaks")) / "elsewhere.bed"
    if not path.exists():
        raise ParamsError("train.elsewhere_negatives", f"{path} does not exist",
                          "run `dvc repro peaks`, or set train.elsewhere_negatives: 0")
    return read_bed3(path)


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


def compile_model(model, tc: TrainConfig, steps_per_epoch: int = 1):
    """Compile with the protocol loss/optimizer. Classification: BCE on logits (``from_logits=True``)."""
    import keras

    if tc.task == "classification":
        loss = keras.losses.BinaryCrossentropy(from_logits=True)  # the model outputs logits, no sigmoid layer
        # 1000 thresholds: fine enough for genome-wide positive rates of ~1% (the default 200 is coarse there)
        metrics = [keras.metrics.AUC(curve="PR", from_logits=True, num_thresholds=1000, name="auprc"),
                   keras.metrics.AUC(curve="ROC", from_logits=True, num_thresholds=1000, name="auroc")]
    else:
        loss = keras.losses.MeanSquaredError()  # regression variant (note 15): logits are the prediction
        metrics = [keras.metrics.MeanAbsoluteError(name="mae")]
    model.compile(optimizer=make_optimizer(tc, steps_per_epoch), loss=loss, metrics=metrics)
    return model


def seed_everything(seed: int, deterministic: bool = True) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def resolve_class_weight(tc: TrainConfig, labels: np.ndarray) -> dict | None:
    if tc.class_weight is None or tc.task != "classification":
        return None
    if tc.class_weight == "balanced":
        n, pos = len(labels), float((labels > 0.5).sum())
        neg = n - pos
        return {0: n / (2 * neg) if neg else 1.0, 1: n / (2 * pos) if pos else 1.0}
    return dict(tc.class_weight)


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
    train_ds = make_tf_dataset(data.train, context, weights)
    valid_ds = make_tf_dataset(data.valid, context)
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


def constant_loss(labels: np.ndarray) -> float:
    """Binary cross-entropy of the best constant prediction (the positive rate): what 'learned nothing' scores."""
    q = float(np.clip(np.mean(labels), 1e-7, 1 - 1e-7))
    return float(-(q * np.log(q) + (1 - q) * np.log(1 - q)))


def learned_something(history: dict, valid_labels: np.ndarray, tc: TrainConfig, margin: float = 0.97) -> bool:
    """False when the best validation loss is no better than a constant predictor's (training collapsed)."""
    if tc.task != "classification" or not history.get("val_loss"):
        return True
    best = history["val_loss"][history["best_epoch"] - 1]
    return best < margin * constant_loss(valid_labels)


def build_and_fit(genome: Genome, data: FoldData, tc: TrainConfig, mc: dict, context: int, epoch_hook=None):
    """Seed, build, compile and fit one model; returns (model, history).

    If training collapses (best validation loss no better than predicting the positive rate, which small CNNs
    on small data occasionally do from an unlucky initialisation), it starts again from a new initialisation
    (seed + 1000 * attempt), up to ``train.restarts`` times; the data order stays the same.
    """
    valid_labels = data.valid.labels(0)
    offset, attempts = 0, []
    for attempt in range(tc.restarts + 1):
        seed = tc.seed + 1000 * attempt

        def hook(epoch, logs, _off=offset, _a=attempt):
            if epoch_hook:
                epoch_hook(epoch + _off, dict(logs, attempt=float(_a)))

        seed_everything(seed, tc.deterministic)
        model = build_model(mc, input_length=context, seed=seed)
        compile_model(model, tc, steps_per_epoch=len(data.train))
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
    history["attempts"] = attempts
    history["seed"] = attempts[-1]["seed"]
    return model, history
