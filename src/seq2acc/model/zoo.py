"""Model zoo (protocol 3.2, notes 14-16). Every model maps one-hot (L, 4) to ONE LOGIT per task.

Contract relied on by training, evaluation (shared-trunk scoring) and attribution:
- output: logits, no final activation (classification losses are built with ``from_logits=True``; a
  probability is ``sigmoid(logit)``). The regression variant is the same network with MSE loss (note 15).
- the convolutional trunk ends in a layer named ``trunk_out``; everything after it is the position-aware head
  (Flatten + Dense). Trunk layers use "valid" padding; their total pooling factor is ``trunk_stride(model)``.
"""

from __future__ import annotations

from typing import Any

from seq2acc.errors import ArgumentError

MODEL_NAMES = ("basset", "basset_p50", "residual", "residual_pooled", "small")


def _keras():
    import keras

    return keras


NORMS = ("none", "batch", "layer")
ACTIVATIONS = ("relu", "exponential")


def _defaults(name: str) -> dict[str, Any]:
    # no residual tower unless the architecture has one; groups = 1: every conv layer sees all channels
    tower = {"dilated_layers": 0, "dilated_width": 3, "tower_pool": 1, "groups": 1}
    if name in ("basset", "basset_p50"):  # Kelley et al. 2016, Genome Research 26:990
        # basset_p50: the same layers with pooling 2/5/5 (product 50 divides the 50 bp grid stride, so genome-wide
        # scoring can share the trunk between overlapping windows; Basset's 3/4/4 = 48 cannot)
        return {"conv_filters": [300, 200, 200], "conv_widths": [19, 11, 7],
                "pool_sizes": [3, 4, 4] if name == "basset" else [2, 5, 5],
                "norm": "batch", "first_activation": "relu", "dense_units": [1000, 1000], "dropout": 0.3,
                "conv_dropout": 0.0, "l2": 0.0, **tower}
    if name == "small":
        # Chosen by measured genome-wide AUPRC (docs/training.md, "Model quality"): 32 motif detectors of 19 bp,
        # max-pooled to 50 bp resolution (pool 50 divides the 50 bp grid stride: shared-trunk scoring works), and a
        # linear position-aware read-out (no hidden dense layer); L2 keeps the detectors sharp on little data.
        return {"conv_filters": [32], "conv_widths": [19], "pool_sizes": [50],
                "norm": "none", "first_activation": "relu", "dense_units": [], "dropout": 0.0,
                "conv_dropout": 0.0, "l2": 1e-3, **tower}
    if name == "residual":
        # BPNet/Basenji family: motif detectors, then a tower of dilated residual convolutions (dilation 2, 4, 8, ...:
        # each layer sees pairs of motifs twice as far apart: spacing and combinations), pooled to 50 bp and read
        # out by position (a bin is told from its flanks).
        return {"conv_filters": [64], "conv_widths": [19], "pool_sizes": [50],
                "norm": "none", "first_activation": "relu", "dense_units": [], "dropout": 0.0,
                "conv_dropout": 0.0, "l2": 1e-3, "dilated_layers": 4, "dilated_width": 3, "tower_pool": 1, "groups": 1}
    if name == "residual_pooled":
        # Basenji's order: motif detectors max-pooled to 10 bp first, then the dilated residual tower at 10 bp
        # resolution (dilation 2/4/8/16 of width 3: a 610 bp receptive field for a tenth of the bp-resolution
        # tower's cost), pooled again to 50 bp (10 x 5 divides the grid stride) and read out by position.
        return {"conv_filters": [64], "conv_widths": [19], "pool_sizes": [5],
                "norm": "none", "first_activation": "relu", "dense_units": [], "dropout": 0.0,
                "conv_dropout": 0.0, "l2": 1e-3, "dilated_layers": 4, "dilated_width": 3, "tower_pool": 10, "groups": 1}
    raise ArgumentError("name", f"unknown model {name!r}", f"choose one of {', '.join(MODEL_NAMES)}")


def model_config(cfg: dict | None) -> dict[str, Any]:
    """Full model config: the named architecture's defaults overridden by ``cfg`` (params.yaml `model`).

    ``None`` values keep the default. The legacy boolean ``batch_norm`` maps onto ``norm`` ("batch"/"none").
    """
    cfg = dict(cfg or {})
    name = cfg.pop("name", "small")
    if not isinstance(name, str):
        raise ArgumentError("name", f"{name!r} is not a model name", f"choose one of {', '.join(MODEL_NAMES)}")
    out = _defaults(name)
    if "batch_norm" in cfg:
        bn = cfg.pop("batch_norm")
        if bn is not None and cfg.get("norm") is None:
            cfg["norm"] = "batch" if bn else "none"
    unknown = sorted(set(cfg) - set(out))
    if unknown:
        raise ArgumentError(unknown[0], "is not a model setting",
                            f"remove it; known settings: name, {', '.join(sorted(out))}")
    for k, v in cfg.items():
        if v is not None:
            out[k] = v
    out["name"] = name
    return out


def _int_list(cfg: dict, key: str, allow_empty: bool = False) -> list[int]:
    val = cfg[key]
    if isinstance(val, (int, float)) and not isinstance(val, bool):
        val = [val]
    if not isinstance(val, (list, tuple)) or (not val and not allow_empty):
        raise ArgumentError(key, f"{val!r} must be a {'possibly empty ' if allow_empty else 'non-empty '}list "
                            "of positive integers", f"e.g. {key}: [64, 64]")
    out = []
    for v in val:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v or int(v) <= 0:
            raise ArgumentError(key, f"{v!r} is not a positive integer", "give whole numbers > 0")
        out.append(int(v))
    return out


def _float(cfg: dict, key: str, lo: float, hi: float | None) -> float:
    v = cfg.get(key, 0.0)
    try:
        f = float(v)
        if isinstance(v, bool):
            raise ValueError
    except (TypeError, ValueError):
        raise ArgumentError(key, f"{v!r} is not a number", "give a number") from None
    if f < lo or (hi is not None and f >= hi):
        raise ArgumentError(key, f"{f} is out of range [{lo}, {hi if hi is not None else 'inf'})",
                            "use e.g. 0.3 for dropout, 1e-4 for l2")
    return f


def validate_config(cfg: dict, input_length: int) -> None:
    """Fail early on layer settings that cannot build a model: :class:`ArgumentError` named after the ``cfg``
    setting (``conv_widths``, ``dropout``, ...)."""
    filters, widths, pools = (_int_list(cfg, k) for k in ("conv_filters", "conv_widths", "pool_sizes"))
    _int_list(cfg, "dense_units", allow_empty=True)
    if not (len(widths) == len(pools) == len(filters)):
        raise ArgumentError("conv_filters/conv_widths/pool_sizes", f"must be non-empty lists of equal length (got "
                            f"{len(filters)}, {len(widths)} and {len(pools)} entries)",
                            "give one filter count, width and pool size per conv layer")
    _lengths(cfg, input_length, check=True)
    groups = cfg.get("groups", 1)
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ArgumentError("groups", f"{groups!r} is not an integer >= 1", "use groups: 1 (no grouping)")
    if any(f % groups for f in filters):
        raise ArgumentError("groups", f"{groups} groups do not divide the filter counts {filters}",
                            "give conv_filters that are multiples of groups")
    _float(cfg, "dropout", 0.0, 1.0)
    _float(cfg, "conv_dropout", 0.0, 1.0)
    _float(cfg, "l2", 0.0, None)
    if cfg.get("norm", "none") not in NORMS:
        raise ArgumentError("norm", f"{cfg.get('norm')!r} is not a normalisation", f"choose one of {', '.join(NORMS)}")
    if cfg.get("first_activation", "relu") not in ACTIVATIONS:
        raise ArgumentError("first_activation", f"{cfg.get('first_activation')!r} is not supported",
                            f"choose one of {', '.join(ACTIVATIONS)}")


def _tower(cfg: dict) -> int:
    """Positions the residual tower removes (valid convolutions: (width - 1) x dilation per layer)."""
    n = cfg.get("dilated_layers", 0)
    w = cfg.get("dilated_width", 3)
    for key, v, lo in (("dilated_layers", n, 0), ("dilated_width", w, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ArgumentError(key, f"{v!r} is not an integer >= {lo}", "e.g. dilated_layers: 4, dilated_width: 3")
    if n and w % 2 == 0:
        raise ArgumentError("dilated_width", f"{w} is even: the residual crop must be symmetric", "use an odd width, e.g. 3")
    return sum((w - 1) * 2 ** (i + 1) for i in range(n))


def _tower_pool(cfg: dict) -> int:
    v = cfg.get("tower_pool", 1)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ArgumentError("tower_pool", f"{v!r} is not an integer >= 1", "e.g. tower_pool: 10 (1 = no pooling)")
    return v


def _lengths(cfg: dict, input_length: int, check: bool = False) -> int:
    """Trunk output length; with ``check``, an :class:`ArgumentError` for a layer that gets no positions.

    Layer 1: conv (valid) -> max-pool ``tower_pool`` -> residual tower (valid: removes ``_tower`` positions) ->
    max-pool ``pool_sizes[0]``; layer i > 1: conv -> max-pool ``pool_sizes[i-1]``.
    """
    tower, tpool = _tower(cfg), _tower_pool(cfg)
    length = input_length
    for i, (w, pool) in enumerate(zip(cfg["conv_widths"], cfg["pool_sizes"])):
        w, pool = int(w), int(pool)
        if check and w > length:
            raise ArgumentError("conv_widths", f"filter width {w} of conv layer {i + 1} is longer than its input "
                                f"({length} positions from a {input_length} bp input)",
                                "use narrower filters, smaller pooling or a longer input")
        length = length - w + 1
        if i == 0:
            length = length // tpool - tower
            if check and length < 1:
                raise ArgumentError("dilated_layers", f"the residual tower needs more positions than conv layer 1 "
                                    f"leaves ({(length + tower)} after tower_pool {tpool})",
                                    "use fewer dilated layers, a smaller tower_pool or a longer input")
        length //= pool
        if check and length < 1:
            raise ArgumentError("pool_sizes", f"conv layer {i + 1} pools its input to length 0 (pool size {pool})",
                                "reduce pooling")
    return length


def output_length(cfg: dict, input_length: int) -> int:
    """Length of the trunk output (positions seen by the head) for an input of ``input_length`` bp."""
    return _lengths(model_config(cfg), input_length)


def _norm_layer(layers, kind: str, name: str):
    if kind == "batch":
        return layers.BatchNormalization(name=name)
    if kind == "layer":
        return layers.LayerNormalization(name=name)
    return None


def build_model(cfg: dict | None, input_length: int = 1000, n_tasks: int = 1, seed: int | None = None):
    """Build the configured CNN (functional Keras model, logits output).

    Per conv layer: Conv1D (valid) -> [norm] -> activation -> MaxPooling1D (-> dropout between conv layers);
    after the first layer's activation: max-pool ``tower_pool`` (when > 1) and the dilated residual tower
    (``dilated_layers``), both before its pooling; the last pooling layer is ``trunk_out``. Head: Flatten (keeps position, so a bin can be told from its
    flanks) -> Dense -> [norm] -> ReLU -> dropout, per ``dense_units`` -> Dense(n_tasks) logits.
    The model is returned uncompiled and untrained.

    Parameters
    ----------
    cfg : dict or None
        Model settings (params.yaml ``model``): ``name`` ("small", the default, or "basset") picks the
        architecture's defaults, which the other keys override (None values keep the default): conv_filters,
        conv_widths, pool_sizes (equal-length lists of positive ints, one entry per conv layer), dense_units
        (possibly empty list), norm ("none"/"batch"/"layer"), first_activation ("relu"/"exponential"),
        dropout, conv_dropout (in [0, 1)), l2 (>= 0); legacy boolean ``batch_norm`` maps onto ``norm``.
        None = the "small" defaults.
    input_length : int, default 1000
        Sequence length ``L`` in bp the model takes.
    n_tasks : int, default 1
        Number of output logits.
    seed : int, optional
        If given, ``keras.utils.set_random_seed(seed)`` is called first (this seeds Python, NumPy and the
        backend globally) so the initial weights are reproducible.

    Returns
    -------
    model : keras.Model
        Input ``onehot`` of shape (batch, L, 4), float32, columns A, C, G, T (N = all-zero row); output
        ``logit`` of shape (batch, n_tasks): logits, no final activation (``sigmoid(logit)`` is the probability).
        ``model.name`` is the architecture name.

    Raises
    ------
    seq2acc.errors.ArgumentError
        Unknown model name or setting, or settings that cannot build a model (mismatched list lengths, a filter
        wider than its input, pooling to length 0, out-of-range dropout/l2, unknown norm/activation); the
        error names the ``cfg`` setting.
    """
    keras = _keras()
    from keras import layers

    cfg = model_config(cfg)
    validate_config(cfg, input_length)
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    l2 = float(cfg.get("l2", 0))
    reg = keras.regularizers.L2(l2) if l2 > 0 else None
    norm = cfg.get("norm", "none")
    inp = keras.Input((input_length, 4), name="onehot")
    x = inp
    n = len(cfg["conv_filters"])
    for i, (f, w, pool) in enumerate(zip(cfg["conv_filters"], cfg["conv_widths"], cfg["pool_sizes"])):
        x = layers.Conv1D(int(f), int(w), padding="valid", kernel_regularizer=reg, name=f"conv{i + 1}",
                          groups=1 if i == 0 else int(cfg["groups"]))(x)
        nl = _norm_layer(layers, norm, f"norm{i + 1}")
        if nl is not None:
            x = nl(x)
        act = cfg.get("first_activation", "relu") if i == 0 else "relu"
        x = layers.Activation(act, name=f"act{i + 1}")(x)
        if i == 0 and int(cfg.get("tower_pool", 1)) > 1:
            x = layers.MaxPooling1D(int(cfg["tower_pool"]), name="tower_pool")(x)
        if i == 0:
            x = _residual_tower(layers, x, int(f), cfg, reg, norm)
        x = layers.MaxPooling1D(int(pool), name="trunk_out" if i == n - 1 else f"pool{i + 1}")(x)
        if float(cfg.get("conv_dropout", 0)) > 0 and i < n - 1:
            x = layers.Dropout(float(cfg["conv_dropout"]), name=f"conv_drop{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    for j, units in enumerate(cfg["dense_units"]):
        x = layers.Dense(int(units), kernel_regularizer=reg, name=f"dense{j + 1}")(x)
        nl = _norm_layer(layers, norm, f"dense_norm{j + 1}")
        if nl is not None:
            x = nl(x)
        x = layers.Activation("relu", name=f"dense_relu{j + 1}")(x)
        if float(cfg["dropout"]) > 0:
            x = layers.Dropout(float(cfg["dropout"]), name=f"dropout{j + 1}")(x)
    out = layers.Dense(n_tasks, name="logit")(x)
    return keras.Model(inp, out, name=cfg["name"])


def _residual_tower(layers, x, filters: int, cfg: dict, reg, norm: str):
    """Dilated residual convolutions after the first layer: x + relu(conv_d(x)), cropped to the valid length."""
    w = int(cfg.get("dilated_width", 3))
    for j in range(int(cfg.get("dilated_layers", 0))):
        d = 2 ** (j + 1)
        y = layers.Conv1D(filters, w, dilation_rate=d, padding="valid", kernel_regularizer=reg, name=f"dil{j + 1}",
                          groups=int(cfg.get("groups", 1)))(x)
        nl = _norm_layer(layers, norm, f"dil_norm{j + 1}")
        if nl is not None:
            y = nl(y)
        y = layers.Activation("relu", name=f"dil_act{j + 1}")(y)
        crop = (w - 1) * d // 2
        x = layers.Add(name=f"dil_add{j + 1}")([layers.Cropping1D(crop, name=f"dil_crop{j + 1}")(x), y])
    return x


def trunk_stride(model) -> int:
    """Total pooling factor of the convolutional trunk (product of MaxPooling1D pool sizes up to ``trunk_out``)."""
    keras = _keras()
    s = 1
    for layer in model.layers:
        if isinstance(layer, keras.layers.MaxPooling1D):
            s *= int(layer.pool_size[0])
        if layer.name == "trunk_out":
            return s
    raise ValueError(f"model {model.name} has no 'trunk_out' layer")


def init_first_filters(model, pwms: list, scale: float = 1.0, threshold: float = 0.6) -> int:
    """Start the first conv layer from known motifs (learning from little data; they keep training afterwards).

    Each ``(w, 4)`` log-odds matrix (ACGT, bits; e.g. a JASPAR PWM) and its reverse complement take one filter
    each, in order, centred in the layer's width (a motif wider than the filter is cut to its most informative
    window). Kernel = ``scale * (pwm - row mean)`` divided by the motif's best score, so a perfect site scores
    ``scale``; bias = ``-threshold * scale``, so the ReLU passes only sites scoring above ``threshold`` of the best.
    The remaining filters keep their random initialisation. Returns the number of filters set.
    """
    import numpy as np

    conv = model.get_layer("conv1")
    kernel, bias = (np.array(w) for w in conv.get_weights())
    width, _, n_filters = kernel.shape
    mats = []
    for pwm in pwms:
        m = np.asarray(pwm, dtype=np.float64)
        if m.ndim != 2 or m.shape[1] != 4 or not np.all(np.isfinite(m)):
            raise ArgumentError("pwms", f"a motif matrix has shape {m.shape} or non-finite values",
                                "give (w, 4) log-odds matrices in ACGT order")
        m = m - m.mean(axis=1, keepdims=True)
        if len(m) > width:  # keep the most informative window of the filter's width
            info = np.convolve(m.max(axis=1), np.ones(width), mode="valid")
            start = int(np.argmax(info))
            m = m[start:start + width]
        mats += [m, m[::-1, ::-1]]  # the motif and its reverse complement (ACGT reversed = complement)
    if len(mats) > n_filters:
        raise ArgumentError("pwms", f"{len(mats) // 2} motifs need {len(mats)} filters (with reverse complements); "
                            f"the first conv layer has {n_filters}", "initialise fewer motifs or use more filters")
    for i, m in enumerate(mats):
        best = float(m.max(axis=1).sum())
        off = (width - len(m)) // 2
        kernel[:, :, i] = 0.0
        kernel[off:off + len(m), :, i] = scale * m / max(best, 1e-6)
        bias[i] = -threshold * scale
    conv.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    return len(mats)
