"""Shared test helpers: tiny genomes and peak files built by the tests themselves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TQDM_DISABLE", "1")

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for servers the tests start)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc, timeout: float = 180) -> None:
    """Poll ``url`` until it answers 200; fail if ``proc`` (the server) exits first (with its stderr when piped)."""
    import time
    import urllib.request

    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            err = proc.stderr.read() if proc.stderr else b""
            err = err.decode(errors="replace") if isinstance(err, bytes) else (err or "")
            raise AssertionError(f"server exited ({proc.returncode})" + (f":\n{err[-3000:]}" if err else ""))
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def stop_process_group(proc, timeout: float = 30) -> None:
    """SIGTERM the process group of ``proc`` (started with ``start_new_session=True``), SIGKILL if it lingers."""
    import signal

    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def write_fasta(path: Path, seqs: dict[str, str], width: int = 60) -> Path:
    with open(path, "w") as fh:
        for name, s in seqs.items():
            fh.write(f">{name}\n")
            for i in range(0, len(s), width):
                fh.write(s[i:i + width] + "\n")
    return path


def random_seqs(sizes: dict[str, int], seed: int = 0) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    return {c: "".join(rng.choice(list("ACGT"), size=n)) for c, n in sizes.items()}


def write_bed(path: Path, rows) -> Path:
    with open(path, "w") as fh:
        for r in rows:
            fh.write("\t".join(map(str, r)) + "\n")
    return path


def make_project(dst: Path, sizes: dict[str, int], target_rows, elsewhere_rows=(), blacklist_rows=(), n_folds=3,
                 seed=0, extra_params: dict | None = None) -> Path:
    """A copy of the project's DVC pipeline in ``dst`` (git + dvc init) pointed at a tiny genome and peaks."""
    import yaml

    dst.mkdir(parents=True, exist_ok=True)
    for item in ("dvc.yaml", "stages"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst / item)
    # dvc.yaml deps on library files: point them at the real package (not copied).
    (dst / "src").symlink_to(ROOT / "src")
    raw = dst / "data" / "raw"
    raw.mkdir(parents=True)
    write_fasta(raw / "genome.fa", random_seqs(sizes, seed))
    write_bed(raw / "target.bed", target_rows)
    write_bed(raw / "other.bed", elsewhere_rows)
    write_bed(raw / "blacklist.bed", blacklist_rows)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["genome"]["fasta"] = "data/raw/genome.fa"
    params["peaks"].update(target="data/raw/target.bed", elsewhere=["data/raw/other.bed"], blacklist="data/raw/blacklist.bed")
    params["dataset"]["chromosomes"] = list(sizes)
    params["folds"]["n_folds"] = n_folds
    for dotted, val in (extra_params or {}).items():
        node = params
        *head, last = dotted.split(".")
        for h in head:
            node = node.setdefault(h, {})
        node[last] = val
    (dst / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = project_env()
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True, env=env)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=dst, check=True, env=env)
    subprocess.run([sys.executable, "-m", "dvc", "config", "core.analytics", "false"], cwd=dst, check=True, env=env)
    return dst


def shipped_params(overrides: dict | None = None) -> dict:
    """The shipped params.yaml (the only source of defaults) with ``overrides`` deep-merged in: nested dicts are
    merged, any other value replaces. Tests state only what they change."""
    import copy

    import yaml

    def merge(base, over):
        for k, v in over.items():
            if isinstance(v, dict) and isinstance(base.get(k), dict):
                merge(base[k], v)
            else:
                base[k] = copy.deepcopy(v)
        return base

    return merge(yaml.safe_load((ROOT / "params.yaml").read_text()), overrides or {})


def project_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("GIT_AUTHOR_NAME", "t")
    env.setdefault("GIT_AUTHOR_EMAIL", "t@t")
    env.setdefault("GIT_COMMITTER_NAME", "t")
    env.setdefault("GIT_COMMITTER_EMAIL", "t@t")
    env["TQDM_DISABLE"] = "1"
    return env


def dvc(cwd: Path, *args, check=True) -> subprocess.CompletedProcess:
    res = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, env=project_env(), capture_output=True, text=True)
    if check and res.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}")
    return res


@pytest.fixture
def tiny_genome(tmp_path):
    sizes = {"chrA": 6000, "chrB": 5000, "chrC": 4000, "chrD": 3000}
    fa = write_fasta(tmp_path / "g.fa", random_seqs(sizes, 1))
    return fa, sizes
