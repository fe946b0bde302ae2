"""Telling the observability libraries already loaded that a warmed environment's first request is warm.

Powertools, Datadog, New Relic, Lumigo and Epsagon decide "cold start" from a flag of their own,
flipped by the first call of the handler they wrap. Under lambdawarmer the first call in an
environment a ping started is a real request that finds the init long done (Lambda's REPORT line
has no ``Init Duration`` for it), yet they would report it cold. Just before that request reaches
the handler, :func:`mark_warm` sets each flag to what the library itself sets after its first
call. It only touches modules already in ``sys.modules`` (it never imports one), and only an
attribute that is there with the library's cold value (so a version that renamed it, or an
environment the library already takes for warm, is left alone). An environment whose first
invocation is a real request is a true cold start, and nothing here runs for it.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType


class _Flag:
    """One library's cold-start flag: ``attribute`` of ``module`` (of its class ``owner`` when
    given), ``cold`` until the library's first call, the other value after it."""

    __slots__ = ("attribute", "cold", "library", "module", "owner")

    def __init__(
        self, library: str, module: str, attribute: str, cold: bool, *, owner: str | None = None
    ) -> None:
        self.library = library
        self.module = module
        self.attribute = attribute
        self.owner = owner
        self.cold = cold

    def set_warm(self) -> bool:
        """Set the flag warm if its module is loaded and it holds the cold value; whether it did."""
        module = sys.modules.get(self.module)
        holder: object = module
        if module is not None and self.owner is not None:
            holder = getattr(module, self.owner, None)
        if holder is None or getattr(holder, self.attribute, None) is not self.cold:
            return False
        setattr(holder, self.attribute, not self.cold)
        return True


FLAGS = (
    _Flag("Powertools Logger", "aws_lambda_powertools.logging.logger", "is_cold_start", True),
    _Flag("Powertools Tracer", "aws_lambda_powertools.tracing.tracer", "is_cold_start", True),
    _Flag("Powertools Metrics", "aws_lambda_powertools.metrics.provider.cold_start", "is_cold_start", True),
    _Flag("Powertools Metrics (2.2-2.22)", "aws_lambda_powertools.metrics.base", "is_cold_start", True),
    _Flag("Powertools Metrics (before 2.2)", "aws_lambda_powertools.metrics.metrics", "is_cold_start", True),
    _Flag("New Relic", "newrelic_lambda.lambda_handler", "COLD_START_RECORDED", False),
    _Flag("New Relic (agent's handler)", "newrelic.api.lambda_handler", "COLD_START_RECORDED", False),
    _Flag("Lumigo", "lumigo_tracer.lambda_tracer.spans_container", "is_cold", True, owner="SpansContainer"),
    _Flag(
        "Lumigo (before 1.1.200)", "lumigo_tracer.spans_container", "is_cold", True, owner="SpansContainer"
    ),
    _Flag("Epsagon", "epsagon.constants", "COLD_START", True),
)
"""Every flag set, by module and attribute, as each library's source has it."""

DATADOG = "datadog_lambda.cold_start"
DATADOG_TRACER = "ddtrace.trace"


def _datadog_warm() -> bool:
    """Datadog's flags. Its wrapper decides on its first call, from ``_lambda_container_initialized``:
    cold, or a "proactive initialization" when that call comes over 10 s after the import (which would
    mark a warmed request's import spans). Marked initialized, it reports the call as neither. An
    initialized container also records the tracer's context on every later import, so the tracer
    is set too, from ``ddtrace.trace`` when that is loaded; without it Datadog is left alone."""
    module: ModuleType | None = sys.modules.get(DATADOG)
    tracing: ModuleType | None = sys.modules.get(DATADOG_TRACER)
    if (
        module is None
        or getattr(module, "_lambda_container_initialized", None) is not False
        or getattr(module, "_cold_start", None) is not True
        or not hasattr(module, "_proactive_initialization")
    ):
        return False
    if getattr(module, "_tracer", None) is None:
        tracer = getattr(tracing, "tracer", None)
        if tracer is None:
            return False
        module._tracer = tracer  # type: ignore[attr-defined]
    module._cold_start = False  # type: ignore[attr-defined]
    module._proactive_initialization = False  # type: ignore[attr-defined]
    module._lambda_container_initialized = True  # type: ignore[attr-defined]
    return True


def mark_warm() -> list[str]:
    """Tell every library loaded that this request is warm; the libraries told. Never raises."""
    told = []
    for flag in FLAGS:
        try:
            if flag.set_warm():
                told.append(flag.library)
        except Exception:  # a library's module that refuses attributes: leave it as it is
            continue
    try:
        if _datadog_warm():
            told.append("Datadog")
    except Exception:
        pass
    return told
