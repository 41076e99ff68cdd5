"""docs/python-api.md is executable: every ```python block runs, in order, in one namespace, on a tiny trained
project (issue 15: the Python API walk-through whose code a test executes)."""

from __future__ import annotations

import re

from conftest import ROOT
from test_predict import project  # noqa: F401 - the tiny trained project fixture

DOC = ROOT / "docs" / "python-api.md"


def _blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_python_api_walk_through_runs_as_written(project):  # noqa: F811
    import seq2acc

    blocks = _blocks(DOC.read_text())
    assert len(blocks) >= 5, "the walk-through lost its code blocks"
    ns: dict = {}
    for i, code in enumerate(blocks, start=1):
        try:
            exec(compile(code, f"{DOC.name} block {i}", "exec"), ns)
        except Exception as e:  # pragma: no cover - the message says which block failed
            raise AssertionError(f"{DOC.name} block {i} failed: {type(e).__name__}: {e}\n{code}") from e
    # what the page promises, checked on its own variables
    assert ns["p"].shape[0] == 1 and 0 < ns["p"].probability[0] < 1
    assert ns["track"].chrom.eq(ns["chrom"]).all() and len(ns["track"]) > 10
    assert ns["e"].contrib.shape == (1, 1000, 4)
    assert set(["delta", "p_value"]) <= set(ns["effects"].columns)
    assert ns["logits"].shape == (1,)
    assert list(ns["sites"].columns[:4]) == ["chrom", "start", "end", "region"] and (ns["hits"].p_value < 1e-3).all()
    # every public name the page uses is in seq2acc.__all__
    used = set(re.findall(r"seq2acc\.([a-z_A-Z]+)\(", DOC.read_text()))
    assert used <= set(seq2acc.__all__), used - set(seq2acc.__all__)
