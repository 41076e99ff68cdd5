"""Classification metrics for genome-wide evaluation (protocol 3.3, notes 19-21): loss, AUPRC, AUROC, curves.

AUPRC (scikit-learn ``average_precision_score``) is the primary metric: with ~2% positive bins genome-wide,
AUROC is inflated by the mass of easy negatives (note 21). The positive rate is the AUPRC of a random model,
so every AUPRC is reported next to it. Scores may be logits (the loss is then binary cross-entropy on logits)
or any other ranking score (baselines: no loss). Degenerate inputs (no positive or no negative) give ``None``
metrics rather than NaN, so metric files stay valid JSON.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from seq2acc.data.bins import SOURCES


def bce_with_logits(labels, logits) -> float:
    """Mean binary cross-entropy of labels given logits, computed stably: mean(softplus(z) - y*z)."""
    y = np.asarray(labels, dtype=np.float64).ravel()
    z = np.asarray(logits, dtype=np.float64).ravel()
    return float(np.mean(np.logaddexp(0.0, z) - y * z)) if len(y) else None


def _clean(y, s):
    y = np.asarray(y).ravel().astype(np.int8)
    s = np.asarray(s, dtype=np.float64).ravel()
    if len(y) != len(s):
        raise ValueError(f"{len(y)} labels but {len(s)} scores")
    if np.isnan(s).any():
        raise ValueError(f"{int(np.isnan(s).sum())} of {len(s)} scores are NaN")
    fin = np.isfinite(s)
    if not fin.all():  # e.g. -inf PWM score of a window without a full motif site: ranks lowest
        lo, hi = (float(s[fin].min()), float(s[fin].max())) if fin.any() else (0.0, 0.0)
        s = np.where(s == -np.inf, lo - 1.0, np.where(s == np.inf, hi + 1.0, s))
    return y, s


def binary_metrics(labels, scores, is_logit: bool = True) -> dict:
    """n_bins, n_positive, positive_rate (= AUPRC of a random model), auprc, auroc and (for logits) loss.

    Parameters
    ----------
    labels : array_like, any shape (flattened), 0/1
        Binary labels (cast to int8, so give 0/1 integers or booleans).
    scores : array_like, same number of elements
        Logits, or any ranking score (higher = more likely positive). ``-inf``/``+inf`` are allowed (they rank
        lowest/highest: replaced by the finite minimum - 1 / maximum + 1); NaN is not.
    is_logit : bool, default True
        ``scores`` are logits: also report the mean binary cross-entropy on logits.

    Returns
    -------
    metrics : dict
        ``n_bins`` (int), ``n_positive`` (int), ``positive_rate`` (float), ``auprc`` (float, scikit-learn
        average precision, the primary metric), ``auroc`` (float) and ``loss`` (float, mean BCE of the logits).
        Values are ``None`` rather than NaN when undefined: auprc/auroc without both classes, loss when
        ``is_logit`` is False, positive_rate and loss for empty input (JSON-safe).

    Raises
    ------
    ValueError
        ``labels`` and ``scores`` differ in length, or a score is NaN.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, s = _clean(labels, scores)
    n, npos = len(y), int(y.sum())
    both = 0 < npos < n
    return {
        "n_bins": int(n),
        "n_positive": npos,
        "positive_rate": float(npos / n) if n else None,
        "auprc": float(average_precision_score(y, s)) if both else None,
        "auroc": float(roc_auc_score(y, s)) if both else None,
        "loss": bce_with_logits(y, s) if (is_logit and n) else None,
    }


def auprc_by_negative_type(labels, scores, source, other_task: bool = False) -> dict:
    """AUPRC of positives against each kind of sampled negative (``source`` codes of :data:`binning.SOURCES`):
    flank (the bins next to peaks: the hardest), random and elsewhere (open/bound in other sets). With
    ``other_task`` (one task of several) also ``other_task``: examples drawn as positives of another task only
    (``source`` positive, label 0 for this task)."""
    from sklearn.metrics import average_precision_score

    y, s = _clean(labels, scores)
    src = np.asarray(source).ravel()
    pos = y == 1
    out = {}
    kinds = [(code, name) for code, name in enumerate(SOURCES) if name != "positive"]
    if other_task:
        kinds.append((SOURCES.index("positive"), "other_task"))
    for code, name in kinds:
        neg = (src == code) & (y == 0)
        sel = pos | neg
        ok = pos.any() and neg.any()
        out[name] = {"n_negative": int(neg.sum()), "positive_rate": float(pos.sum() / sel.sum()) if sel.any() else None,
                     "auprc": float(average_precision_score(y[sel], s[sel])) if ok else None}
    return out


def pr_curve(labels, scores, max_points: int = 1000) -> pd.DataFrame:
    """Precision-recall curve (recall ascending) thinned to at most ``max_points`` points (ends kept)."""
    from sklearn.metrics import precision_recall_curve

    y, s = _clean(labels, scores)
    if not (0 < y.sum() < len(y)):
        return pd.DataFrame({"recall": [], "precision": [], "threshold": []})
    p, r, t = precision_recall_curve(y, s)
    df = pd.DataFrame({"recall": r[:-1][::-1], "precision": p[:-1][::-1], "threshold": t[::-1]})
    df = pd.concat([pd.DataFrame({"recall": [0.0], "precision": [p[-1]], "threshold": [np.inf]}), df], ignore_index=True)
    return _thin(df, max_points)


def roc_curve(labels, scores, max_points: int = 1000) -> pd.DataFrame:
    """ROC curve (fpr ascending) thinned to at most ``max_points`` points (ends kept)."""
    from sklearn.metrics import roc_curve as _roc

    y, s = _clean(labels, scores)
    if not (0 < y.sum() < len(y)):
        return pd.DataFrame({"fpr": [], "tpr": [], "threshold": []})
    f, t, th = _roc(y, s, drop_intermediate=True)
    return _thin(pd.DataFrame({"fpr": f, "tpr": t, "threshold": th}), max_points)


def _thin(df: pd.DataFrame, max_points: int) -> pd.DataFrame:
    if len(df) <= max_points:
        return df.reset_index(drop=True)
    idx = np.unique(np.linspace(0, len(df) - 1, max_points).round().astype(int))
    return df.iloc[idx].reset_index(drop=True)


def interpolated_precision(labels, scores, recall_grid) -> np.ndarray:
    """Interpolated precision (best precision at recall >= r) on a common recall grid, to overlay models."""
    from sklearn.metrics import precision_recall_curve

    y, s = _clean(labels, scores)
    if not (0 < y.sum() < len(y)):
        return np.full(len(recall_grid), np.nan)
    p, r, _ = precision_recall_curve(y, s)
    order = np.argsort(r, kind="stable")
    r, p = r[order], p[order]
    env = np.maximum.accumulate(p[::-1])[::-1]  # env[i] = max precision at recall >= r[i]
    i = np.searchsorted(r, np.asarray(recall_grid), side="left")
    return env[np.clip(i, 0, len(env) - 1)]


def tpr_at(labels, scores, fpr_grid) -> np.ndarray:
    """ROC curve's TPR linearly interpolated on a common FPR grid."""
    from sklearn.metrics import roc_curve as _roc

    y, s = _clean(labels, scores)
    if not (0 < y.sum() < len(y)):
        return np.full(len(fpr_grid), np.nan)
    f, t, _ = _roc(y, s, drop_intermediate=False)
    return np.interp(fpr_grid, f, t)


def plot_curves(series: dict, path, title: str = "") -> None:
    """PR and ROC panels for several named (labels, scores) pairs -> PNG (matplotlib, Agg).
    The dashed line in the PR panel is the positive rate (a random model)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve
    from sklearn.metrics import roc_curve as _roc

    from seq2acc.io.atomic import atomic_path

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.6))
    rate = None
    for name, (y, s) in series.items():
        y, s = _clean(y, s)
        if not (0 < y.sum() < len(y)):
            continue
        m = binary_metrics(y, s, is_logit=False)
        p, r, _ = precision_recall_curve(y, s)
        ax1.step(r, p, where="post", label=f"{name} (AUPRC {m['auprc']:.3f})", lw=1.3)
        f, t, _ = _roc(y, s)
        ax2.plot(f, t, label=f"{name} (AUROC {m['auroc']:.3f})", lw=1.3)
        rate = m["positive_rate"]
    if rate is not None:
        ax1.axhline(rate, ls="--", c="grey", lw=0.8, label=f"random ({rate:.3f})")
    ax2.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    ax1.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title="precision-recall")
    ax2.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.02), title="ROC")
    for ax in (ax1, ax2):
        ax.legend(fontsize=8, loc="best")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
