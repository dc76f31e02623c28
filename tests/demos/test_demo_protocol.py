"""Every demo, bundled now or added later, follows the protocol of dlprep/demos/base.py."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from demo_cache import module, result  # noqa: E402

from dlprep.demos.base import DemoResult  # noqa: E402
from dlprep.demos.registry import discover  # noqa: E402

DEMOS = discover()


@pytest.mark.parametrize("demo_id", sorted(DEMOS))
def test_module_is_readable_without_importing_torch(demo_id):
    tree = ast.parse(DEMOS[demo_id].path.read_text())
    literals = {
        t.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    assert isinstance(literals.get("TOPIC"), str) and isinstance(literals.get("TITLE"), str)
    docstring = ast.get_docstring(tree)
    assert docstring and "\n" not in docstring
    top_imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not any("torch" in ast.unparse(n) for n in top_imports)


@pytest.mark.parametrize("demo_id", sorted(DEMOS))
def test_result_shape(demo_id):
    r = result(demo_id)
    assert isinstance(r, DemoResult)
    assert "\n" not in r.conclusion and r.conclusion.strip()
    assert 1 <= len(r.rows) <= 12
    assert all(len(row) == len(r.columns) for row in r.rows)
    assert r.metrics and all(isinstance(v, float | int) and math.isfinite(v) for v in r.metrics.values())
    assert all("\n" not in note for note in r.notes)
    assert DemoResult.from_dict(r.to_dict()) == r


@pytest.mark.parametrize("demo_id", sorted(DEMOS))
def test_deterministic(demo_id):
    assert module(demo_id).run("cpu").metrics == result(demo_id).metrics


def test_every_demo_has_a_claim_test():
    here = Path(__file__).parent
    names = set()
    for f in here.glob("test_demos_*.py"):
        names |= {n.name for n in ast.parse(f.read_text()).body if isinstance(n, ast.FunctionDef)}
    missing = [d for d in DEMOS if "test_" + d.replace("-", "_") not in names]
    assert missing == []
