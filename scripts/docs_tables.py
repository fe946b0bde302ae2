"""The documentation's module map, made from the code: each module and the job its docstring states.

    python scripts/docs_tables.py    # prints it; tests/test_docs.py checks the architecture page

A table the code makes cannot drift from the code: the test fails, naming this script, when a
module or its docstring's first line changes without the page.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lambdawarmer", "lambdawarmer_cli", "lambdawarmer_model", "layer", "emulator", "bench")


def modules() -> list[Path]:
    """Every module of the packages, in order."""
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if not any(part.startswith(".") for part in path.relative_to(ROOT).parts)  # bench/.seed: installed
    ]


def first_line(path: Path) -> str:
    """The first line of a module's docstring: the one job it states."""
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    return docstring.split("\n")[0].strip()


def dotted(path: Path) -> str:
    name = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
    return name.removesuffix(".__init__")


def architecture_table() -> str:
    """Module, and the job its docstring's first line states."""
    rows = [
        f"| `{path.relative_to(ROOT).as_posix()}` | {first_line(path).replace('|', '/')} |"
        for path in modules()
    ]
    return "\n".join(["| module | its one job (its docstring's first line) |", "| --- | --- |", *rows])


if __name__ == "__main__":
    print(architecture_table())
