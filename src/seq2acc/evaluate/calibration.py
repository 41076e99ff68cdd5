"""Per-fold calibration of logits, so that scores of different fold models are comparable when pooled.

Each fold's model (and each fold's k-mer baseline) is fitted separately, so its logits live on their own scale: one
fold's logit 2 may be another's logit 5. Per-fold AUPRC/AUROC only rank bins within a fold and do not notice, but
pooling every held-out bin into one genome-wide ranking does (the pooled AUPRC drops below the per-fold mean). The
fix is a monotone map per fold, fitted on bins the fold's model never trained on and that are not its test bins:
the genome-wide bins of the fold's VALIDATION chromosomes.

Methods (``evaluate.calibration``)
- ``platt``: logistic regression ``label ~ sigmoid(a * logit + b)``, unregularised, fitted by maximum likelihood
  (L-BFGS on the mean binary cross-entropy, analytic gradient). ``a`` must be positive (a monotone increasing map);
  a fit with ``a <= 0`` (the model ranks the validation bins worse than random) falls back to the identity with a
  warning.
- ``temperature``: the same with ``b = 0`` (only the scale ``a = 1 / T``).
- ``none``: the identity (``a = 1, b = 0``).

A validation set without both classes (no positive or no negative bin) cannot be fitted: the identity is used with
a warning, and the reason is recorded in the result's ``fallback`` (a pipeline over many folds should not stop
because one fold's validation chromosomes hold no peak; the recorded fallback says it happened).

Everything here is numpy/scipy on 1-D arrays; a calibration is a plain JSON-able dict.
"""

from __future__ import annotations

import logging

import numpy as np

from seq2acc.errors import ArgumentError

log = logging.getLogger(__name__)

METHODS = ("platt", "temperature", "none")


def _bce(y: np.ndarray, z: np.ndarray) -> float:
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def _clean(logits, labels) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(logits, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    if len(z) != len(y):
        raise ArgumentError("labels", f"{len(y)} labels but {len(z)} logits", "give one label per logit")
    if not np.all(np.isfinite(z)):
        raise ArgumentError("logits", f"{int((~np.isfinite(z)).sum())} of {len(z)} logits are not finite",
                            "calibrate finite logits (CNN or k-mer scores, not PWM bits with -inf)")
    if len(y) and not np.all((y == 0) | (y == 1)):
        raise ArgumentError("labels", "labels must be 0 or 1", "give binary labels")
    return z, y


def identity(method: str = "none", n_bins: int = 0, n_positive: int = 0, loss: float | None = None,
             fallback: str | None = None) -> dict:
    """The identity calibration (``a = 1, b = 0``) in the format of :func:`fit_calibration`."""
    return {"method": method, "a": 1.0, "b": 0.0, "n_bins": int(n_bins), "n_positive": int(n_positive),
            "val_loss_before": loss, "val_loss_after": loss, "fallback": fallback}


def fit_calibration(logits, labels, method: str) -> dict:
    """Fit a monotone map ``a * logit + b`` of ``logits`` to the binary ``labels`` (the fold's validation bins).

    Parameters
    ----------
    logits : array_like, 1-D
        Finite logits of the bins (a model's or the k-mer baseline's raw scores).
    labels : array_like, 1-D, 0/1
        The bins' labels.
    method : {'platt', 'temperature', 'none'}
        See the module docstring.

    Returns
    -------
    calibration : dict
        ``method``, ``a`` (> 0), ``b``, ``n_bins``, ``n_positive``, ``val_loss_before`` / ``val_loss_after`` (mean
        binary cross-entropy of the raw / calibrated logits on these bins; None for no bins) and ``fallback``
        (None, or why the identity was used instead of a fit: one class only, or a fitted ``a <= 0``).

    Raises
    ------
    ArgumentError
        Unknown ``method``, lengths differ, non-finite logits or non-binary labels.
    """
    if method not in METHODS:
        raise ArgumentError("method", f"{method!r} is not a calibration method", f"use one of {', '.join(METHODS)}")
    z, y = _clean(logits, labels)
    n, npos = len(y), int(y.sum())
    before = _bce(y, z) if n else None
    if method == "none":
        return identity("none", n, npos, before)
    if not 0 < npos < n:
        why = f"the {n} validation bins hold {'no positive' if npos == 0 else 'no negative'} bin"
        log.warning("%s calibration not fitted: %s; using the identity (uncalibrated logits)", method, why)
        return identity(method, n, npos, before, fallback=why)
    from scipy.optimize import minimize
    from scipy.special import expit

    def loss_grad(theta):
        a, b = (theta[0], theta[1]) if method == "platt" else (theta[0], 0.0)
        u = a * z + b
        r = expit(u) - y  # d loss / d u
        g = np.array([np.mean(r * z), np.mean(r)]) if method == "platt" else np.array([np.mean(r * z)])
        return _bce(y, u), g

    x0 = np.array([1.0, 0.0]) if method == "platt" else np.array([1.0])
    res = minimize(loss_grad, x0, jac=True, method="L-BFGS-B", options={"maxiter": 1000, "gtol": 1e-10})
    a = float(res.x[0])
    b = float(res.x[1]) if method == "platt" else 0.0
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 0:
        why = (f"the fitted slope a = {a:.4g} is not positive (the logits rank the validation bins no better than "
               "random)")
        log.warning("%s calibration not used: %s; using the identity (uncalibrated logits)", method, why)
        return identity(method, n, npos, before, fallback=why)
    return {"method": method, "a": a, "b": b, "n_bins": n, "n_positive": npos, "val_loss_before": before,
            "val_loss_after": _bce(y, a * z + b), "fallback": None}


def apply_calibration(logits, cal: dict | None) -> np.ndarray:
    """Calibrated logits ``a * logits + b`` (float64; ``cal`` None = identity). Monotone increasing (``a > 0``), so
    any ranking metric (AUPRC, AUROC) of one fold is unchanged; ``sigmoid`` of the result is the calibrated
    probability. ``-inf``/``+inf`` stay as they are."""
    z = np.asarray(logits, dtype=np.float64)
    if cal is None:
        return z
    a, b = float(cal["a"]), float(cal["b"])
    if not a > 0:
        raise ArgumentError("cal", f"slope a = {a} must be positive (a monotone map)", "refit the calibration")
    return a * z + b


def mean_calibrated(per_fold: dict, calibration: dict | None) -> np.ndarray:
    """Mean over folds of each fold's calibrated logits: ``per_fold`` fold -> logits, ``calibration`` fold -> cal
    (a fold missing from it, or ``calibration`` None, stays raw). What a fold ensemble predicts (float64)."""
    cal = calibration or {}
    return np.mean([apply_calibration(v, cal.get(k)) for k, v in per_fold.items()], axis=0)

