"""The layer's handler module in process: one warmer per invocation, the outermost."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdawarmer.instance import LAYER_WARMER_ENV
from lambdawarmer.other_warmers import lambda_warmer_py_settings

from .conftest import make_context, write_function

DECORATED = """
import lambdawarmer

calls = []

@lambdawarmer.warmer(send_metric=True)
def handler(event, context):
    calls.append(event)
    return {"handled": event}
"""


@pytest.fixture
def layer_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Any]:
    """``lambdawarmer.handler`` imported as the runtime imports it, for a decorated user handler."""
    write_function(tmp_path / "task", DECORATED, module="decorated_app")
    monkeypatch.syspath_prepend(str(tmp_path / "task"))
    monkeypatch.setenv("LAMBDAWARMER_HANDLER", "decorated_app.handler")
    monkeypatch.setenv("WARMER_SEND_METRIC", "true")
    monkeypatch.delenv(LAYER_WARMER_ENV, raising=False)
    for name in ("lambdawarmer.handler", "decorated_app"):
        sys.modules.pop(name, None)
    yield importlib.import_module("lambdawarmer.handler")
    for name in ("lambdawarmer.handler", "decorated_app"):
        sys.modules.pop(name, None)


def emf_records(text: str) -> list[dict[str, Any]]:
    """The ColdStart/WarmStart records (one per invocation; round records aside)."""
    return [json.loads(line) for line in text.splitlines() if '"ColdStart"' in line]


def test_one_record_per_invocation_and_cold_exactly_once(
    layer_handler: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    for order in range(3):
        assert layer_handler.handler({"order": order}, make_context()) == {"handled": {"order": order}}
    records = emf_records(capsys.readouterr().out)
    assert len(records) == 3
    assert [record["ColdStart"] for record in records] == [1, 0, 0]
    assert sys.modules["decorated_app"].calls == [{"order": 0}, {"order": 1}, {"order": 2}]


def test_a_ping_is_answered_by_the_layer_and_recorded_once(
    layer_handler: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    report = layer_handler.handler({"warmer": True}, make_context())
    assert report["warmed"] is True
    assert sys.modules["decorated_app"].calls == []
    assert [record["Invocation"] for record in emf_records(capsys.readouterr().out)] == ["warmup"]


def test_outside_the_layer_the_decorator_warms(capsys: pytest.CaptureFixture[str]) -> None:
    from lambdawarmer import warmer

    def handler(event: Any, context: Any) -> Any:
        return event

    wrapped = warmer(send_metric=True)(handler)
    assert wrapped is not handler
    assert wrapped({"warmer": True}, make_context())["warmed"] is True


def test_lambda_warmer_py_is_recognised_through_other_decorators() -> None:
    import functools

    namespace: dict[str, Any] = {"__name__": "lambdawarmer", "warmer_fan_out": None, "__version__": "0.6.0"}
    exec(  # the shape of lambda-warmer-py's decorator: a closure in its module
        "def warmer(send_metric):\n"
        "    def decorator(f):\n"
        "        def wrapped_func(event, context):\n"
        "            return send_metric and f(event, context)\n"
        "        return wrapped_func\n"
        "    return decorator\n",
        namespace,
    )

    def handler(event: Any, context: Any) -> Any:
        return event

    seed_wrapped = namespace["warmer"](True)(handler)

    @functools.wraps(seed_wrapped)
    def outer(event: Any, context: Any) -> Any:
        return seed_wrapped(event, context)

    assert lambda_warmer_py_settings(outer) == {"version": "0.6.0", "send_metric": True}
    assert lambda_warmer_py_settings(handler) is None
