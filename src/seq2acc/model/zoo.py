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

MODEL_NAMES = ("basset", "small")


def _keras():
    import keras

    return keras


NORMS = ("none", "batch", "layer")
ACTIVATIONS = ("relu", "exponential")


def _defaults(name: str) -> dict[str, Any]:
    if name == "basset":  # Kelley et al. 2016, Genome Research 26:990
        return {"conv_filters": [300, 200, 200], "conv_widths": [19, 11, 7], "pool_sizes": [3, 4, 4],
                "norm": "batch", "first_activation": "relu", "dense_units": [1000, 1000], "dropout": 0.3,
                "conv_dropout": 0.0, "l2": 0.0}
    if name == "small":
        # Chosen by measured genome-wide AUPRC (docs/training.md, "Model quality"): 32 motif detectors of 19 bp,
        # max-pooled to 50 bp resolution (pool 50 divides the 50 bp grid stride: shared-trunk scoring works), and a
        # linear position-aware read-out (no hidden dense layer); L2 keeps the detectors sharp on little data.
        return {"conv_filters": [32], "conv_widths": [19], "pool_sizes": [50],
                "norm": "none", "first_activation": "relu", "dense_units": [], "dropout": 0.0,
                "conv_dropout": 0.0, "l2": 1e-3}
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
    length = input_length
    for i, (w, pool) in enumerate(zip(widths, pools)):
        if w > length:
            raise ArgumentError("conv_widths", f"filter width {w} of conv layer {i + 1} is longer than its input "
                                f"({length} positions from a {input_length} bp input)",
                                "use narrower filters, smaller pooling or a longer input")
        length = (length - w + 1) // pool
        if length < 1:
            raise ArgumentError("pool_sizes", f"conv layer {i + 1} pools its input to length 0 (pool size {pool})",
                                "reduce pooling")
    _float(cfg, "dropout", 0.0, 1.0)
    _float(cfg, "conv_dropout", 0.0, 1.0)
    _float(cfg, "l2", 0.0, None)
    if cfg.get("norm", "none") not in NORMS:
        raise ArgumentError("norm", f"{cfg.get('norm')!r} is not a normalisation", f"choose one of {', '.join(NORMS)}")
    if cfg.get("first_activation", "relu") not in ACTIVATIONS:
        raise ArgumentError("first_activation", f"{cfg.get('first_activation')!r} is not supported",
                            f"choose one of {', '.join(ACTIVATIONS)}")


def output_length(cfg: dict, input_length: int) -> int:
    """Length of the trunk output (positions seen by the head) for an input of ``input_length`` bp."""
    cfg = model_config(cfg)
    length = input_length
    for w, pool in zip(cfg["conv_widths"], cfg["pool_sizes"]):
        length = (length - int(w) + 1) // int(pool)
    return length


def _norm_layer(layers, kind: str, name: str):
    if kind == "batch":
        return layers.BatchNormalization(name=name)
    if kind == "layer":
        return layers.LayerNormalization(name=name)
    return None


def build_model(cfg: dict | None, input_length: int = 1000, n_tasks: int = 1, seed: int | None = None):
    """Build the configured CNN (functional Keras model, logits output).

    Per conv layer: Conv1D (valid) -> [norm] -> activation -> MaxPooling1D (-> dropout between conv layers);
    the last pooling layer is ``trunk_out``. Head: Flatten (keeps position, so a bin can be told from its
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
        x = layers.Conv1D(int(f), int(w), padding="valid", kernel_regularizer=reg, name=f"conv{i + 1}")(x)
        nl = _norm_layer(layers, norm, f"norm{i + 1}")
        if nl is not None:
            x = nl(x)
        act = cfg.get("first_activation", "relu") if i == 0 else "relu"
        x = layers.Activation(act, name=f"act{i + 1}")(x)
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
