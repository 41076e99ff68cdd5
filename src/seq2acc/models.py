"""Model zoo (protocol 3.2, notes 14-16). Every model maps one-hot (L, 4) to ONE LOGIT per task.

Contract relied on by training, evaluation (shared-trunk scoring) and attribution:
- output: logits, no final activation (classification losses are built with ``from_logits=True``; a
  probability is ``sigmoid(logit)``). The regression variant is the same network with MSE loss (note 15).
- the convolutional trunk ends in a layer named ``trunk_out``; everything after it is the position-aware head
  (Flatten + Dense). Trunk layers use "valid" padding; their total pooling factor is ``trunk_stride(model)``.
"""

from __future__ import annotations

from typing import Any

from .errors import ParamsError

MODEL_NAMES = ("basset", "small")


def _keras():
    import keras

    return keras


def _defaults(name: str) -> dict[str, Any]:
    if name == "basset":  # Kelley et al. 2016, Genome Research 26:990
        return {"conv_filters": [300, 200, 200], "conv_widths": [19, 11, 7], "pool_sizes": [3, 4, 4],
                "batch_norm": True, "dense_units": [1000, 1000], "dropout": 0.3, "conv_dropout": 0.0,
                "l2": 0.0}
    if name == "small":
        return {"conv_filters": [64, 64], "conv_widths": [15, 9], "pool_sizes": [5, 10],
                "batch_norm": False, "dense_units": [64], "dropout": 0.3, "conv_dropout": 0.1, "l2": 1e-4}
    raise ParamsError("model.name", f"unknown model {name!r}", f"choose one of {', '.join(MODEL_NAMES)}")


def model_config(cfg: dict | None) -> dict[str, Any]:
    """Full model config: the named architecture's defaults overridden by ``cfg`` (params.yaml `model`)."""
    cfg = dict(cfg or {})
    name = cfg.pop("name", "small")
    out = _defaults(name)
    for k, v in cfg.items():
        if v is not None:
            out[k] = v
    out["name"] = name
    return out


def validate_config(cfg: dict, input_length: int) -> None:
    """Fail early, with the params key, on layer settings that cannot build a model."""
    n = len(cfg["conv_filters"])
    if not (len(cfg["conv_widths"]) == len(cfg["pool_sizes"]) == n) or n == 0:
        raise ParamsError("model.conv_filters/conv_widths/pool_sizes", "must be non-empty lists of equal length",
                          "give one filter count, width and pool size per conv layer")
    length = input_length
    for i, (f, w, pool) in enumerate(zip(cfg["conv_filters"], cfg["conv_widths"], cfg["pool_sizes"])):
        if int(f) <= 0 or int(w) <= 0 or int(pool) <= 0:
            raise ParamsError(f"model.conv layer {i}", "filters, width and pool must be positive", "fix the value")
        if w > length:
            raise ParamsError("model.conv_widths", f"filter width {w} of layer {i} is longer than its input ({length})",
                              "use narrower filters or smaller pooling")
        length = (length - w + 1) // pool
        if length < 1:
            raise ParamsError("model.pool_sizes", f"layer {i} pools its input to length 0", "reduce pooling")
    if not 0 <= float(cfg["dropout"]) < 1 or not 0 <= float(cfg.get("conv_dropout", 0)) < 1:
        raise ParamsError("model.dropout", "must be in [0, 1)", "use e.g. 0.3")


def build_model(cfg: dict | None, input_length: int = 1000, n_tasks: int = 1, seed: int | None = None):
    """Build the configured CNN (functional Keras model, logits output)."""
    keras = _keras()
    from keras import layers

    cfg = model_config(cfg)
    validate_config(cfg, input_length)
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    reg = keras.regularizers.L2(float(cfg["l2"])) if float(cfg.get("l2", 0)) > 0 else None
    inp = keras.Input((input_length, 4), name="onehot")
    x = inp
    n = len(cfg["conv_filters"])
    for i, (f, w, pool) in enumerate(zip(cfg["conv_filters"], cfg["conv_widths"], cfg["pool_sizes"])):
        x = layers.Conv1D(int(f), int(w), padding="valid", kernel_regularizer=reg, name=f"conv{i + 1}")(x)
        if cfg["batch_norm"]:
            x = layers.BatchNormalization(name=f"bn{i + 1}")(x)
        x = layers.Activation("relu", name=f"relu{i + 1}")(x)
        x = layers.MaxPooling1D(int(pool), name="trunk_out" if i == n - 1 else f"pool{i + 1}")(x)
        if float(cfg.get("conv_dropout", 0)) > 0 and i < n - 1:
            x = layers.Dropout(float(cfg["conv_dropout"]), name=f"conv_drop{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    for j, units in enumerate(cfg["dense_units"]):
        x = layers.Dense(int(units), kernel_regularizer=reg, name=f"dense{j + 1}")(x)
        if cfg["batch_norm"]:
            x = layers.BatchNormalization(name=f"dense_bn{j + 1}")(x)
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
