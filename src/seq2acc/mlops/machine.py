"""What machine a benchmark ran on (recorded next to every measured number)."""

from __future__ import annotations

import os
import platform

from seq2acc.model.device import cpu_model, device_info


def machine_info() -> dict:
    """CPU, cores, platform, Python, TensorFlow, GPUs, the TensorFlow device and build
    (:func:`seq2acc.model.device.device_info`) and the load average now."""
    dev = device_info()
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "tensorflow": dev["tensorflow"],
            "gpus": [d for d in dev["devices"] if d.startswith("GPU")], "device": dev,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
