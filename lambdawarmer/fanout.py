"""The fan-out: the function invokes itself N-1 times, all in flight at once.

Each invoke is synchronous (RequestResponse), so all N instances are busy together and Lambda has
to give each one its own execution environment; the answers say which instances were warmed. The
whole round is bounded by a deadline taken from the function's remaining time, every call by the
client's timeouts, and a failure of any kind becomes a reason in the report, never an exception.

The N-1 invokes leave one after another, not at one instant: each costs the sending thread CPU
(signing, serialising) under the GIL, and a small function has a fraction of a vCPU. So every
instance is asked to hold ``delay`` plus the time the whole round takes to leave: else the first
ones would finish before the last ones arrive, and Lambda would hand those to them again. That
time is estimated from the function's memory (its CPU share) for the first round, and measured
after every round for the next.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

from .aws import LazyClient, error_reason
from .config import MAX_EXTRA_HOLD_MS
from .events import fanout_payload

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .config import WarmerConfig

MAX_REASON_LENGTH = 300
SEND_MS_AT_ONE_VCPU = 2.0  # CPU time of one invoke call with a whole vCPU (1769 MB)
ONE_VCPU_MB = 1769
MIN_SEND_MS = 0.5
SAFETY = 1.5


def estimated_send_ms_for(memory_mb: int) -> float:
    """The time between two invokes leaving, for a function of ``memory_mb``: scaled by its CPU share."""
    return SEND_MS_AT_ONE_VCPU * ONE_VCPU_MB / min(max(memory_mb, 128), ONE_VCPU_MB)


def estimated_send_ms() -> float:
    """The time between two invokes leaving from this function, before any was measured."""
    try:
        memory_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", ONE_VCPU_MB))
    except ValueError:
        memory_mb = ONE_VCPU_MB
    return estimated_send_ms_for(memory_mb)


class Target:
    """What the fan-out invokes: this function, as it was invoked (same alias or version)."""

    __slots__ = ("function", "qualifier")

    def __init__(self, function: str, qualifier: str | None) -> None:
        self.function = function
        self.qualifier = qualifier

    def __repr__(self) -> str:
        return f"Target({self.function!r}, {self.qualifier!r})"


def resolve_target(context: Any) -> Target:
    """The function and qualifier the current invocation came in through.

    ``invoked_function_arn`` ends in ``:alias`` or ``:version`` when the caller named one; without
    one (or without the ARN) the fan-out targets ``function_name`` at ``function_version``.
    """
    arn = getattr(context, "invoked_function_arn", None) or ""
    parts = arn.split(":")
    version = getattr(context, "function_version", None) or None
    if len(parts) in (7, 8) and parts[0] == "arn" and parts[2] == "lambda" and parts[5] == "function":
        if len(parts) == 8 and parts[7]:
            return Target(":".join(parts[:7]), parts[7])
        return Target(":".join(parts[:7]), version)
    return Target(getattr(context, "function_name", None) or "", version)


class Outcome:
    """One fanned-out invoke: the instance's report, or why there is none."""

    __slots__ = ("index", "reason", "report")

    def __init__(self, index: int, report: dict[str, Any] | None = None, reason: str | None = None) -> None:
        self.index = index
        self.report = report
        self.reason = reason


class Round:
    """What one fan-out did: each invoke's outcome, the hold asked of the instances, and how long
    the invokes took to leave (first to last)."""

    __slots__ = ("hold_ms", "outcomes", "spread_ms")

    def __init__(self, outcomes: list[Outcome], hold_ms: int, spread_ms: float | None) -> None:
        self.outcomes = outcomes
        self.hold_ms = hold_ms
        self.spread_ms = spread_ms


class FanOut:
    """Sends the fanned-out invokes of one execution environment, through one shared client."""

    __slots__ = ("_hooked", "_lock", "_sending", "client", "config", "send_ms")

    def __init__(self, config: WarmerConfig) -> None:
        self.config = config
        self.client = LazyClient("lambda", config.read_timeout_ms, config.max_concurrency)
        self.send_ms = estimated_send_ms()
        self._sending = threading.local()  # the list a sending thread records its send time in
        self._hooked = False
        self._lock = threading.Lock()

    def send_spread_ms(self, total: int) -> float:
        """How long the ``total - 1`` invokes of a round are expected to take to leave, first to last."""
        return self.send_ms * max(0, total - 2)

    def run(
        self, target: Target, total: int, correlation_id: str, deadline: float, extra_hold_ms: float
    ) -> Round:
        """Invoke instances 2..``total`` at once; their outcomes by ``deadline`` (``time.monotonic()``).

        Each holds the delay plus ``extra_hold_ms`` (at least :meth:`send_spread_ms`), at most 10 s more.
        """
        indexes = range(2, total + 1)
        hold_ms = self.config.delay + min(MAX_EXTRA_HOLD_MS, round(extra_hold_ms))
        try:
            client = self._client()
        except Exception as error:
            reason = f"no Lambda client: {error_reason(error)}"
            return Round([Outcome(index, reason=reason) for index in indexes], hold_ms, None)
        sent: list[float] = []
        pool = ThreadPoolExecutor(max_workers=len(indexes), thread_name_prefix="lambdawarmer")
        try:
            futures = {
                index: pool.submit(
                    self._invoke,
                    client,
                    target,
                    fanout_payload(index, total, correlation_id, hold_ms, self.config.token),
                    sent,
                    hold_ms,
                )
                for index in indexes
            }
            wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()))
        finally:
            pool.shutdown(wait=False)
        late = "no answer before the function's time ran out"
        outcomes = [
            _outcome(index, future.result()) if future.done() else Outcome(index, reason=late)
            for index, future in futures.items()
        ]
        spread_ms = (max(sent) - min(sent)) * 1000 if len(sent) > 1 else None
        if spread_ms is not None:
            self.send_ms = max(MIN_SEND_MS, SAFETY * spread_ms / (len(sent) - 1))
        return Round(outcomes, hold_ms, spread_ms)

    def _client(self) -> Any:
        client = self.client.get()
        with self._lock:
            if not self._hooked:
                client.meta.events.register("before-send.lambda.Invoke", self._record_send)
                self._hooked = True
        return client

    def _record_send(self, **_: Any) -> None:
        sent = getattr(self._sending, "sent", None)
        if sent is not None:
            sent.append(time.monotonic())

    def _invoke(
        self, client: Any, target: Target, payload: bytes, sent: list[float], hold_ms: int
    ) -> tuple[dict[str, Any] | None, str | None]:
        arguments = {"FunctionName": target.function, "InvocationType": "RequestResponse", "Payload": payload}
        if target.qualifier:
            arguments["Qualifier"] = target.qualifier
        self._sending.sent = sent
        try:
            response = client.invoke(**arguments)
            body = response["Payload"].read()
        except Exception as error:
            if type(error).__name__ == "ReadTimeoutError":
                return None, self._timed_out(hold_ms)
            return None, error_reason(error)
        if response.get("FunctionError"):
            return (
                None,
                f"function error ({response['FunctionError']}): {body[:200].decode(errors='replace')}",
            )
        try:
            report = json.loads(body)
        except ValueError:
            report = None
        if not isinstance(report, dict) or not isinstance(report.get("instance_id"), str):
            return None, f"the answer is not a warm-up report: {body[:100].decode(errors='replace')}"
        return report, None

    def _timed_out(self, hold_ms: int) -> str:
        timeout_ms = self.config.read_timeout_ms
        setting = "the default" if self.config.invoke_timeout is None else "WARMER_INVOKE_TIMEOUT"
        return (
            f"ReadTimeoutError: no answer within {timeout_ms} ms ({setting}); the instance holds "
            f"{hold_ms} ms before it answers, after its init when it starts cold (up to 10 s): leave "
            "WARMER_INVOKE_TIMEOUT unset or raise it"
        )


def _outcome(index: int, result: tuple[dict[str, Any] | None, str | None]) -> Outcome:
    report, reason = result
    return Outcome(index, report, reason[:MAX_REASON_LENGTH] if reason else None)
