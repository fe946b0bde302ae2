"""The fan-out: the function invokes itself N-1 times, all in flight at once.

Each invoke is synchronous (RequestResponse), so all N instances are busy together and Lambda has
to give each one its own execution environment; the answers say which instances were warmed. The
whole round is bounded by a deadline taken from the function's remaining time, every call by the
client's timeouts, and a failure of any kind becomes a reason in the report, never an exception.

The N-1 invokes leave one after another, not at one instant: each costs the sending thread CPU
(signing, serialising) under the GIL, and a small function has a fraction of a vCPU, given as a
quota per scheduler period (128 MB: 7% of each period, then nothing until the next). So every
instance is asked to hold ``delay`` plus the time the whole round takes to leave: else the first
ones would finish before the last ones arrive, and Lambda would hand those to them again. That
time is estimated from the function's memory (its CPU share, and one throttled wait below a whole
vCPU) for the first round, and measured after every round for the next.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor, wait
from urllib.parse import quote

from .aws import LAMBDA, AwsError, LazyClient, error_reason
from .config import MAX_EXTRA_HOLD_MS
from .events import fanout_payload

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .aws import AwsClient
    from .config import WarmerConfig

MAX_REASON_LENGTH = 300
ANSWER_ALLOWANCE_MS = 250
"""What an answer needs beyond the instance's hold (the round trip, a small function's CPU share):
an invoke is sent only while that much of the round's time is left."""
LATE = "no answer before the function's time ran out"
SEND_CPU_MS = 0.4
"""CPU time one fanned-out invoke costs the sender on a whole vCPU: its thread, signing, the request
and its answer (0.26 ms measured on a kept-alive connection, more on a new one; boto3 took 2 ms)."""
ONE_VCPU_MB = 1769
QUOTA_PERIOD_MS = 100
"""The period a CPU quota is enforced over (Linux's default, the emulator's; Lambda documents none):
below a whole vCPU, a round whose sends reach the end of the period's quota waits out the rest of it."""
MIN_SEND_MS = 0.5
SAFETY = 1.5


def cpu_share(memory_mb: int) -> float:
    """The share of one vCPU a single thread of a ``memory_mb`` function gets (at most one)."""
    return min(max(memory_mb, 128), ONE_VCPU_MB) / ONE_VCPU_MB


def estimated_send_ms_for(memory_mb: int) -> float:
    """The time between two invokes leaving, for a function of ``memory_mb``: scaled by its CPU share."""
    return SEND_CPU_MS / cpu_share(memory_mb)


def expected_send_spread_ms(send_ms: float, total: int, memory_mb: int) -> float:
    """How long the ``total - 1`` invokes of a round take to leave, first to last: ``send_ms``
    between two, and below a whole vCPU the throttled rest of one quota period on the way."""
    if total <= 2:
        return 0.0
    return send_ms * (total - 2) + QUOTA_PERIOD_MS * (1 - cpu_share(memory_mb))


def function_memory_mb() -> int:
    """This function's memory size (``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``; a whole vCPU's when unknown)."""
    try:
        return int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", ONE_VCPU_MB))
    except ValueError:
        return ONE_VCPU_MB


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
    """One fanned-out invoke: the instance's report, or why there is none (``sent`` False: it was
    not sent, the function's time being too short for its answer)."""

    __slots__ = ("index", "reason", "report", "sent")

    def __init__(
        self,
        index: int,
        report: dict[str, Any] | None = None,
        reason: str | None = None,
        *,
        sent: bool = True,
    ) -> None:
        self.index = index
        self.report = report
        self.reason = reason
        self.sent = sent


class Round:
    """What one fan-out did: each invoke's outcome, the hold asked of the instances, and how long
    the invokes took to leave (first to last)."""

    __slots__ = ("hold_ms", "outcomes", "spread_ms")

    def __init__(self, outcomes: list[Outcome], hold_ms: int, spread_ms: float | None) -> None:
        self.outcomes = outcomes
        self.hold_ms = hold_ms
        self.spread_ms = spread_ms

    @property
    def not_sent(self) -> list[Outcome]:
        """The invokes left unsent."""
        return [outcome for outcome in self.outcomes if not outcome.sent]


class FanOut:
    """Sends the fanned-out invokes of one execution environment, through one shared client."""

    __slots__ = ("client", "config", "memory_mb", "send_ms")

    def __init__(self, config: WarmerConfig) -> None:
        self.config = config
        self.client = LazyClient(LAMBDA, config.read_timeout_ms, config.max_concurrency)
        self.memory_mb = function_memory_mb()
        self.send_ms = estimated_send_ms_for(self.memory_mb)  # until a round measured it

    def send_spread_ms(self, total: int) -> float:
        """How long the ``total - 1`` invokes of a round are expected to take to leave, first to last."""
        return expected_send_spread_ms(self.send_ms, total, self.memory_mb)

    def run(
        self, target: Target, total: int, correlation_id: str, deadline: float, extra_hold_ms: float
    ) -> Round:
        """Invoke instances 2..``total`` at once; their outcomes by ``deadline`` (``time.monotonic()``).

        Each holds the delay plus ``extra_hold_ms`` (at least :meth:`send_spread_ms`), at most 10 s
        more. An invoke is sent only while its answer can still come back by ``deadline``.
        """
        indexes = range(2, total + 1)
        hold_ms = self.config.delay + min(MAX_EXTRA_HOLD_MS, round(extra_hold_ms))
        try:
            client = self.client.get()
        except Exception as error:
            reason = f"no Lambda client: {error_reason(error)}"
            return Round([Outcome(index, reason=reason) for index in indexes], hold_ms, None)
        dispatch = _Dispatch(self, client, target, hold_ms, deadline)
        futures = {}
        pool = ThreadPoolExecutor(max_workers=len(indexes), thread_name_prefix="lambdawarmer")
        try:
            for index in indexes:
                if not dispatch.time_for_answer():
                    break  # more threads would only wait for answers that cannot come in time
                payload = fanout_payload(index, total, correlation_id, hold_ms, self.config.token)
                futures[index] = pool.submit(dispatch.invoke, index, payload)
            wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()))
        finally:
            pool.shutdown(wait=False)
        outcomes = []
        for index in indexes:
            future = futures.get(index)
            if future is None:
                outcomes.append(dispatch.not_sent(index))
            elif future.done():
                outcomes.append(future.result())
            else:
                outcomes.append(Outcome(index, reason=LATE))
        sent = dispatch.sent
        spread_ms = (max(sent) - min(sent)) * 1000 if len(sent) > 1 else None
        if spread_ms is not None:
            self.send_ms = max(MIN_SEND_MS, SAFETY * spread_ms / (len(sent) - 1))
        return Round(outcomes, hold_ms, spread_ms)

    def timed_out(self, hold_ms: int) -> str:
        """Why an invoke that ran out its read timeout has no answer, and what to do."""
        timeout_ms = self.config.read_timeout_ms
        setting = "the default" if self.config.invoke_timeout is None else "WARMER_INVOKE_TIMEOUT"
        return (
            f"ReadTimeoutError: no answer within {timeout_ms} ms ({setting}); the instance holds "
            f"{hold_ms} ms before it answers, after its init when it starts cold (up to 10 s): leave "
            "WARMER_INVOKE_TIMEOUT unset or raise it"
        )


class _Dispatch:
    """One round's invokes: where they go, how long each instance holds, when answers are due, and
    when each invoke left (the send spread)."""

    __slots__ = ("client", "deadline", "fanout", "hold_ms", "path", "query", "sent")

    def __init__(
        self, fanout: FanOut, client: AwsClient, target: Target, hold_ms: int, deadline: float
    ) -> None:
        self.fanout = fanout
        self.client = client
        self.path = f"/2015-03-31/functions/{quote(target.function, safe='-_.~')}/invocations"
        self.query = f"Qualifier={quote(target.qualifier, safe='-_.~')}" if target.qualifier else ""
        self.hold_ms = hold_ms
        self.deadline = deadline
        self.sent: list[float] = []

    def time_for_answer(self) -> bool:
        """Whether an invoke sent now could still be answered by the deadline."""
        return (self.deadline - time.monotonic()) * 1000 >= self.hold_ms + ANSWER_ALLOWANCE_MS

    def not_sent(self, index: int) -> Outcome:
        """The outcome of an invoke left unsent, saying why."""
        left_ms = max(0, round((self.deadline - time.monotonic()) * 1000))
        reason = (
            f"not sent: {left_ms} ms of the function's time left, less than the instance's hold "
            f"({self.hold_ms} ms) plus {ANSWER_ALLOWANCE_MS} ms for its answer"
        )
        return Outcome(index, reason=reason, sent=False)

    def invoke(self, index: int, payload: bytes) -> Outcome:
        """Invoke instance ``index`` and read its report (in a thread of the round's pool)."""
        if not self.time_for_answer():
            return self.not_sent(index)
        left_s = self.deadline - time.monotonic()
        self.sent.append(time.monotonic())
        try:
            response = self.client.call(
                "POST",
                self.path,
                query=self.query,
                headers={"X-Amz-Invocation-Type": "RequestResponse"},
                body=payload,
                timeout_s=left_s,
            )
        except AwsError as error:
            if error.code != "ReadTimeoutError":
                return _failed(index, error_reason(error))
            return _failed(
                index, LATE if left_s < self.client.timeout_s else self.fanout.timed_out(self.hold_ms)
            )
        except Exception as error:
            return _failed(index, error_reason(error))
        body = response.body
        function_error = response.headers.get("x-amz-function-error")
        if function_error:
            return _failed(index, f"function error ({function_error}): {body[:200].decode(errors='replace')}")
        try:
            report = json.loads(body)
        except ValueError:
            report = None
        if not isinstance(report, dict) or not isinstance(report.get("instance_id"), str):
            return _failed(
                index, f"the answer is not a warm-up report: {body[:100].decode(errors='replace')}"
            )
        return Outcome(index, report)


def _failed(index: int, reason: str) -> Outcome:
    return Outcome(index, reason=reason[:MAX_REASON_LENGTH])
