"""Handler loading gives what awslambdaric's own ``_get_handler`` gives, for every kind of name."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from awslambdaric.bootstrap import _get_handler
from awslambdaric.lambda_runtime_exception import FaultException

from lambdawarmer.loader import HandlerLoadError, load_handler

MODULES = {
    "good.py": "def handler(event, context):\n    return 'good'\n",
    "broken_syntax.py": "def handler(event, context)\n    return 1\n",
    "raises_at_import.py": "raise KeyError('SETTING')\n",
    "imports_missing.py": "import not_installed_anywhere\n",
    "src/app.py": "def handler(event, context):\n    return 'src'\n",
    "pkg/__init__.py": "",
    "pkg/sub/__init__.py": "",
    "pkg/sub/mod.py": "def handler(event, context):\n    return 'deep'\n",
}
NAMES = [
    "good.handler",
    "src/app.handler",
    "pkg.sub.mod.handler",
    "nodot",
    "",
    "sys.handler",
    "builtins.handler",
    "missing_module.handler",
    "imports_missing.handler",
    "broken_syntax.handler",
    "good.not_there",
    "good.",
    ".handler",
    "raises_at_import.handler",
]


@pytest.fixture
def task_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, text in MODULES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for module in [m for m in sys.modules if m.split(".")[0] in {"good", "src", "pkg", "broken_syntax"}]:
        del sys.modules[module]


def outcome(load: Callable[[str], Any], name: str) -> tuple[str, ...]:
    for module in [m for m in sys.modules if m.split(".")[0] in {"good", "src", "pkg", "raises_at_import"}]:
        del sys.modules[module]
    try:
        handler = load(name)
    except FaultException as fault:
        return ("fault", fault.exception_type, fault.msg, repr(fault.trace))
    except Exception as error:
        return ("exception", type(error).__name__, str(error))
    return ("handler", handler(None, None))


@pytest.mark.parametrize("name", NAMES)
def test_same_outcome_as_the_runtime(task_root: Path, name: str) -> None:
    assert outcome(load_handler, name) == outcome(_get_handler, name)


def test_messages_name_the_users_module(task_root: Path) -> None:
    with pytest.raises(FaultException) as raised:
        load_handler("missing_module.handler")
    assert raised.value.exception_type == "Runtime.ImportModuleError"
    assert raised.value.msg == "Unable to import module 'missing_module': No module named 'missing_module'"


def test_without_awslambdaric_the_same_fields_come_in_a_handler_load_error(
    task_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "awslambdaric.lambda_runtime_exception", None)
    with pytest.raises(HandlerLoadError) as raised:
        load_handler("good.not_there")
    assert (raised.value.exception_type, raised.value.msg) == (
        "Runtime.HandlerNotFound",
        "Handler 'not_there' missing on module 'good'",
    )
