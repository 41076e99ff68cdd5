"""Base-pair contribution scores and their dinucleotide-shuffled empirical null (protocol 3.4 step 1, notes 22-26).

Methods (no integrated gradients, note 26):

- ``deepshap``: DeepLIFT with the rescale rule, averaged over references = DeepSHAP. The backward pass is
  ``shap.DeepExplainer``'s own (its TensorFlow gradient overrides for ReLU, max-pooling, ...), driven in
  batches of many (sequence, reference) pairs instead of one sequence at a time: the explainer's graph pairs
  row i of the first half of a batch with row i of the second half, so any number of pairs can share a call.
  References are dinucleotide-shuffled versions of each input (:func:`seq2acc.seq.shuffle.dinuc_shuffle`, note 25).
  From the multipliers ``m`` of each pair: ``contrib = mean_r m * (x - ref)`` (exactly shap's values, so per
  sequence they sum to ``f(x) - mean_r f(ref)``: completeness) and the hypothetical contribution of base b,
  ``hyp[:, b] = mean_r (m[:, b] - sum_c m[:, c] * ref[:, c])`` (what TF-MoDISco needs).
- ``grad_x_input``: ``contrib = grad * x``, ``hyp = grad``.
- ``ism``: in-silico mutagenesis, every base to every other base: ``delta[i, b] = f(x with base b at i) - f(x)``;
  ``hyp = delta - mean_b delta`` (per position) and ``contrib = hyp * x`` = minus the mean effect of mutating
  the actual base away.

``contrib`` is (n, L, 4) and non-zero only at each position's actual base (its per-position value is the
contribution of that base). At N positions (all-zero one-hot rows) there is no actual base: a ``deepshap``
contribution there (a reference had a base where the input has none) is spread equally over the four
channels, so that sums stay complete. The outputs are model logits (``models.py`` contract), for ``task``.

Memory is bounded for any number of sequences: work proceeds in chunks of ``batch_size`` model rows.
"""

from __future__ import annotations

import logging
import warnings
import weakref

import numpy as np

from seq2acc.errors import ArgumentError
from seq2acc.model.predict import CompiledForward, check_onehot
from seq2acc.seq.shuffle import dinuc_shuffle

log = logging.getLogger(__name__)

METHODS = ("deepshap", "grad_x_input", "ism")
REF_STREAM, NULL_STREAM, NULL_REF_STREAM = 0, 1, 2


def seq_rng(seed: int, stream: int, index: int) -> np.random.Generator:
    """Random stream of one sequence: independent of how sequences are batched or ordered."""
    return np.random.default_rng([int(seed), int(stream), int(index)])


def shuffled_references(onehot: np.ndarray, n_refs: int, seed: int = 0, stream: int = REF_STREAM,
                        index_offset: int = 0) -> np.ndarray:
    """(n, n_refs, L, 4) dinucleotide shuffles of each sequence; sequence i uses ``seq_rng(seed, stream, offset+i)``."""
    out = np.empty((len(onehot), n_refs) + onehot.shape[1:], dtype=np.float32)
    for i, x in enumerate(onehot):
        out[i] = dinuc_shuffle(x, seq_rng(seed, stream, index_offset + i), n=n_refs)
    return out


# ----------------------------------------------------------------------------- model wrappers


def _reduce_max_rule(explainer, op, *grads):
    """DeepLIFT rule for a max *reduction* (``GlobalMaxPooling1D``; TF op ``Max``), after shap's own
    ``MaxPool`` rule: with ``c = max(f(x), f(ref))``, ``c - f(ref)`` flows to the input's arg-max and
    ``f(x) - c`` to the reference's, so the multipliers sum to ``f(x) - f(ref)`` (completeness).
    shap 0.51 treats ``Max`` as an element-wise non-linearity, which fails on the reduction's shapes."""
    import tensorflow as tf

    x, r = tf.split(op.inputs[0], 2)
    xout, rout = tf.split(op.outputs[0], 2)
    cross = tf.maximum(xout, rout)
    diffs = tf.concat([cross - rout, xout - cross], 0)
    if op.type.startswith("shap_"):  # as shap's own handlers do, before calling TF's gradient
        op.type = op.type[5:]
    g = explainer.orig_grads[op.type](op, grads[0] * diffs)
    xg, rg = tf.split(g[0], 2)
    delta = x - r
    m = tf.where(tf.abs(delta) < 1e-7, tf.zeros_like(delta), (xg + rg) / delta)
    return [tf.concat([m, m], 0)] + [None] * (len(op.inputs) - 1)


class _Handlers:
    """Use our rules while shap runs (restored afterwards: shap's global table is left as found): ``Max`` (above),
    and the linear re-arrangements TensorFlow wraps dilated convolutions in (``SpaceToBatchND``,
    ``BatchToSpaceND``: the residual model's tower), which shap 0.51 has no rule for; a linear op's DeepLIFT
    multipliers are its gradient (shap's ``passthrough``)."""

    def __enter__(self):
        from shap.explainers._deep import deep_tf

        self.table = deep_tf.op_handlers
        rules = {"Max": _reduce_max_rule, "SpaceToBatchND": deep_tf.passthrough, "BatchToSpaceND": deep_tf.passthrough}
        self.saved = {k: self.table.get(k) for k in rules}
        self.table.update(rules)
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                self.table.pop(k, None)
            else:
                self.table[k] = v


_EXPLAINERS = weakref.WeakKeyDictionary()  # model -> {task: DeepShap}: traced graphs are reused across calls


def deepshap_for(model, task: int = 0) -> "DeepShap":
    """The (cached) :class:`DeepShap` of a model and task: its traced backward graphs survive between calls."""
    try:
        per_model = _EXPLAINERS.setdefault(model, {})
    except TypeError:  # not weak-referenceable
        return DeepShap(model, task)
    if task not in per_model:
        per_model[task] = DeepShap(model, task)
    return per_model[task]


class DeepShap:
    """shap.DeepExplainer's rescale-rule backward pass, fed batches of paired (input, reference) rows."""

    def __init__(self, model, task: int = 0):
        import shap

        shape = model.input_shape
        dummy = np.zeros((1,) + tuple(shape[1:]), dtype=np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.explainer = shap.DeepExplainer(model, dummy).explainer
        self.fn = self.explainer.phi_symbolic(task)

    def multipliers(self, x_rows: np.ndarray, ref_rows: np.ndarray) -> np.ndarray:
        """DeepLIFT multipliers of the logit w.r.t. the input, row i of ``x_rows`` against row i of ``ref_rows``."""
        joint = np.concatenate([x_rows, ref_rows]).astype(np.float32)
        with warnings.catch_warnings(), _Handlers():
            warnings.simplefilter("ignore")
            g = self.explainer.run(self.fn, self.explainer.model_inputs, [joint])
        return np.asarray(g[0])[len(x_rows):]


# ----------------------------------------------------------------------------- contribution scores
def contributions(model, onehot, method: str = "deepshap", n_refs: int = 20, seed: int = 0,
                  batch_size: int = 80, task: int = 0, refs: np.ndarray | None = None, index_offset: int = 0,
                  ref_stream: int = REF_STREAM, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Contribution scores of (n, L, 4) one-hot for the model's logit ``task``.

    Returns ``(contrib, hypothetical)``, both (n, L, 4) float32 (see the module docstring for definitions).
    ``batch_size`` bounds the model rows per call (deepshap: sequence x reference pairs, twice; ism: mutants).
    ``refs`` (n, n_refs, L, 4) overrides the dinucleotide-shuffled references (deepshap only); otherwise
    sequence i's references come from ``seq_rng(seed, ref_stream, index_offset + i)``, so results do not
    depend on batching.

    Parameters
    ----------
    model : keras.Model
        A single-input seq2acc model: one-hot (n, L, 4) -> logits (n, n_tasks).
    onehot : array_like, shape (n, L, 4) or (L, 4)
        A,C,G,T one-hot (N = all-zero row), cast to float32; ``L`` must be the model's input length. A single
        (L, 4) sequence is treated as n = 1.
    method : {"deepshap", "grad_x_input", "ism"}, default "deepshap"
        DeepSHAP (DeepLIFT rescale rule over shuffled references), gradient x input, or in-silico mutagenesis.
    n_refs : int, default 20
        Dinucleotide-shuffled references per sequence (deepshap; ignored when ``refs`` is given).
    seed : int, default 0
        Seed of the references (deepshap).
    batch_size : int, default 80
        Model rows per call, as above (deepshap uses at least one sequence, i.e. ``2 * n_refs`` rows, per call).
    task : int, default 0
        Output column whose logit is explained.
    refs : array_like, shape (n, n_refs, L, 4), optional
        Explicit references (deepshap only).
    index_offset : int, default 0
        Index of the first sequence in a larger set (reference seeds; pass it when scoring a set in chunks).
    ref_stream : int, default REF_STREAM (0)
        Random stream of the references (:func:`null_contributions` uses its own).
    progress : bool, default False
        Show a tqdm progress bar.

    Returns
    -------
    contrib : ndarray, shape (n, L, 4), float32
        Actual-base contributions to the logit: non-zero only in the column of each position's base. At N rows:
        deepshap spreads the position's contribution equally over the four columns (so sums stay complete);
        grad_x_input and ism give 0. For deepshap each sequence's sum is ``f(x) - mean_r f(ref)``.
    hypothetical : ndarray, shape (n, L, 4), float32
        Hypothetical contribution of every base at every position (deepshap: from the multipliers; grad_x_input:
        the gradient; ism: the mutation effect minus its per-position mean), the input TF-MoDISco needs.

    Raises
    ------
    seq2acc.errors.ArgumentError
        Unknown ``method``, ``n_refs < 1`` (deepshap without ``refs``), ``L`` different from the model's input
        length, or a ``task`` the model does not have.
    ValueError
        ``onehot`` is not (n, L, 4) / (L, 4), ``refs`` has the wrong shape, or the model has several inputs.
    """
    if method not in METHODS:
        raise ArgumentError("method", f"{method!r} is not a method", f"use one of {', '.join(METHODS)}")
    x = check_onehot(model, onehot, task)
    if method == "deepshap":
        return _deepshap(model, x, n_refs, seed, batch_size, task, refs, index_offset, ref_stream, progress)
    if method == "grad_x_input":
        return _grad_x_input(model, x, batch_size, task, progress)
    return _ism(model, x, batch_size, task, progress)


def _deepshap(model, x, n_refs, seed, batch_size, task, refs, index_offset, ref_stream, progress):
    from tqdm.auto import tqdm

    if refs is None and n_refs < 1:
        raise ArgumentError("n_refs", f"{n_refs} references", "use at least 1 (protocol default 20)")
    if refs is not None:
        refs = np.asarray(refs, dtype=np.float32)
        if refs.ndim != 4 or refs.shape[0] != len(x) or refs.shape[2:] != x.shape[1:]:
            raise ValueError(f"refs must be (n, n_refs, L, 4) = ({len(x)}, r, {x.shape[1]}, 4), got {refs.shape}")
        n_refs = refs.shape[1]
    ds = deepshap_for(model, task)
    # sequences per call; the last chunk is padded to the same shape (a new shape would re-trace shap's graph)
    per_call = max(1, min(batch_size // (2 * n_refs), len(x)))
    contrib = np.empty(x.shape, dtype=np.float32)
    hyp = np.empty(x.shape, dtype=np.float32)
    for i in tqdm(range(0, len(x), per_call), desc="DeepSHAP", disable=not progress, unit="chunk"):
        xs = x[i:i + per_call]
        s = len(xs)
        r = refs[i:i + s] if refs is not None else shuffled_references(xs, n_refs, seed, ref_stream, index_offset + i)
        if s < per_call:  # fixed shape: pad with copies (their results are dropped)
            pad = per_call - s
            xs = np.concatenate([xs, np.repeat(xs[-1:], pad, 0)])
            r = np.concatenate([r, np.repeat(r[-1:], pad, 0)])
        xr = np.repeat(xs, n_refs, axis=0)
        rr = r.reshape((-1,) + x.shape[1:])
        m = ds.multipliers(xr, rr).astype(np.float64).reshape(r.shape)  # (s, R, L, 4)
        r64 = r.astype(np.float64)
        phi = (m * (xs[:, None].astype(np.float64) - r64)).mean(1)  # (s, L, 4) shap values
        h = (m - (m * r64).sum(-1, keepdims=True)).mean(1)
        pos = phi.sum(-1, keepdims=True)  # per-position contribution
        is_n = xs.sum(-1, keepdims=True) == 0
        c = np.where(is_n, pos / 4.0, pos * xs)
        contrib[i:i + s] = c[:s]
        hyp[i:i + s] = h[:s]
    return contrib, hyp


def _grad_x_input(model, x, batch_size, task, progress):
    import tensorflow as tf
    from tqdm.auto import tqdm

    @tf.function(reduce_retracing=True)
    def grad(xb):
        with tf.GradientTape() as tape:
            tape.watch(xb)
            out = tf.reshape(model(xb, training=False), [tf.shape(xb)[0], -1])[:, task]
        return tape.gradient(out, xb)

    g = np.empty(x.shape, dtype=np.float32)
    for i in tqdm(range(0, len(x), batch_size), desc="grad x input", disable=not progress, unit="batch"):
        xb = x[i:i + batch_size]
        n = len(xb)
        if n < batch_size and len(x) > batch_size:
            xb = np.concatenate([xb, np.zeros((batch_size - n,) + x.shape[1:], np.float32)])
        g[i:i + n] = np.asarray(grad(tf.constant(xb)))[:n]
    return (g * x).astype(np.float32), g


def ism_deltas(model, x: np.ndarray, batch_size: int = 80, task: int = 0, progress: bool = False) -> np.ndarray:
    """(n, L, 4): logit change when each position is set to each base (0 at the actual base)."""
    from tqdm.auto import tqdm

    n, L, _ = x.shape
    fwd = CompiledForward(model, task, batch_size)
    base = fwd(x)
    delta = np.zeros((n, L, 4), dtype=np.float64)
    eye = np.eye(4, dtype=np.float32)
    pos_per_batch = max(1, batch_size // 4)
    total = n * -(-L // pos_per_batch)
    with tqdm(total=total, desc="ISM", disable=not progress, unit="batch") as bar:
        for s in range(n):
            for p0 in range(0, L, pos_per_batch):
                pos = np.arange(p0, min(L, p0 + pos_per_batch))
                mut = np.repeat(x[s:s + 1], 4 * len(pos), axis=0)  # rows: (position, base)
                mut[np.arange(len(mut)), np.repeat(pos, 4)] = np.tile(eye, (len(pos), 1))
                delta[s, pos] = (fwd(mut) - base[s]).reshape(len(pos), 4)
                bar.update()
    is_ref = x.astype(bool)
    delta[is_ref] = 0.0  # exact zero, no float noise
    return delta


def _ism(model, x, batch_size, task, progress):
    d = ism_deltas(model, x, batch_size, task, progress)
    hyp = d - d.mean(-1, keepdims=True)
    return (hyp * x).astype(np.float32), hyp.astype(np.float32)


# ----------------------------------------------------------------------------- empirical null (note 25)
def null_contributions(model, onehot, n_shuffles: int = 1, method: str = "deepshap", n_refs: int = 20,
                       seed: int = 0, batch_size: int = 80, task: int = 0, index_offset: int = 0,
                       progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Contributions of dinucleotide-shuffled versions of each sequence (their own shuffled references).

    Returns ``(null_onehot, null_contrib)``: (n, n_shuffles, L, 4) each. Null sequence j of sequence i is drawn
    from ``seq_rng(seed, NULL_STREAM, index_offset + i)``; its references from a separate stream
    (``NULL_REF_STREAM``, index ``(index_offset + i) * n_shuffles + j``), so results do not depend on batching.
    This is the empirical null of :func:`seq2acc.interpret.null.null_test` (protocol note 25).

    Parameters
    ----------
    model : keras.Model
        A single-input seq2acc model: one-hot (n, L, 4) -> logits (n, n_tasks).
    onehot : array_like, shape (n, L, 4) or (L, 4)
        The observed sequences (A,C,G,T one-hot, N = all-zero row); ``L`` = the model's input length.
    n_shuffles : int, default 1
        Null (shuffled) sequences per observed sequence; must be >= 1.
    method, n_refs, seed, batch_size, task, progress
        As in :func:`contributions` (the null uses the same method as the observed scores should).
    index_offset : int, default 0
        Index of the first sequence in a larger set (pass it when processing a set in chunks).

    Returns
    -------
    null_onehot : ndarray, shape (n, n_shuffles, L, 4), float32
        The dinucleotide-shuffled sequences (N rows stay all-zero).
    null_contrib : ndarray, shape (n, n_shuffles, L, 4), float32
        Their actual-base contributions (as ``contrib`` of :func:`contributions`; hypothetical ones are not kept).

    Raises
    ------
    seq2acc.errors.ArgumentError
        As :func:`contributions` (bad method, n_refs, length or task).
    ValueError
        Bad ``onehot`` shape, or ``n_shuffles < 1``.
    """
    x = check_onehot(model, onehot, task)
    null_x = shuffled_references(x, n_shuffles, seed, NULL_STREAM, index_offset)
    flat = null_x.reshape((-1,) + x.shape[1:])
    c, _ = contributions(model, flat, method, n_refs, seed, batch_size, task, index_offset=index_offset * n_shuffles,
                         ref_stream=NULL_REF_STREAM, progress=progress)
    return null_x, c.reshape(null_x.shape)

