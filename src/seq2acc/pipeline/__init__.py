"""DVC stages: one module per stage of dvc.yaml, named exactly like it; the only layer that reads params.yaml.

Each module's stage body takes the loaded :class:`seq2acc.config.Params` (and the ``foreach`` item: a fold number
or a chromosome name), calls the library below and writes that stage's outputs. ``stages/<stage>.py`` is the thin
script DVC runs: it calls :func:`run_stage` with the body.
"""

from __future__ import annotations

import os
import signal
import sys


def _dvc_ancestor() -> int | None:
    """pid of the nearest ancestor process that is DVC (``dvc ...`` or ``python -m dvc ...``), from /proc."""
    pid = os.getppid()
    for _ in range(8):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            return None
        words = [os.path.basename(w.decode(errors="replace")) for w in cmd if w]
        # `dvc repro`, `python /venv/bin/dvc repro` (console script) or `python -m dvc repro`
        if words[:1] == ["dvc"] or words[1:2] == ["dvc"] or words[1:3] == ["-m", "dvc"]:
            return pid
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # field 4: ppid
        if pid <= 1:
            return None
    return None


def _die_with_dvc() -> None:
    """Send this stage SIGTERM when the ``dvc repro`` that started it dies (killed by a scheduler, Ctrl-C in
    another terminal, SIGKILL), so no stage runs on as an orphan and finishes outputs or registers models that
    DVC will never record. Linux: ``prctl(PR_SET_PDEATHSIG)`` for a direct parent, and a watcher thread for DVC
    further up (``$SHELL -c`` may stay between). No-op elsewhere or outside DVC."""
    if not sys.platform.startswith("linux") or "DVC_STAGE" not in os.environ:
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    dvc = _dvc_ancestor()
    if dvc is None:
        return
    import threading
    import time

    def watch():
        while True:
            time.sleep(1.0)
            try:
                os.kill(dvc, 0)
                alive = not open(f"/proc/{dvc}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
            except OSError:
                alive = False
            if not alive:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=watch, name="seq2acc-dvc-watch", daemon=True).start()


def _log_machine(stage: str) -> None:
    """The machine at the start of a stage; the TensorFlow device (GPU names or CPU, TF version and build) follows
    when the stage first imports TensorFlow (:mod:`seq2acc.model.device`): stages that do not use it never load it."""
    import logging

    from seq2acc.model.device import cpu_model, log_device_when_tensorflow_loads

    logging.getLogger(__name__).info("stage %s: pid %d on %s, %s, %d CPU cores", stage, os.getpid(),
                                     os.uname().nodename, cpu_model(), len(os.sched_getaffinity(0)))
    log_device_when_tensorflow_loads()


def run_stage(body, *arg_types, params_path: str = "params.yaml") -> None:
    """Run a stage body as DVC calls it: ``body(params, *args)`` with ``args`` from ``sys.argv[1:]`` converted by
    ``arg_types``. Logging is set up first; a user error (:class:`~seq2acc.errors.Seq2AccError`) prints one message
    and exits 1; SIGTERM / Ctrl-C print one line and exit 143 / 130 (no traceback); outputs are written atomically
    by the bodies, so an interrupted stage leaves none half-written."""
    from seq2acc import logutil
    from seq2acc.config import Params
    from seq2acc.errors import Seq2AccError

    logutil.setup()
    _die_with_dvc()
    got = sys.argv[1:]
    if len(got) != len(arg_types):
        sys.exit(f"usage: python {sys.argv[0]}" + "".join(f" <{t.__name__}>" for t in arg_types))
    _log_machine(" ".join([os.path.basename(sys.argv[0]), *got]))
    args = [t(a) for t, a in zip(arg_types, got)]

    def on_term(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    try:
        body(Params.load(params_path), *args)
    except Seq2AccError as e:
        print(f"seq2acc error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt as e:
        term = "signal" in str(e)
        print(f"seq2acc: {sys.argv[0]} {' '.join(got)} interrupted ({'SIGTERM' if term else 'Ctrl-C'}); "
              "no output of this stage was recorded", file=sys.stderr)
        sys.exit(143 if term else 130)
