"""The suite's order (tests/scheduling.py) names tests that are there."""

from __future__ import annotations

import ast
from pathlib import Path

from .scheduling import LONG_FIRST

ROOT = Path(__file__).resolve().parent.parent


def test_each_long_test_put_first_is_there() -> None:
    for start in LONG_FIRST:
        path, name = start.split("::")
        tree = ast.parse((ROOT / path).read_text())
        tests = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
        assert any(test.startswith(name) for test in tests), f"{start}: no such test (renamed?)"
