"""The shape of the code: what imports what, read from every module's source.

The runtime package (``lambdawarmer``, exactly what the layer ships) imports the standard library
and itself only (and the runtime's own modules Lambda provides, guarded); the command line
(``lambdawarmer_cli``) imports the runtime, never the other way round, and never the runtime's AWS
client (boto3 wraps the runtime's request builders and parsers there); the emulator, Lambda's
stand-in, imports neither, nor the layer's build (which uses the emulator: one direction), so it
cannot share our mistakes. No module takes part in an import cycle,
counting every import: at the top, inside functions, and for type checking only.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lambdawarmer", "lambdawarmer_cli", "lambdawarmer_model", "emulator", "layer", "bench")
PROVIDED_BY_LAMBDA = {"awslambdaric", "snapshot_restore_py"}
"""Modules of the Lambda runtime the layer may use when they are there (each import guarded)."""
ALLOWED = {
    "lambdawarmer": {"lambdawarmer"},
    "lambdawarmer_cli": {"lambdawarmer", "lambdawarmer_cli", "lambdawarmer_model", "boto3", "botocore"},
    "lambdawarmer_model": {"lambdawarmer", "lambdawarmer_model"},
    "emulator": {"emulator", "awslambdaric", "boto3", "botocore", "moto", "uv"},
    "layer": {"layer", "lambdawarmer", "emulator"},
    "bench": {
        "bench",
        "lambdawarmer",
        "lambdawarmer_cli",
        "lambdawarmer_model",
        "emulator",
        "layer",
        "boto3",
        "botocore",
        "matplotlib",
        "moto",
    },
}
"""What each package may import beyond the standard library."""
NEVER = {
    "lambdawarmer_cli": {"lambdawarmer.aws"},
    "lambdawarmer_model": {"lambdawarmer.aws"},
}
"""Modules of an allowed package that a package still may not import: the command line talks to AWS
through boto3 only (the runtime's request builders and answer parsers, never its SigV4 client); the
model is pure arithmetic over the runtime's time budget."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if ".seed" not in path.parts and "__pycache__" not in path.parts:
                found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module ``name`` imports (absolute names), wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            found.add(origin)
            # ``from . import x`` and ``from pkg import module`` import the module x too.
            found |= {f"{origin}.{alias.name}" for alias in node.names if f"{origin}.{alias.name}" in known}
    return found


def graph() -> dict[str, set[str]]:
    """Each project module and the project modules it imports."""
    paths = modules()
    known = set(paths)
    edges = {}
    for name, path in paths.items():
        imported = imports_of(name, path, known)
        edges[name] = {other for other in imported if other in known and other != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_is_in_an_import_cycle() -> None:
    assert cycles(graph()) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_what_it_may(package: str) -> None:
    paths = modules()
    wrong = {}
    for name, path in paths.items():
        if name.split(".")[0] != package:
            continue
        tops = {imported.split(".")[0] for imported in imports_of(name, path, set(paths)) if imported}
        foreign = tops - ALLOWED[package] - set(sys.stdlib_module_names) - {"__future__"}
        if package == "lambdawarmer":
            foreign -= PROVIDED_BY_LAMBDA
        if foreign:
            wrong[name] = sorted(foreign)
    assert wrong == {}


@pytest.mark.parametrize("package", sorted(NEVER))
def test_each_package_keeps_off_what_it_must_not_use(package: str) -> None:
    edges = graph()
    wrong = {
        name: sorted(other for other in imported if any(_within(other, banned) for banned in NEVER[package]))
        for name, imported in edges.items()
        if name.split(".")[0] == package
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_runtime_never_imports_the_command_line() -> None:
    """Checked apart from the table above: the one direction that must never change."""
    edges = graph()
    runtime = [name for name in edges if name.split(".")[0] == "lambdawarmer"]
    assert runtime
    assert {
        name: sorted(edges[name])
        for name in runtime
        if any(other.split(".")[0] != "lambdawarmer" for other in edges[name])
    } == {}


def test_every_module_says_its_one_job_first() -> None:
    missing = [name for name, path in modules().items() if not ast.get_docstring(ast.parse(path.read_text()))]
    assert missing == []
