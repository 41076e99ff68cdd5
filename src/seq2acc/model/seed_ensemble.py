"""Seed ensembles saved as ONE zoo model (issue 14: ensembles that every stage can use unchanged).

N members of the same architecture, trained from different initialisations, are averaged on the logit scale:
``logit(x) = mean_i logit_i(x)``. For a zoo model with a linear read-out (``dense_units: []``) this average is
itself a zoo model, exactly:

- the first conv layer sees the same input in every member: its filters are concatenated (N x F filters);
- every later conv layer (and the dilated residual tower) becomes a grouped convolution (``groups = N``):
  group i reads only member i's channels, so the members never mix (a block-diagonal kernel);
- pooling, ReLU, cropping, residual additions and batch-norm act channel by channel;
- the linear read-out over (position, channel) takes each member's weights divided by N, biases averaged.

So the merged model has a ``trunk_out`` layer, shares its trunk genome-wide, and is explained by DeepSHAP / ISM
like any other model (DeepLIFT contributions of a mean are the mean of the contributions), with no special case
in any stage. Layer normalisation (over all channels) and hidden dense layers would mix members: they are refused.
"""

from __future__ import annotations

import numpy as np

from seq2acc.errors import ArgumentError
from seq2acc.model.zoo import build_model, model_config


def merged_config(cfg: dict, n: int) -> dict:
    """The zoo config of ``n`` members of ``cfg`` merged: filters x n, ``groups`` x n."""
    cfg = model_config(cfg)
    if n < 1:
        raise ArgumentError("seeds", f"{n} members", "use train.seeds >= 1")
    if cfg["dense_units"]:
        raise ArgumentError("seeds", f"a seed ensemble needs a linear read-out; model {cfg['name']!r} has "
                            f"hidden dense layers {cfg['dense_units']}", "set model.dense_units: [] or train.seeds: 1")
    if cfg["norm"] == "layer":
        raise ArgumentError("seeds", "layer normalisation mixes the channels of all members",
                            "use model.norm: batch or none, or train.seeds: 1")
    out = dict(cfg)
    out["conv_filters"] = [int(f) * n for f in cfg["conv_filters"]]
    out["groups"] = int(cfg.get("groups", 1)) * n
    return out


def merge_members(models: list, cfg: dict, input_length: int):
    """One Keras model whose logit is the mean of the members' logits (see the module docstring)."""
    n = len(models)
    mcfg = merged_config(cfg, n)
    merged = build_model(mcfg, input_length=input_length, n_tasks=int(models[0].outputs[0].shape[-1]))
    by_name = [{lay.name: lay for lay in m.layers} for m in models]
    for lay in merged.layers:
        ws = lay.get_weights()
        if not ws:
            continue
        parts = [d[lay.name].get_weights() for d in by_name]
        if lay.name == "logit":
            channels = int(models[0].get_layer("trunk_out").output.shape[-1])
            lay.set_weights([_merge_readout([p[0] for p in parts], channels),
                             np.mean([p[1] for p in parts], axis=0)])
            continue
        # conv kernels (w, c_in / groups, c_out) and every per-channel vector: members side by side on the last axis
        lay.set_weights([np.concatenate([p[k] for p in parts], axis=-1) for k in range(len(ws))])
    return merged, mcfg


def _merge_readout(kernels: list, channels: int) -> np.ndarray:
    """Dense kernels over Flatten(positions, channels) of each member -> the merged kernel over
    Flatten(positions, n x channels), divided by n: member rows are ``pos * C + c``, merged rows
    ``pos * n C + i C + c``."""
    n, n_out = len(kernels), kernels[0].shape[1]
    k = np.stack(kernels, axis=0).reshape(n, -1, channels, n_out)  # (member, pos, c, out)
    return k.transpose(1, 0, 2, 3).reshape(-1, n_out) / n


MEMBER_SEED_STEP = 7919  # member m trains with seed + 7919 m (restarts of a member add 1000 per attempt)


def fit_seed_ensemble(genome, make_data, tc, mc: dict, context: int, n: int, epoch_hook=None, init_pwms=None):
    """Train ``n`` members (seed ``tc.seed + 7919 m``: its own initialisation, negatives and order) and merge them.

    ``make_data(tc_m)`` returns the member's :class:`~seq2acc.data.loader.FoldData` (the same fold, drawn with the
    member's seed). Returns ``(model, history, config)``: with ``n == 1`` the one model, its history and ``mc``
    unchanged; otherwise the merged model, member 0's per-epoch history (the loss plot and table) with
    ``members`` (every member's history) and ``ensemble`` (the merged model's loss and metrics on member 0's
    validation data: what promotion compares), and the merged zoo config.
    """
    from dataclasses import replace

    from seq2acc.data.loader import make_dataset
    from seq2acc.model.fit import build_and_fit, compile_model

    members, histories, offset = [], [], 0
    for m in range(n):
        tc_m = replace(tc, seed=tc.seed + MEMBER_SEED_STEP * m)
        data = make_data(tc_m)
        if m == 0:
            valid, valid_names = data.valid, list(data.task_names)

        def hook(epoch, logs, _off=offset, _m=m):
            if epoch_hook:
                epoch_hook(epoch + _off, dict(logs, member=float(_m)) if n > 1 else logs)

        model, hist = build_and_fit(genome, data, tc_m, mc, context, epoch_hook=hook, init_pwms=init_pwms)
        members.append(model)
        histories.append(hist)
        offset += sum(a["epochs_run"] for a in hist["attempts"])
    if n == 1:
        return members[0], histories[0], mc
    merged, mcfg = merge_members(members, mc, context)
    compile_model(merged, tc, task_names=valid_names)
    scores = merged.evaluate(make_dataset(valid), return_dict=True, verbose=0)
    history = dict(histories[0])
    history["members"] = histories
    history["ensemble"] = {("val_" + k if k != "loss" else "val_loss"): float(v) for k, v in scores.items()}
    history["train_seconds"] = float(sum(h["train_seconds"] for h in histories))
    history["attempts"] = [a for h in histories for a in h["attempts"]]
    return merged, history, mcfg
