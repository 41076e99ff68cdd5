"""Predictions of a trained model on one-hot input, optionally averaged over both DNA strands.

A binding site reads the same on either strand, so the model's logit for a window and for its reverse
complement should agree; averaging the two (``rc_average=True``) removes the strand noise a model trained on
finite data still has. Logits (not probabilities) are averaged: ``sigmoid(mean logit)`` is the probability.
"""

from __future__ import annotations

import numpy as np

from seq2acc.seq.encoding import reverse_complement


def _forward(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    out = []
    for i in range(0, len(x), batch_size):
        out.append(np.asarray(model(x[i:i + batch_size], training=False)))
    if not out:
        return np.zeros((0,) + tuple(model.output_shape[1:]), np.float32)
    return np.concatenate(out).astype(np.float32)


def predict_logits(model, x: np.ndarray, rc_average: bool = True, batch_size: int = 512) -> np.ndarray:
    """Logits ``(n, n_tasks)`` for one-hot ``x`` ``(n, L, 4)``; with ``rc_average`` the mean of both strands."""
    x = np.asarray(x, dtype=np.float32)
    y = _forward(model, x, batch_size)
    if rc_average:
        y = 0.5 * (y + _forward(model, np.ascontiguousarray(reverse_complement(x)), batch_size))
    return y
