"""Atomic output writing: a stage's output appears complete or not at all."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path next to ``path``; on success rename it into place, on error delete it.

    Works for files and directories (the caller creates whatever it wants at the temporary path).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    tmp = Path(tmp)
    try:
        yield tmp
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_paths(*paths):
    """Several outputs that appear together or not at all: yield one temporary path per output (next to it); on
    success rename them all into place (in the order given), on error delete every temporary path, any
    ``<tmp>.fai``-style companion of it (``<tmp>.*``), and the folders this call created."""
    paths = [Path(p) for p in paths]
    created = []
    for parent in sorted({p.parent for p in paths}, key=lambda d: len(d.parts)):
        missing = [d for d in (parent, *parent.parents) if not d.exists()]
        parent.mkdir(parents=True, exist_ok=True)
        created += missing
    tmps = []
    try:
        for path in paths:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            os.unlink(tmp)
            tmps.append(Path(tmp))
        yield tmps
        for tmp, path in zip(tmps, paths):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            os.replace(tmp, path)
    except BaseException:
        for tmp in tmps:
            for t in (tmp, *tmp.parent.glob(glob.escape(tmp.name) + ".*")):
                if t.is_dir() and not t.is_symlink():
                    shutil.rmtree(t, ignore_errors=True)
                elif t.exists() or t.is_symlink():
                    t.unlink()
        for d in sorted(set(created), key=lambda d: -len(d.parts)):
            with contextlib.suppress(OSError):
                d.rmdir()  # only if still empty
        raise


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path, obj, indent: int = 2) -> None:
    write_text(path, json.dumps(obj, indent=indent, sort_keys=False, default=_json_default) + "\n")


def _json_default(o):
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")
