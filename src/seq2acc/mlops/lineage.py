"""Lineage of a result: the git commit it was made with and the md5 of its inputs, as DVC records them.

``dvc.lock`` is read in one place (:func:`lock_hashes`); DVC 3 stores a file's md5 of its bytes, a directory's
md5 of its ``.dir`` listing.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import yaml


def git_commit(root) -> tuple[str, bool]:
    """(HEAD commit, dirty?) of the git repository at ``root``; ('unknown', False) outside git."""
    cwd = str(root)
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=20)
        if sha.returncode != 0:
            return "unknown", False
        st = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True,
                            text=True, timeout=20)
        return sha.stdout.strip(), bool(st.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return "unknown", False


def file_md5(path) -> str:
    """md5 of a file's bytes (the hash DVC 3 stores for a file in dvc.lock)."""
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def lock_hashes(lock_path="dvc.lock") -> dict[str, dict]:
    """Every path dvc.lock records (stage outputs and dependencies): path -> {md5, size, nfiles, stage, role}.

    ``role`` is 'output' where a stage produces the path (that record wins) and 'input' for paths only read.
    Empty when there is no (readable) dvc.lock."""
    lock_path = Path(lock_path)
    if not lock_path.exists():
        return {}
    try:
        data = yaml.safe_load(lock_path.read_text()) or {}
    except yaml.YAMLError:
        return {}
    out: dict[str, dict] = {}
    for stage, st in (data.get("stages") or {}).items():
        for role in ("outs", "deps"):
            for o in st.get(role) or []:
                if "path" not in o or not o.get("md5"):
                    continue
                if role == "deps" and o["path"] in out:
                    continue  # the producing stage's record wins
                out[str(o["path"])] = {"md5": str(o["md5"]), "size": o.get("size"), "nfiles": o.get("nfiles"),
                                       "stage": stage, "role": "output" if role == "outs" else "input"}
    return out


def input_hashes(paths, lock_path="dvc.lock") -> dict[str, dict]:
    """For each input file: its md5 now and the md5 dvc.lock records for it as a stage output (they differ if the
    file changed since DVC wrote it)."""
    lock = {k: v["md5"] for k, v in lock_hashes(lock_path).items() if v["role"] == "output"}
    out = {}
    for p in paths:
        p = Path(p)
        rel = str(p)
        out[rel] = {"md5": file_md5(p) if p.is_file() else None, "dvc_lock_md5": lock.get(rel)}
    return out
