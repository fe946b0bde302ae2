"""The warming engine: wraps a handler, answers warm-up pings, lets everything else through.

A real event costs the wrapped handler one type check, a few dict lookups and a flag. A ping never
reaches the handler: it is answered with a small JSON report, after the fan-out on the instance that
received the scheduled ping, after holding ``delay`` ms on the instances it invoked.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time

from .config import MAX_EXTRA_HOLD_MS
from .events import Ping, PingDetector, PingKind
from .instance import ENVIRONMENT, ExecutionEnvironment
from .logs import apply_level, log_fields, logger
from .metrics import make_recorder
from .version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from .config import WarmerConfig
    from .originator import Originator

    Handler = TypeVar("Handler", bound=Callable[..., Any])

DEADLINE_MARGIN_MS = 500
"""Time kept back from the function's remaining time when bounding a fan-out or a hold."""


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + f".{int(timestamp % 1 * 1000):03d}Z"


def _remaining_ms(context: Any, fallback_ms: int) -> int:
    try:
        return int(context.get_remaining_time_in_millis())
    except Exception:
        return fallback_ms


class Warmer:
    """One configured warmer: detects pings, answers them, records metrics."""

    def __init__(self, config: WarmerConfig, environment: ExecutionEnvironment = ENVIRONMENT) -> None:
        self.config = config
        self.environment = environment
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "unknown")
        self._detector = PingDetector(config.flag, config.concurrency, config.max_concurrency, config.token)
        self._recorder = make_recorder(config, self.function_name)
        self._originator: Originator | None = None
        self._lock = threading.Lock()
        apply_level(config.log_level)

    def wrap(self, handler: Handler) -> Handler:
        """``handler`` with pings answered before it; its results and exceptions pass through untouched."""
        detect = self._detector.detect
        # The fields detect reads: an event with none of them is not a ping, and skips the call.
        field_a, field_b, field_c = self._detector.trigger_fields
        environment = self.environment
        recorder = self._recorder
        answer = self.answer
        now = time.time

        @functools.wraps(handler)
        def warmed(event: Any, context: Any) -> Any:
            # The per-request path: every line here is paid by every request.
            if (
                isinstance(event, dict)
                and (field_a in event or field_b in event or field_c in event)
                and (ping := detect(event)) is not None
            ):
                return answer(ping, context)
            cold = environment.fresh and environment.claim_cold()
            environment.last_request_at = now()
            if recorder is not None:
                recorder.record(cold, False)
            return handler(event, context)

        return warmed  # type: ignore[return-value]

    def answer(self, ping: Ping, context: Any) -> dict[str, Any]:
        """The report for ``ping``, after its fan-out or hold. Never raises."""
        started = time.monotonic()
        try:
            return self._answer(ping, context, started)
        except Exception as error:  # a warm-up ping never fails the function
            logger.exception("lambdawarmer: warm-up ping failed inside lambdawarmer")
            return {"warmed": False, "error": f"{type(error).__name__}: {error}"[:300]}

    def _answer(self, ping: Ping, context: Any, started: float) -> dict[str, Any]:
        environment = self.environment
        last_request_at = environment.last_request_at
        cold = environment.claim_cold()
        if self._recorder is not None:
            self._recorder.record(cold, True)
        if ping.warning:
            logger.warning("lambdawarmer: %s", ping.warning)
        request_id = getattr(context, "aws_request_id", None) or ""
        report: dict[str, Any] = {
            "warmed": True,
            "function": self.function_name,
            "instance_id": environment.instance_id,
            "cold": cold,
            "index": ping.index,
            "concurrency": ping.total,
            "correlation_id": ping.correlation_id or request_id,
            "source": ping.kind,
        }
        remaining_ms = _remaining_ms(context, self.config.read_timeout_ms + DEADLINE_MARGIN_MS)
        budget_ms = max(0, remaining_ms - DEADLINE_MARGIN_MS)
        if ping.fans_out or (ping.kind == PingKind.SCHEDULED and self._recorder is not None):
            from .originator import Tally

            tally = Tally(environment.instance_id, cold)
            deadline = started + budget_ms / 1000
            report.update(
                self._originator_once().warm(ping, context, report["correlation_id"], tally, deadline)
            )
            if "rounds" in report:
                report["fanout_ms"] = round((time.monotonic() - started) * 1000, 1)
        elif ping.kind != PingKind.SCHEDULED:
            report["held_at"] = int(time.time() * 1000)  # when this instance started holding (its clock)
            time.sleep(min(self._hold_ms(ping), budget_ms) / 1000)
        self._log(report, last_request_at)
        return report

    def _hold_ms(self, ping: Ping) -> int:
        """How long this instance holds: what the originator asked, at most the delay plus 10 s."""
        delay = self.config.delay
        return delay if ping.hold_ms is None else min(ping.hold_ms, delay + MAX_EXTRA_HOLD_MS)

    def _originator_once(self) -> Originator:
        with self._lock:
            if self._originator is None:
                from .originator import Originator

                self._originator = Originator(self.config, self.function_name, self._recorder)
            return self._originator

    def _log(self, report: dict[str, Any], last_request_at: float | None) -> None:
        if not logger.isEnabledFor(logging.INFO):
            return
        since = None if last_request_at is None else round(time.time() - last_request_at, 3)
        fields = {
            "action": "warmer",
            **{key: value for key, value in report.items() if key != "failures"},
            "last_accessed": _iso(last_request_at),
            "seconds_since_last_request": since,
            "lambdawarmer": __version__,
        }
        log_fields(logging.INFO, "lambdawarmer: warm-up ping answered", fields)
