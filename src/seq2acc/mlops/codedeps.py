"""The project code a DVC stage runs, so that its ``deps:`` list every module it imports (and nothing else).

A stage script's code dependencies are the transitive closure of its imports of ``seq2acc`` modules, read
statically from the source (imports inside functions count: they run when the function does), plus the
``__init__.py`` of every package on the way (Python executes them on import). :func:`compact` writes a folder
where the closure holds every module in it and single files elsewhere, so dvc.yaml stays short and exact:
editing a module makes exactly the stages that import it stale. ``tests/test_dvc_code_deps.py`` checks
dvc.yaml against this; ``python scripts/dvc_code_deps.py --write`` updates it.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

PACKAGE = "seq2acc"


def _module_file(src: Path, dotted: str) -> Path | None:
    """``src/seq2acc/a/b.py`` or ``src/seq2acc/a/b/__init__.py`` of ``seq2acc.a.b``; None if neither exists."""
    base = src.joinpath(*dotted.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _with_parents(src: Path, dotted: str) -> set[Path]:
    """The module's file and the ``__init__.py`` of each enclosing package."""
    parts = dotted.split(".")
    out = set()
    for i in range(1, len(parts) + 1):
        f = _module_file(src, ".".join(parts[:i]))
        if f is not None:
            out.add(f)
    return out


@lru_cache(maxsize=None)
def _imports(path: Path, src: Path) -> frozenset[Path]:
    """Project files imported directly by ``path`` (absolute and relative imports, at any nesting level)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    pkg = None
    if path.is_relative_to(src):
        rel = path.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        pkg = parts if parts[-1] == "__init__" else parts[:-1]
        pkg = [p for p in pkg if p != "__init__"]
    found: set[Path] = set()
    for node in ast.walk(tree):
        mods: list[str] = []
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if pkg is None:
                    continue
                base = pkg[:len(pkg) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            mods = [mod] + [f"{mod}.{a.name}" for a in node.names]  # `from pkg import module` imports the module
        for m in mods:
            if m == PACKAGE or m.startswith(PACKAGE + "."):
                found |= _with_parents(src, m)
    return frozenset(found)


def closure(script, src) -> set[Path]:
    """Every project file that running ``script`` can import (the script itself excluded)."""
    src = Path(src).resolve()
    todo, seen = [Path(script).resolve()], set()
    while todo:
        f = todo.pop()
        for dep in _imports(f, src):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def compact(files, src, root) -> list[str]:
    """``files`` as dvc.yaml paths relative to ``root``: a folder (or the whole package) where every ``.py`` file
    under it is in ``files``, else the single files. Sorted."""
    src, root = Path(src).resolve(), Path(root).resolve()
    files = {Path(f).resolve() for f in files}
    pkg = src / PACKAGE
    out: list[str] = []

    def walk(folder: Path) -> None:
        inside = sorted(folder.rglob("*.py"))
        if inside and all(f in files for f in inside):
            out.append(folder.relative_to(root).as_posix())
            return
        for f in sorted(folder.glob("*.py")):
            if f in files:
                out.append(f.relative_to(root).as_posix())
        for sub in sorted(d for d in folder.iterdir() if d.is_dir() and (d / "__init__.py").exists()):
            walk(sub)

    walk(pkg)
    return sorted(out)


def stage_code_deps(script, root=".") -> list[str]:
    """dvc.yaml code deps of a stage script: the script and :func:`compact` of its :func:`closure`."""
    root = Path(root).resolve()
    src = root / "src"
    return [Path(script).as_posix()] + compact(closure(root / script, src), src, root)
