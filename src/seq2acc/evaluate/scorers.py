"""Streaming genome-wide prediction: a model's logit for every bin of a chromosome (protocol 3.3, notes 19-21).

Two scorers give the same numbers (max abs difference < 1e-5, tested):

- :class:`WindowScorer` -- generic, any model: one-hot encodes each ``context``-bp window and runs the whole model
  on batches of windows.
- :class:`SharedTrunkScorer` -- overlapping windows share most of their convolutions. The convolutional trunk
  (layers up to the one named ``trunk_out``, see :mod:`seq2acc.model.zoo`) runs ONCE over a chunk of the chromosome
  covering many consecutive windows; each window's head input is the slice of that trunk output starting at
  ``(window_start - chunk_start) / trunk_stride``. This is exact when the trunk is a chain of position-wise layers
  with "valid" padding and stride-1 convolutions whose total pooling factor (``trunk_stride``) divides the offset
  between windows (the grid stride), so pooling windows line up. :func:`shared_trunk_support` checks that (and a
  numerical probe confirms it on random sequence); :func:`make_scorer` falls back to window-by-window otherwise.

Memory is bounded whatever the chromosome length: sequence is fetched from the FASTA per chunk (never a
whole-chromosome one-hot, not even whole-chromosome codes), chunks hold at most ``chunk_windows`` windows
(``(chunk_windows - 1) * stride + context`` bp) and a chunk never spans a gap wider than one window.
Windows are given as context starts (``datasets.read_genomewide(...)[3].start``); results keep their order.
Reverse-complement averaging (``rc_average``) averages the logits of both strands.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from seq2acc.seq.encoding import onehot_codes, reverse_complement

log = logging.getLogger(__name__)

# Layers that act on each position independently (or are the identity at inference): allowed in a shared trunk.
_POSITIONWISE = {"Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Dropout", "SpatialDropout1D", "GaussianNoise",
                 "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Identity"}


class SharedTrunkNotApplicable(ValueError):
    """The model's trunk cannot be shared between overlapping windows (the reason says why)."""


# ----------------------------------------------------------------------------- chunking
def span_groups(starts: np.ndarray, context: int, max_windows: int, max_gap: int | None = None,
                modulus: int = 1):
    """Split SORTED window starts into consecutive groups ``(i, j)`` (slice ``starts[i:j]``) of at most
    ``max_windows`` windows, never spanning a gap between neighbours larger than ``max_gap`` (default:
    ``context``, i.e. windows that do not overlap start a new group) and -- with ``modulus`` -- only windows
    whose offset from the group's first start is a multiple of ``modulus``."""
    starts = np.asarray(starts, dtype=np.int64)
    n = len(starts)
    max_gap = context if max_gap is None else max_gap
    i = 0
    while i < n:
        j = i + 1
        first = starts[i]
        while j < n and j - i < max_windows and starts[j] - starts[j - 1] <= max_gap \
                and (starts[j] - first) % modulus == 0:
            j += 1
        yield i, j
        i = j


def _fetch(genome, chrom: str, start: int, end: int) -> np.ndarray:
    """Codes of [start, end); positions outside the chromosome are N (code 4)."""
    size = genome.sizes[chrom]
    a, b = max(start, 0), min(end, size)
    codes = np.full(end - start, 4, dtype=np.uint8)
    if b > a:
        codes[a - start:b - start] = genome.fetch_codes(chrom, a, b)
    return codes


def _sorted(starts):
    starts = np.asarray(starts, dtype=np.int64)
    order = np.argsort(starts, kind="stable")
    return starts[order], order


def _progress(total: int, desc: str, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="win", unit_scale=True, disable=None if progress else True,
                mininterval=1.0)


# ----------------------------------------------------------------------------- window-by-window
class WindowScorer:
    """Runs the whole model on batches of ``context``-bp windows (works for any model)."""

    method = "window"

    def __init__(self, model, context: int, batch_size: int = 256, rc_average: bool = False):
        import tensorflow as tf

        self.model, self.context, self.batch_size, self.rc_average = model, int(context), int(batch_size), rc_average
        in_len = model.inputs[0].shape[1]
        if in_len is not None and int(in_len) != self.context:
            from seq2acc.errors import Seq2AccError

            raise Seq2AccError(f"model {model.name} takes {in_len} bp inputs but the dataset context is {self.context} bp; "
                               "fix: evaluate with the dataset the model was trained on (dataset.context)")
        self.n_outputs = int(model.outputs[0].shape[-1])
        self._fn = tf.function(lambda x: model(x, training=False),
                               input_signature=[tf.TensorSpec((None, self.context, 4), tf.float32)])

    def _predict(self, x: np.ndarray) -> np.ndarray:
        out = np.asarray(self._fn(x), dtype=np.float32)
        if self.rc_average:
            out = (out + np.asarray(self._fn(np.ascontiguousarray(reverse_complement(x))), dtype=np.float32)) / 2
        return out

    def score(self, genome, chrom: str, starts, progress: bool = True) -> np.ndarray:
        """Logits (n, n_outputs) of the windows ``[s, s + context)`` for ``s`` in ``starts`` (any order)."""
        s, order = _sorted(starts)
        out = np.empty((len(s), self.n_outputs), dtype=np.float32)
        with _progress(len(s), f"{chrom} window", progress) as bar:
            for i, j in span_groups(s, self.context, self.batch_size):
                a = int(s[i])
                codes = _fetch(genome, chrom, a, int(s[j - 1]) + self.context)
                idx = (s[i:j] - a)[:, None] + np.arange(self.context)[None, :]
                out[i:j] = self._predict(onehot_codes(codes[idx]))
                bar.update(j - i)
        res = np.empty_like(out)
        res[order] = out
        return res


# ----------------------------------------------------------------------------- shared trunk
@dataclass
class TrunkPlan:
    layers: list  # the trunk's layers (input excluded), ending with ``trunk_out``
    stride: int  # product of pooling strides
    out_length: int  # trunk positions seen by the head for one window
    trunk: object  # keras.Model: the same layers from an input of any length, (1, L, 4) -> (1, Lt, C)


def _check_layer(lay) -> int:
    """The pooling factor a trunk layer contributes (1 for non-pooling layers); raises if it is not translation-
    equivariant with 'valid' geometry."""
    import keras

    kind = type(lay).__name__
    if isinstance(lay, keras.layers.Conv1D) and not isinstance(lay, keras.layers.Conv1DTranspose):
        if tuple(lay.strides) != (1,) or lay.padding != "valid" or lay.data_format != "channels_last":
            raise SharedTrunkNotApplicable(f"conv layer {lay.name!r} needs strides 1, 'valid' padding, channels_last "
                                           f"(has strides {lay.strides}, padding {lay.padding!r})")
    elif isinstance(lay, keras.layers.MaxPooling1D):
        if lay.padding != "valid" or tuple(lay.strides) != tuple(lay.pool_size):
            raise SharedTrunkNotApplicable(f"pooling layer {lay.name!r} needs 'valid' padding and strides == pool size")
        return int(lay.pool_size[0])
    elif isinstance(lay, (keras.layers.BatchNormalization, keras.layers.LayerNormalization)):
        if list(np.atleast_1d(lay.axis)) not in ([-1], [2]):
            raise SharedTrunkNotApplicable(f"normalisation {lay.name!r} must act on the channel axis only")
    elif isinstance(lay, keras.layers.Cropping1D):
        a, b = (int(v) for v in np.atleast_1d(lay.cropping)) if np.size(lay.cropping) == 2 else (lay.cropping,) * 2
        if a != b:
            raise SharedTrunkNotApplicable(f"cropping layer {lay.name!r} must crop both ends equally")
    elif kind not in _POSITIONWISE and kind not in ("Add", "Multiply", "Subtract", "Average", "Maximum", "Minimum"):
        raise SharedTrunkNotApplicable(f"trunk layer {lay.name!r} ({kind}) is not known to act position-wise")
    return 1


def shared_trunk_support(model, grid_stride: int) -> TrunkPlan:
    """Check that the trunk can be shared between windows ``grid_stride`` apart; raise
    :class:`SharedTrunkNotApplicable` with the reason otherwise.

    The trunk is every layer from the input to ``trunk_out``: a chain (small, Basset) or a graph of
    position-wise layers (the residual tower: dilated valid convolutions added to the symmetrically cropped
    input). Pooling must be on the path to ``trunk_out`` only, and its product must divide ``grid_stride``.
    """
    import keras

    names = [lay.name for lay in model.layers]
    if "trunk_out" not in names:
        raise SharedTrunkNotApplicable(f"model {model.name} has no layer named 'trunk_out'")
    if len(model.inputs) != 1:
        raise SharedTrunkNotApplicable("model has several inputs")
    fixed = keras.Model(model.inputs[0], model.get_layer("trunk_out").output)
    layers = [lay for lay in fixed.layers if not isinstance(lay, keras.layers.InputLayer)]
    stride = 1
    for lay in layers:
        stride *= _check_layer(lay)
    if grid_stride % stride:
        raise SharedTrunkNotApplicable(f"trunk pooling factor {stride} does not divide the grid stride {grid_stride} "
                                       "(windows would not line up with pooling boundaries)")
    # the same layers (same weights) traced from an input of any length: the fixed-length input check of the
    # model's own graph would reject a chromosome chunk
    inp = keras.Input((None, 4), name="chunk_onehot")
    trunk = keras.Model(inp, fixed._run_through_graph([inp], operation_fn=lambda op: op), name=f"{model.name}_trunk")
    return TrunkPlan(layers, stride, int(model.get_layer("trunk_out").output.shape[1]), trunk)


class SharedTrunkScorer:
    """Trunk once per chromosome chunk, head on each window's slice of the trunk output.

    ``chunk_windows`` bounds memory: one chunk is ``(chunk_windows - 1) * grid_stride + context`` bp of one-hot
    and its trunk output. ``verify`` compares against window-by-window scoring on random sequence at construction
    and raises :class:`SharedTrunkNotApplicable` on a mismatch (guards against layers that only look position-wise).
    """

    method = "shared_trunk"

    def __init__(self, model, context: int, grid_stride: int, chunk_windows: int = 2048, rc_average: bool = False,
                 verify: bool = True, head_batch: int = 4096):
        import keras
        import tensorflow as tf

        self.model, self.context, self.grid_stride = model, int(context), int(grid_stride)
        self.chunk_windows, self.rc_average, self.head_batch = int(chunk_windows), rc_average, int(head_batch)
        self.plan = shared_trunk_support(model, self.grid_stride)
        self.trunk = self.plan.trunk
        self.head = keras.Model(model.get_layer("trunk_out").output, model.outputs[0], name=f"{model.name}_head")
        self.n_outputs = int(model.outputs[0].shape[-1])
        T, s = self.plan.out_length, self.plan.stride

        def run(x, offsets):
            feats = self.trunk(x, training=False)[0]  # (Lt, C)
            idx = offsets[:, None] + tf.range(T, dtype=offsets.dtype)[None, :]
            return self.head(tf.gather(feats, idx), training=False)

        spec = (tf.TensorSpec((1, None, 4), tf.float32), tf.TensorSpec((None,), tf.int32))
        self._run = tf.function(run, input_signature=spec)
        self._s = s
        if verify:
            self._verify()

    def _chunk_logits(self, codes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Logits of the windows starting at ``offsets`` (bp, multiples of the trunk stride) of one chunk."""
        x = onehot_codes(codes)[None]
        out = np.empty((len(offsets), self.n_outputs), dtype=np.float32)
        rc = np.ascontiguousarray(reverse_complement(x)) if self.rc_average else None
        L = len(codes)
        for a in range(0, len(offsets), self.head_batch):
            off = offsets[a:a + self.head_batch]
            o = np.asarray(self._run(x, (off // self._s).astype(np.int32)), dtype=np.float32)
            if rc is not None:
                roff = (L - self.context - off) // self._s
                o = (o + np.asarray(self._run(rc, roff.astype(np.int32)), dtype=np.float32)) / 2
            out[a:a + self.head_batch] = o
        return out

    def score(self, genome, chrom: str, starts, progress: bool = True) -> np.ndarray:
        """Logits (n, n_outputs) of the windows ``[s, s + context)`` for ``s`` in ``starts`` (any order)."""
        s, order = _sorted(starts)
        out = np.empty((len(s), self.n_outputs), dtype=np.float32)
        with _progress(len(s), f"{chrom} shared-trunk", progress) as bar:
            for i, j in span_groups(s, self.context, self.chunk_windows, modulus=self._s):
                a = int(s[i])
                codes = _fetch(genome, chrom, a, int(s[j - 1]) + self.context)
                out[i:j] = self._chunk_logits(codes, s[i:j] - a)
                bar.update(j - i)
        res = np.empty_like(out)
        res[order] = out
        return res

    def _verify(self, n: int = 5, tol: float = 1e-4) -> None:
        rng = np.random.default_rng(0)
        codes = rng.integers(0, 4, size=(n - 1) * self.grid_stride + self.context).astype(np.uint8)
        codes[7:19] = 4  # an N run, as in real genomes
        offsets = np.arange(n, dtype=np.int64) * self.grid_stride
        shared = self._chunk_logits(codes, offsets)
        win = np.asarray(self.model(onehot_codes(codes[offsets[:, None] + np.arange(self.context)]), training=False))
        if self.rc_average:
            xr = reverse_complement(onehot_codes(codes[offsets[:, None] + np.arange(self.context)]))
            win = (win + np.asarray(self.model(np.ascontiguousarray(xr), training=False))) / 2
        diff = float(np.max(np.abs(shared - win)))
        if not diff <= tol * max(1.0, float(np.max(np.abs(win)))):
            raise SharedTrunkNotApplicable(f"shared-trunk check failed on random sequence (max abs diff {diff:.2e})")


def make_scorer(model, context: int, grid_stride: int, method: str = "auto", *, batch_size: int = 256,
                chunk_windows: int = 2048, rc_average: bool = False):
    """The fastest exact scorer: shared trunk when the architecture allows it (``method`` 'auto' or 'shared'),
    else window-by-window (logged with the reason). ``method='shared'`` raises when not applicable."""
    if method not in ("auto", "shared", "window"):
        from seq2acc.errors import ArgumentError

        raise ArgumentError("method", f"{method!r} is not a scoring method", "use auto, shared or window")
    if method != "window":
        try:
            return SharedTrunkScorer(model, context, grid_stride, chunk_windows=chunk_windows, rc_average=rc_average)
        except SharedTrunkNotApplicable as e:
            if method == "shared":
                from seq2acc.errors import Seq2AccError

                raise Seq2AccError(f"shared-trunk scoring is not possible for model {model.name}: {e}; "
                                   "fix: set evaluate.method to auto or window") from e
            log.info("shared-trunk scoring not applicable (%s): scoring window by window", e)
    return WindowScorer(model, context, batch_size=batch_size, rc_average=rc_average)


# ----------------------------------------------------------------------------- cost model (benchmarks, logs)
def layer_flops(model, input_length: int | None = None) -> list[tuple[str, int, float]]:
    """(layer name, output length, FLOPs per output position) of the Conv1D and Dense layers of a model,
    for one input of ``input_length`` bp (default: the model's). One multiply-add = 2 FLOPs."""
    import keras

    out = []
    for lay in model.layers:
        if isinstance(lay, keras.layers.Conv1D):
            cin = int(lay.input.shape[-1])
            per = 2.0 * int(lay.kernel_size[0]) * cin / int(getattr(lay, "groups", 1)) * int(lay.filters)
            out.append((lay.name, int(lay.output.shape[1]), per))
        elif isinstance(lay, keras.layers.Dense):
            out.append((lay.name, 1, 2.0 * int(lay.input.shape[-1]) * int(lay.units)))
    return out


def window_flops(model) -> float:
    """FLOPs of one forward pass of one window (convolutions and dense layers)."""
    return float(sum(n * per for _, n, per in layer_flops(model)))


def shared_trunk_flops(scorer: SharedTrunkScorer, n_windows: int) -> float:
    """FLOPs the shared-trunk scorer spends on ``n_windows`` consecutive grid windows (chunked as it does)."""
    import keras

    total = 0.0
    trunk_names = {lay.name for lay in scorer.plan.layers}
    head = [(nm, per) for nm, _, per in layer_flops(scorer.model) if nm not in trunk_names]
    left = n_windows
    while left > 0:
        w = min(left, scorer.chunk_windows)
        length = (w - 1) * scorer.grid_stride + scorer.context
        for lay in scorer.plan.layers:  # trunk over the chunk, layer by layer
            if isinstance(lay, keras.layers.Conv1D):
                k = (int(lay.kernel_size[0]) - 1) * int(lay.dilation_rate[0]) + 1
                length = length - k + 1
                total += length * 2.0 * int(lay.kernel_size[0]) * int(lay.input.shape[-1]) / int(
                    getattr(lay, "groups", 1)) * int(lay.filters)
            elif isinstance(lay, keras.layers.MaxPooling1D):
                length //= int(lay.pool_size[0])
        total += w * sum(per for _, per in head)
        left -= w
    return total * (2 if scorer.rc_average else 1)
