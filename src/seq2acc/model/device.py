"""Which device TensorFlow computes on: GPU names (or CPU), the TensorFlow version and its CUDA build.

- :func:`device_info` -- the facts as a dict (recorded by benchmarks, :func:`seq2acc.mlops.machine.machine_info`).
- :func:`describe` -- the same as one log line.
- :func:`log_device_when_tensorflow_loads` -- log that line once per process, at the moment TensorFlow is first
  imported (or now, if it already is). :func:`seq2acc.pipeline.run_stage` and the CLI install it, so every stage
  and command that uses TensorFlow says where it runs, and a stage that never imports TensorFlow (genome,
  peaks, folds, ...) stays free of its ~2 s import. Listing physical devices does not initialise them, so a
  stage may still configure devices afterwards (``tf.config.set_logical_device_configuration``, memory growth).

Install path: ``tensorflow-cpu`` (the default, ``make venv``) or TensorFlow built with CUDA (``make venv
DEVICE=gpu``; README, docs/scale-out.md). A CUDA build with no GPU visible is logged as such, with the fix.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import platform
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), without TensorFlow."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_info() -> dict:
    """``{"devices": ["GPU:0 NVIDIA H200 (compute 9.0)", ...] or ["CPU"], "gpus": n, "tensorflow": version,
    "cuda_build": bool, "cuda": version or None, "cudnn": version or None}``."""
    import tensorflow as tf

    gpus = []
    for i, d in enumerate(tf.config.list_physical_devices("GPU")):
        try:
            det = tf.config.experimental.get_device_details(d)
        except (ValueError, RuntimeError):
            det = {}
        name = det.get("device_name") or d.name
        cc = det.get("compute_capability")
        gpus.append(f"GPU:{i} {name}" + (f" (compute {cc[0]}.{cc[1]})" if cc else ""))
    try:
        build = dict(tf.sysconfig.get_build_info())
    except Exception:  # noqa: BLE001 - build info is informative only
        build = {}
    cuda = bool(build.get("is_cuda_build") or tf.test.is_built_with_cuda())
    return {"devices": gpus or ["CPU"], "gpus": len(gpus), "tensorflow": tf.__version__, "cuda_build": cuda,
            "cuda": build.get("cuda_version") if cuda else None, "cudnn": build.get("cudnn_version") if cuda else None}


def describe(info: dict | None = None) -> str:
    """One line: where TensorFlow computes and with which build."""
    info = info or device_info()
    build = (f"CUDA build (CUDA {info['cuda']}, cuDNN {info['cudnn']})" if info["cuda_build"]
             else "CPU-only build (tensorflow-cpu)")
    line = f"device: {', '.join(info['devices'])}; TensorFlow {info['tensorflow']}, {build}"
    if info["cuda_build"] and not info["gpus"]:
        line += ("; no GPU is visible: computing on the CPU (check `nvidia-smi` and CUDA_VISIBLE_DEVICES)")
    elif not info["cuda_build"]:
        line += "; for a GPU: make venv DEVICE=gpu"
    return line


_logged = False


def log_device() -> None:
    """Log :func:`describe` once per process."""
    global _logged
    if _logged:
        return
    _logged = True
    try:
        log.info(describe())
    except Exception as e:  # noqa: BLE001 - never fail a stage over a log line
        log.warning("device: could not be described (%s)", e)


class _OnTensorflowImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when ``tensorflow`` is about to be imported, wraps the real loader so that
    :func:`log_device` runs right after the module has executed, then leaves ``sys.meta_path``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_log(module):
            exec_module(module)
            log_device()

        spec.loader.exec_module = exec_and_log
        return spec


def log_device_when_tensorflow_loads() -> None:
    """Log the device once, when this process first imports TensorFlow (now if it already has). Idempotent."""
    if "tensorflow" in sys.modules:
        log_device()
    elif not _logged and not any(isinstance(f, _OnTensorflowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _OnTensorflowImport())
