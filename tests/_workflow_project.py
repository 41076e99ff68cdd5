"""Builds a tiny, self-contained seq2acc project (git + DVC) for the team-workflow tests.

It uses the REAL dvc.yaml stages of this repository (filtered to the ones asked for), the real stage
scripts and library sources, the real params.yaml with only the data-size knobs overridden, a random
genome FASTA and random peak files written here. Stage commands run ``python stages/...``, so callers put
this interpreter's directory first on PATH (:func:`env`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DATA_STAGES = ("genome", "peaks", "dataset", "folds", "validate")


def env(**extra) -> dict:
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    e["DVC_NO_ANALYTICS"] = "1"
    e.setdefault("OMP_NUM_THREADS", "1")
    e.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    e.setdefault("TF_NUM_INTEROP_THREADS", "1")
    e.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    e.update(extra)
    return e


def sh(args, cwd, check=True, **extra) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=env(**extra), text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}) in {cwd}:\n{proc.stdout[-4000:]}")
    return proc


def dvc(*args, cwd, check=True) -> subprocess.CompletedProcess:
    return sh([str(BIN / "dvc"), *args], cwd, check)


def git(*args, cwd, check=True) -> subprocess.CompletedProcess:
    return sh(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main", *args], cwd, check)


def random_fasta(path: Path, sizes: dict[str, int], seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "w") as fh:
        for chrom, n in sizes.items():
            seq = "".join(rng.choice(list("ACGT"), n))
            fh.write(f">{chrom}\n")
            for i in range(0, n, 60):
                fh.write(seq[i:i + 60] + "\n")


def random_peaks(path: Path, sizes: dict[str, int], per_chrom: int, seed: int, width: int = 300) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for chrom, n in sizes.items():
        starts = np.sort(rng.choice(np.arange(1500, n - 1500 - width, 400), per_chrom, replace=False))
        rows += [f"{chrom}\t{s}\t{s + width}\n" for s in starts]
    path.write_text("".join(rows))


def filtered_dvc_yaml(stages) -> dict:
    spec = yaml.safe_load((REPO / "dvc.yaml").read_text())
    keep = {k: v for k, v in spec["stages"].items() if k in stages}
    missing = set(stages) - set(keep)
    if missing:
        raise KeyError(f"dvc.yaml has no stage(s) {sorted(missing)}")
    return {"stages": keep}


def make_project(root: Path, stages=DATA_STAGES, sizes=None, params: dict | None = None, seed: int = 0,
                 remote: bool = True) -> Path:
    """Create ``root`` as a committed git+DVC project; its default DVC remote is ``root/../dvc-remote``."""
    sizes = sizes or {"chr1": 16000, "chr2": 13000, "chr3": 11000}
    root.mkdir(parents=True)
    for sub in ("stages", "src/seq2acc", "scripts"):
        shutil.copytree(REPO / sub, root / sub, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    raw = root / "data/raw"
    (raw / "peaks").mkdir(parents=True)
    random_fasta(raw / "genome.fa", sizes, seed)
    random_peaks(raw / "peaks/target.bed", sizes, 6, seed + 1)
    random_peaks(raw / "peaks/other.bed", sizes, 4, seed + 2)
    p = yaml.safe_load((REPO / "params.yaml").read_text())
    p["genome"]["fasta"] = "data/raw/genome.fa"
    p["peaks"].update(target="data/raw/peaks/target.bed", elsewhere=["data/raw/peaks/*.bed"], blacklist=None)
    p["dataset"]["chromosomes"] = list(sizes)
    p["folds"]["n_folds"] = 3
    for key, val in (params or {}).items():
        node = p
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = val
    (root / "params.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
    (root / "dvc.yaml").write_text(yaml.safe_dump(filtered_dvc_yaml(stages), sort_keys=False))
    shutil.copy(REPO / ".gitignore", root / ".gitignore")
    git("init", "-q", cwd=root)
    dvc("init", "-q", cwd=root)
    if remote:
        dvc("remote", "add", "-d", "storage", "../dvc-remote", cwd=root)
    dvc("config", "core.autostage", "true", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "tiny seq2acc project", cwd=root)
    return root
