"""Check or update the code dependencies of every stage in dvc.yaml (and of a derived dvc.yaml's simulate/simbench).

    python scripts/dvc_code_deps.py          # exit 1 and print the differences if any stage's code deps are wrong
    python scripts/dvc_code_deps.py --write  # rewrite them in dvc.yaml (comments and data deps are kept)

A stage's code deps are its script plus every project module the script imports, transitively
(:mod:`seq2acc.mlops.codedeps`); deps that are not code (data, models, params files) are left as they are.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ruamel.yaml import YAML

from seq2acc.mlops.codedeps import stage_code_deps

ROOT = Path(__file__).resolve().parents[1]


def is_code(dep: str) -> bool:
    return dep.startswith(("stages/", "src/"))


def script_of(cmd: str) -> str:
    return next(w for w in cmd.split() if w.startswith("stages/") and w.endswith(".py"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="rewrite dvc.yaml")
    ap.add_argument("--dvc-yaml", default=str(ROOT / "dvc.yaml"))
    a = ap.parse_args(argv)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 120
    yaml.indent(mapping=2, sequence=4, offset=2)
    path = Path(a.dvc_yaml)
    doc = yaml.load(path.read_text())
    wrong = []
    for name, st in doc["stages"].items():
        body = st["do"] if "do" in st else st
        want = stage_code_deps(script_of(body["cmd"]), ROOT)
        deps = body.get("deps") or []
        have = [d for d in deps if isinstance(d, str) and is_code(d)]
        if have != want:
            wrong.append((name, sorted(set(want) - set(have)), sorted(set(have) - set(want))))
            if a.write:
                data = [d for d in deps if not (isinstance(d, str) and is_code(d))]
                deps.clear()
                deps.extend(want + data)
    for name, missing, extra in wrong:
        print(f"{name}: missing {missing or '-'}; not imported {extra or '-'}")
    if a.write and wrong:
        with open(path, "w") as fh:
            yaml.dump(doc, fh)
        print(f"{path}: code deps of {len(wrong)} stage(s) rewritten")
        return 0
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
