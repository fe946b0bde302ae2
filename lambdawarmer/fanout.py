"""The fan-out: the function invokes itself N-1 times, all in flight at once.

Each invoke is synchronous (RequestResponse), so all N instances are busy together and Lambda has
to give each one its own execution environment; the answers say which instances were warmed. The
whole round is bounded by a deadline taken from the function's remaining time, every call by the
client's timeouts, and a failure of any kind becomes a reason in the report, never an exception.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor, wait

from .aws import LazyClient, error_reason
from .events import fanout_payload

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_REASON_LENGTH = 300


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


class FanOut:
    """Sends the fanned-out invokes of one execution environment, through one shared client."""

    __slots__ = ("client",)

    def __init__(self, pool_size: int, timeout_ms: int) -> None:
        self.client = LazyClient("lambda", timeout_ms, pool_size)

    def run(self, target: Target, total: int, correlation_id: str, deadline: float) -> list[Outcome]:
        """Invoke instances 2..``total`` at once; their outcomes by ``deadline`` (``time.monotonic()``)."""
        indexes = range(2, total + 1)
        try:
            client = self.client.get()
        except Exception as error:
            reason = f"no Lambda client: {error_reason(error)}"
            return [Outcome(index, reason=reason) for index in indexes]
        pool = ThreadPoolExecutor(max_workers=len(indexes), thread_name_prefix="lambdawarmer")
        try:
            futures = {
                index: pool.submit(self._invoke, client, target, fanout_payload(index, total, correlation_id))
                for index in indexes
            }
            wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()))
        finally:
            pool.shutdown(wait=False)
        late = "no answer before the function's time ran out"
        return [
            _outcome(index, future.result()) if future.done() else Outcome(index, reason=late)
            for index, future in futures.items()
        ]

    @staticmethod
    def _invoke(client: Any, target: Target, payload: bytes) -> tuple[dict[str, Any] | None, str | None]:
        arguments = {"FunctionName": target.function, "InvocationType": "RequestResponse", "Payload": payload}
        if target.qualifier:
            arguments["Qualifier"] = target.qualifier
        try:
            response = client.invoke(**arguments)
            body = response["Payload"].read()
        except Exception as error:
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


def _outcome(index: int, result: tuple[dict[str, Any] | None, str | None]) -> Outcome:
    report, reason = result
    return Outcome(index, report, reason[:MAX_REASON_LENGTH] if reason else None)
