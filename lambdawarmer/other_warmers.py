"""Recognising a warmer the user's handler already wears: lambda-warmer-py's decorator.

Under the layer it is harmless (pings are answered before it) but no longer useful, and it still
costs: a log line per request, and with ``send_metric`` a PutMetricData call per request. One
warning at init says so.
"""

from __future__ import annotations

from .logs import logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def lambda_warmer_py_settings(function: Any) -> dict[str, Any] | None:
    """The settings of lambda-warmer-py's ``@warmer`` if ``function`` (or what it wraps) wears it.

    Its decorator is a closure defined in its ``lambdawarmer`` module, beside ``warmer_fan_out``.
    """
    seen = 0
    while function is not None and seen < 20:
        module = getattr(function, "__globals__", {})
        if module.get("__name__") == "lambdawarmer" and "warmer_fan_out" in module:
            code, cells = function.__code__, function.__closure__ or ()
            closure = dict(zip(code.co_freevars, (cell.cell_contents for cell in cells)))
            return {"version": module.get("__version__", "?"), "send_metric": closure.get("send_metric")}
        function = getattr(function, "__wrapped__", None)
        seen += 1
    return None


def _warn(name: str, settings: dict[str, Any]) -> None:
    metrics = (
        "with send_metric=True it still calls PutMetricData on every real request (~8 ms each; a "
        "failed call fails the request) and counts the first request after a warm-up as a cold start"
        if settings["send_metric"]
        else "with send_metric off it only logs a line per request"
    )
    logger.warning(
        "lambdawarmer: the handler %s wears lambda-warmer-py %s's @warmer decorator. The layer answers "
        "warm-up pings before it, so it no longer warms anything; %s. It can be removed (the layer's "
        "metrics: WARMER_SEND_METRIC=true).",
        name,
        settings["version"],
        metrics,
    )


def warn_if_lambda_warmer_py(name: str, handler: Any) -> None:
    """Warn once (at init) when the handler named ``name`` wears lambda-warmer-py's decorator."""
    settings = lambda_warmer_py_settings(handler)
    if settings is not None:
        _warn(name, settings)
