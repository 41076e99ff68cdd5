"""Ground-truth benchmark (issue 7): run the REAL DVC pipeline on a simulated genome and print the recovery table.

    python benchmarks/simulation_benchmark.py                                   # small config (a few minutes)
    python benchmarks/simulation_benchmark.py --config benchmarks/sim/large.yaml
    python benchmarks/simulation_benchmark.py --check                           # exit 1 if a threshold fails
    python benchmarks/simulation_benchmark.py --set simulation.shuffle_labels=true --project /tmp/broken --check

The project directory (default ``benchmarks/sim/<config name>/``) is an independent DVC repository whose
dvc.yaml/params.yaml are regenerated from the root ones on every run (see ``seq2acc.sim.benchmark``); ``dvc repro``
there runs simulate -> the root pipeline's stages -> simbench. Re-running reuses every stage whose inputs did not
change. Results: ``<project>/results/simbench/table.md`` and ``metrics.json`` (+ ``run.json``: machine, wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as fh:
            info["cpu"] = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), None)
    except OSError:
        pass
    try:
        res = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=20)
        if res.returncode == 0 and res.stdout.strip():
            info["gpu"] = res.stdout.strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired):
        pass
    return info


def parse_set(items) -> dict:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise SystemExit(f"--set needs key=value, got {it!r}")
        k, v = it.split("=", 1)
        out[k] = yaml.safe_load(v)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "benchmarks/sim/small.yaml"), help="simulation YAML")
    ap.add_argument("--project", default=None, help="benchmark project directory (default benchmarks/sim/<name>/)")
    ap.add_argument("--set", action="append", metavar="KEY=VALUE", help="params override, e.g. train.epochs=2")
    ap.add_argument("--stages", default=None, help="comma-separated root stages to run (default all), e.g. "
                    "genome,peaks,dataset,folds,validate,train,evaluate")
    ap.add_argument("--no-repro", action="store_true", help="only (re)generate the project files")
    ap.add_argument("--force", action="store_true", help="dvc repro --force")
    ap.add_argument("--check", action="store_true", help="exit 1 when a threshold of the config fails")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT / "src"))
    from seq2acc import logutil
    from seq2acc.errors import Seq2AccError
    from seq2acc.sim.benchmark import RESULTS_DIR, write_project

    logutil.setup()
    config = Path(args.config).resolve()
    name = (yaml.safe_load(config.read_text()) or {}).get("name") or config.stem
    project = Path(args.project) if args.project else ROOT / "benchmarks/sim" / name
    try:
        write_project(config, project, ROOT, overrides=parse_set(args.set),
                      include=args.stages.split(",") if args.stages else None)
    except Seq2AccError as e:
        print(f"seq2acc error: {e}", file=sys.stderr)
        return 1
    print(f"benchmark project: {project}")
    if args.no_repro:
        return 0
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    t0 = time.time()
    cmd = [sys.executable, "-m", "dvc", "repro"] + (["--force"] if args.force else [])
    rc = subprocess.run(cmd, cwd=project, env=env).returncode
    wall = time.time() - t0
    run = {"wall_s": round(wall, 1), "returncode": rc, "machine": machine(), "config": str(config),
           "overrides": parse_set(args.set)}
    (project / RESULTS_DIR).mkdir(parents=True, exist_ok=True)
    (project / RESULTS_DIR / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    if rc != 0:
        print(f"dvc repro failed (exit {rc})", file=sys.stderr)
        return rc
    table = project / RESULTS_DIR / "table.md"
    print(table.read_text())
    print(f"wall time {wall / 60:.1f} min on {run['machine'].get('cpu')} x{run['machine'].get('cpus')}"
          + (f", {run['machine']['gpu']}" if "gpu" in run["machine"] else ""))
    metrics = json.loads((project / RESULTS_DIR / "metrics.json").read_text())
    failed = metrics.get("checks", {}).get("failed", [])
    if args.check and failed:
        print("thresholds failed:\n" + "\n".join(f"  {f}" for f in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
