"""Per-task losses and metrics with a label mask (issue 16): one output per task, a missing label never counts.

Labels are ``(batch, n_tasks)``; an entry equal to :data:`~seq2acc.data.store.MISSING_LABEL` (255) or NaN (a signal
task where its track has no value) is *no label*: weight 0 in the loss and in every metric, whatever the model
predicts there. The model outputs logits ``(batch, n_tasks)`` (no final activation, note 16).

- :class:`TaskLoss`: an elementwise loss of :data:`ELEMENTWISE` (``bce``: binary cross-entropy on logits, the
  classification loss; ``mse``: squared error, the regression variant) averaged over the *labelled* entries of the
  batch (each weighted by its sample weight, e.g. the class weights: one per example ``(batch,)`` or one per entry
  ``(batch, n_tasks)``). With every entry labelled this is the mean over tasks of each task's mean loss; with one
  task it is exactly Keras's ``BinaryCrossentropy(from_logits=True)`` / ``MeanSquaredError()`` (same operations in
  the same order: ``tests/test_training.py``). A new per-task loss (Poisson, ...) is one more entry of
  :data:`ELEMENTWISE`; the mask and the reduction stay.
- :class:`TaskAUC`: Keras's ``AUC`` on logits over the labelled entries: of one task (``task=i``), or the mean over
  tasks of each task's AUC (``task=None`` with several tasks: Keras's ``multi_label`` AUC, one curve per task).
- :class:`TaskMeanAbsoluteError`: the regression metric, over labelled entries.

The classes are registered Keras serialisables, but the trained model is saved without its compile state
(:func:`seq2acc.model.fit.inference_copy`), so a saved model loads with plain Keras, without seq2acc.
"""

from __future__ import annotations

import keras
from keras import ops

from seq2acc.data.store import MISSING_LABEL
from seq2acc.errors import ArgumentError

ELEMENTWISE = {
    "bce": lambda y, z: ops.binary_crossentropy(y, z, from_logits=True),  # binary cross-entropy on logits
    "mse": lambda y, z: ops.square(z - y),  # squared error (regression on the same logits output)
}


def label_mask(y_true):
    """Boolean mask of the labelled entries: not :data:`MISSING_LABEL`, not NaN."""
    return ops.logical_and(ops.not_equal(y_true, MISSING_LABEL), ops.logical_not(ops.isnan(y_true)))


def _entry_weights(valid, sample_weight, dtype):
    """Per-entry weights: 1 where labelled, 0 where not, times the sample weights ((batch,) or (batch, n_tasks))."""
    w = ops.cast(valid, dtype)
    if sample_weight is not None:
        sw = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
        if len(sw.shape) == len(w.shape) - 1:
            sw = ops.expand_dims(sw, -1)
        w = w * sw
    return w


@keras.saving.register_keras_serializable(package="seq2acc")
class TaskLoss(keras.losses.Loss):
    """Elementwise loss ``kind`` (a key of :data:`ELEMENTWISE`) averaged over the labelled entries of the batch.

    ``call`` returns per-entry losses, 0 where there is no label and scaled by ``entries / labelled entries``, so
    that Keras's own reduction (``sum_over_batch_size``, sample weights, distribution strategies) gives the mean over
    labelled entries. A batch without any label has loss 0."""

    def __init__(self, kind: str = "bce", name: str | None = None, reduction="sum_over_batch_size", dtype=None):
        if kind not in ELEMENTWISE:
            raise ArgumentError("kind", f"{kind!r} is not a per-task loss", f"use one of {', '.join(ELEMENTWISE)}")
        super().__init__(name=name or f"task_{kind}", reduction=reduction, dtype=dtype)
        self.kind = kind

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:  # one weight per example (batch,): it weighs each of the example's entries
            sample_weight = ops.convert_to_tensor(sample_weight)
            if len(sample_weight.shape) == 1 and len(ops.shape(y_pred)) == 2:
                sample_weight = ops.expand_dims(sample_weight, -1)
        return super().__call__(y_true, y_pred, sample_weight)

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        if len(y_true.shape) == len(y_pred.shape) - 1:  # (batch,) labels of a one-output model
            y_true = ops.expand_dims(y_true, -1)
        valid = label_mask(y_true)
        losses = ELEMENTWISE[self.kind](ops.where(valid, y_true, ops.zeros_like(y_true)), y_pred)
        m = ops.cast(valid, y_pred.dtype)
        total = ops.cast(ops.size(m), y_pred.dtype)
        scale = ops.divide_no_nan(total, ops.sum(m))
        return losses * ops.where(valid, scale, ops.zeros_like(scale))

    def get_config(self):
        return {**super().get_config(), "kind": self.kind}


def _select(y_true, y_pred, sample_weight, task):
    """Column ``task`` of labels, logits and (per-entry) sample weights; everything when ``task`` is None."""
    if task is None:
        return y_true, y_pred, sample_weight
    t = int(task)
    y_true, y_pred = y_true[:, t:t + 1], y_pred[:, t:t + 1]
    if sample_weight is not None and len(ops.shape(sample_weight)) == 2:
        sample_weight = sample_weight[:, t:t + 1]
    return y_true, y_pred, sample_weight


@keras.saving.register_keras_serializable(package="seq2acc")
class TaskAUC(keras.metrics.AUC):
    """AUC (``curve`` PR or ROC, logits in, 1000 thresholds) over the labelled entries of task ``task``; with
    ``task=None`` the mean over the ``n_tasks`` tasks of each task's AUC (one task: its AUC)."""

    def __init__(self, curve: str = "PR", task: int | None = None, n_tasks: int = 1, name: str | None = None,
                 num_thresholds: int = 1000, **kw):
        multi = task is None and int(n_tasks) > 1
        for k in ("multi_label", "num_labels", "from_logits"):
            kw.pop(k, None)  # set here (a saved config carries them)
        # 1000 thresholds: fine enough for genome-wide positive rates of ~1% (Keras's default 200 is coarse there)
        super().__init__(curve=curve, from_logits=True, num_thresholds=num_thresholds, multi_label=multi,
                         num_labels=int(n_tasks) if multi else None, name=name, **kw)
        self.task, self.n_tasks = task, int(n_tasks)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        if len(y_true.shape) == len(y_pred.shape) - 1:
            y_true = ops.expand_dims(y_true, -1)
        y_true, y_pred, sample_weight = _select(y_true, y_pred, sample_weight, self.task)
        valid = label_mask(y_true)
        w = _entry_weights(valid, sample_weight, y_pred.dtype)
        return super().update_state(ops.where(valid, y_true, ops.zeros_like(y_true)), y_pred, sample_weight=w)

    def get_config(self):
        return {**super().get_config(), "task": self.task, "n_tasks": self.n_tasks}


@keras.saving.register_keras_serializable(package="seq2acc")
class TaskMeanAbsoluteError(keras.metrics.Mean):
    """Mean absolute error of the logits over the labelled entries (of task ``task``; all tasks when None)."""

    def __init__(self, task: int | None = None, name: str = "mae", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.task = task

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        if len(y_true.shape) == len(y_pred.shape) - 1:
            y_true = ops.expand_dims(y_true, -1)
        y_true, y_pred, sample_weight = _select(y_true, y_pred, sample_weight, self.task)
        valid = label_mask(y_true)
        err = ops.abs(ops.where(valid, y_true, ops.zeros_like(y_true)) - y_pred)
        return super().update_state(err, sample_weight=_entry_weights(valid, sample_weight, y_pred.dtype))

    def get_config(self):
        return {**super().get_config(), "task": self.task}


def task_loss(task: str) -> TaskLoss:
    """The training loss of ``train.task``: classification = masked BCE on logits, regression = masked MSE."""
    return TaskLoss("bce" if task == "classification" else "mse")


def task_metrics(task: str, task_names) -> list:
    """Compiled metrics of ``train.task`` for the tasks ``task_names`` (model output order).

    Classification: ``auprc`` and ``auroc`` (one task: its AUC; several: the mean over tasks of each task's AUC) and,
    with several tasks, ``auprc/<task>`` per task (Keras logs ``val_auprc/<task>`` for the validation data).
    Regression: ``mae`` (and ``mae/<task>`` per task)."""
    names = list(task_names)
    n = len(names)
    if task == "classification":
        out = [TaskAUC("PR", None, n, name="auprc"), TaskAUC("ROC", None, n, name="auroc")]
        if n > 1:
            out += [TaskAUC("PR", t, n, name=f"auprc/{name}") for t, name in enumerate(names)]
        return out
    out = [TaskMeanAbsoluteError(None, name="mae")]
    if n > 1:
        out += [TaskMeanAbsoluteError(t, name=f"mae/{name}") for t, name in enumerate(names)]
    return out
