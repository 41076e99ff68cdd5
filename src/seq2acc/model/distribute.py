"""Training past one device: the ``train.distribute`` param -> a ``tf.distribute`` strategy.

- ``one_device`` (default): TensorFlow's default strategy, i.e. exactly single-device training.
- ``mirrored``: ``MirroredStrategy`` - synchronous data parallelism over the GPUs of one machine (all visible
  ones; restrict with ``CUDA_VISIBLE_DEVICES``), or over several logical CPU devices. The batch in
  ``train.batch_size`` is the GLOBAL batch: each of N replicas gets batch/N examples and the gradients are
  averaged, so the loss curve keeps its shape (tested with two logical CPUs).
- ``multi_worker``: ``MultiWorkerMirroredStrategy`` across machines. Every machine runs the same
  ``python stages/train.py K`` with ``TF_CONFIG`` describing the cluster and its own task; only the chief
  (``worker`` 0 or ``chief``) writes the model and logs to MLflow (:func:`is_chief`; docs/team-workflow.md).

Build and compile the model, and fit it, inside ``strategy.scope()`` (:func:`scope` does both the reading
of the param and the scope).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os

from seq2acc.errors import ArgumentError

log = logging.getLogger(__name__)

STRATEGIES = ("one_device", "mirrored", "multi_worker")


def make_strategy(name: str = "one_device", devices: list[str] | None = None):
    """The ``tf.distribute`` strategy called ``name`` (see module doc); ``devices`` only for ``mirrored``."""
    if name not in STRATEGIES:
        raise ArgumentError("name", f"{name!r} is not a strategy", f"use one of {', '.join(STRATEGIES)}")
    if name == "multi_worker":
        _check_tf_config()
    import tensorflow as tf

    if name == "one_device":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if devices is None:
            gpus = tf.config.list_logical_devices("GPU")
            devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        if len(devices) < 2:
            log.warning("train.distribute=mirrored with a single device (%s): same as one_device, with overhead",
                        devices)
        # CPU replicas need a cross-device op that works without NCCL.
        ops = None if any("GPU" in d.upper() for d in devices) else tf.distribute.ReductionToOneDevice()
        return tf.distribute.MirroredStrategy(devices=devices, cross_device_ops=ops)
    return tf.distribute.MultiWorkerMirroredStrategy()


def _check_tf_config() -> None:
    cfg = os.environ.get("TF_CONFIG")
    if not cfg:
        raise ArgumentError("name", "multi_worker needs the TF_CONFIG environment variable on every machine",
                          'export TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                          '"task": {"type": "worker", "index": 0}}\' (index = this machine), or use one_device/mirrored')
    try:
        json.loads(cfg)
    except json.JSONDecodeError as e:
        raise ArgumentError("name", f"multi_worker: TF_CONFIG is not JSON ({e})", "fix the TF_CONFIG environment variable") from e


def is_chief() -> bool:
    """False only for a non-chief worker of a multi-worker cluster (from ``TF_CONFIG``): it must not write outputs.

    The chief is the ``chief`` task if the cluster has one, else ``worker`` 0 (TensorFlow's convention).
    """
    cfg = os.environ.get("TF_CONFIG")
    if not cfg:
        return True
    conf = json.loads(cfg)
    task, cluster = conf.get("task") or {}, conf.get("cluster") or {}
    ttype, tid = task.get("type"), int(task.get("index", 0))
    if ttype is None:
        return True
    if "chief" in cluster:
        return ttype == "chief"
    return ttype == "worker" and tid == 0


def describe(strategy) -> dict:
    """Strategy name, replica count and devices (logged with the run)."""
    try:
        devices = list(strategy.extended.worker_devices)
    except (AttributeError, RuntimeError):  # the default strategy has no device list
        devices = []
    return {"strategy": type(strategy).__name__, "replicas": int(strategy.num_replicas_in_sync), "devices": devices}


@contextlib.contextmanager
def scope(name: str):
    """``with scope("mirrored") as strategy:`` build, compile and fit inside the strategy ``name``
    (one of :data:`STRATEGIES`)."""
    strategy = make_strategy(name)
    info = describe(strategy)
    if info["replicas"] > 1 or name != "one_device":
        log.info("training with %s over %d replica(s): %s", info["strategy"], info["replicas"], info["devices"])
    with strategy.scope():
        yield strategy


def logical_cpus(n: int) -> list[str]:
    """Split the CPU into ``n`` logical devices (before TensorFlow touches a device): to try ``mirrored`` without GPUs."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * int(n))
    return [d.name for d in tf.config.list_logical_devices("CPU")]
