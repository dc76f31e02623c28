"""Run each demo once per test session and share the result between test files."""

from __future__ import annotations

import importlib
from functools import cache

from dlprep.demos.base import DemoResult


def module(demo_id: str):
    return importlib.import_module("dlprep.demos." + demo_id.replace("-", "_"))


@cache
def result(demo_id: str) -> DemoResult:
    return module(demo_id).run("cpu")
