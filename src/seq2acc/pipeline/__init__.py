"""DVC stages: one module per stage of dvc.yaml, named exactly like it; the only layer that reads params.yaml.

Each module's stage body takes the loaded :class:`seq2acc.config.Params` (and the ``foreach`` item: a fold number
or a chromosome name), calls the library below and writes that stage's outputs. ``stages/<stage>.py`` is the thin
script DVC runs: it calls :func:`run_stage` with the body.
"""

from __future__ import annotations

import os
import signal
import sys


def _die_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent (``dvc repro``) dies, so a killed DVC never leaves a
    stage running on as an orphan that finishes outputs DVC will not record. No-op elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def run_stage(body, *arg_types, params_path: str = "params.yaml") -> None:
    """Run a stage body as DVC calls it: ``body(params, *args)`` with ``args`` from ``sys.argv[1:]`` converted by
    ``arg_types``. Logging is set up first; a user error (:class:`~seq2acc.errors.Seq2AccError`) prints one message
    and exits 1; SIGTERM / Ctrl-C print one line and exit 143 / 130 (no traceback); outputs are written atomically
    by the bodies, so an interrupted stage leaves none half-written."""
    from seq2acc import logutil
    from seq2acc.config import Params
    from seq2acc.errors import Seq2AccError

    logutil.setup()
    _die_with_parent()
    got = sys.argv[1:]
    if len(got) != len(arg_types):
        sys.exit(f"usage: python {sys.argv[0]}" + "".join(f" <{t.__name__}>" for t in arg_types))
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
