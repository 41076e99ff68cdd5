"""The one predict primitive: logits of a trained model for one-hot input, optionally averaged over both strands.

Every model maps one-hot ``(n, L, 4)`` to one logit per task ``(n, n_tasks)`` (no final sigmoid, protocol note 16).
Forward passes run through one compiled ``tf.function`` per (model, task, batch size) with a fixed batch shape
(the last batch is zero-padded), so repeated calls never retrace. A binding site reads the same on either
strand; ``rc_average=True`` averages the logits of a window and of its reverse complement (logits, not
probabilities: ``sigmoid(mean logit)`` is the probability). Genome-wide scoring of whole chromosomes uses the
shared-trunk scorers of :mod:`seq2acc.evaluate.scorers` instead (same numbers, far less work).
"""

from __future__ import annotations

import numpy as np

from seq2acc.errors import ArgumentError
from seq2acc.seq.encoding import reverse_complement


def check_onehot(model, onehot: np.ndarray, task: int):
    x = np.asarray(onehot, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[-1] != 4:
        raise ValueError(f"expected one-hot (n, L, 4), got shape {x.shape}")
    shape = model.input_shape
    if isinstance(shape, list):
        raise ValueError("attribution supports single-input models")
    if shape[1] is not None and shape[1] != x.shape[1]:
        raise ArgumentError("onehot", f"sequences are {x.shape[1]} bp but the model takes {shape[1]} bp",
                            "use sequences of the model's input length")
    n_out = int(np.prod(model.output_shape[1:])) if len(model.output_shape) > 1 else 1
    if not 0 <= task < n_out:
        raise ArgumentError("task", f"task {task} does not exist (the model has {n_out} outputs)",
                            f"use 0..{n_out - 1}")
    return x


class CompiledForward:
    """Compiled logits of one task (or all: ``task=None``), fixed batch shape (no retracing), padded last batch;
    float64 results (the model's float32 values, exactly)."""

    def __init__(self, model, task: int | None, batch_size: int):
        import tensorflow as tf

        self.batch_size = batch_size
        self.n_out = int(np.prod(model.output_shape[1:])) if len(model.output_shape) > 1 else 1
        self.task = task
        if task is None:
            self.fn = tf.function(lambda x: tf.reshape(model(x, training=False), [tf.shape(x)[0], -1]),
                                  reduce_retracing=True)
        else:
            self.fn = tf.function(lambda x: tf.reshape(model(x, training=False), [tf.shape(x)[0], -1])[:, task],
                                  reduce_retracing=True)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = np.empty((len(x),) if self.task is not None else (len(x), self.n_out), dtype=np.float64)
        b = self.batch_size
        for i in range(0, len(x), b):
            chunk = x[i:i + b]
            n = len(chunk)
            if n < b:
                chunk = np.concatenate([chunk, np.zeros((b - n,) + chunk.shape[1:], chunk.dtype)])
            out[i:i + n] = np.asarray(self.fn(chunk))[:n]
        return out


def predict_logits(model, onehot, task: int | None = None, rc_average: bool = False,
                   batch_size: int = 256) -> np.ndarray:
    """Logits of a model for one-hot sequences.

    Parameters
    ----------
    model : keras.Model
        A seq2acc model: one-hot ``(n, L, 4)`` -> logits ``(n, n_tasks)``.
    onehot : array_like, shape (n, L, 4) or (L, 4)
        A,C,G,T one-hot (N = all-zero row); ``L`` must be the model's input length.
    task : int or None
        One output column (returns shape ``(n,)``) or None for all (shape ``(n, n_tasks)``).
    rc_average : bool
        Average each window's logit with its reverse complement's.
    batch_size : int
        Rows per forward pass.

    Returns
    -------
    numpy.ndarray of float64, shape (n,) or (n, n_tasks)
    """
    x = check_onehot(model, onehot, 0 if task is None else task)
    fwd = CompiledForward(model, task, min(batch_size, max(len(x), 1)))
    y = fwd(x)
    if rc_average:
        y = 0.5 * (y + fwd(np.ascontiguousarray(reverse_complement(x))))
    return y
