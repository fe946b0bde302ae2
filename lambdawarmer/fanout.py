"""The fan-out: the function invokes itself N-1 times, all in flight at once.

Each invoke is synchronous (RequestResponse), so all N instances are busy together and Lambda has
to give each one its own execution environment; the answers say which instances were warmed. The
whole round is bounded by a deadline taken from the function's remaining time, every call by the
client's timeouts, and a failure of any kind becomes a reason in the report, never an exception.
An invoke is sent only while its answer can still come back in time; when each one left is
measured (the send spread), for the originator to size the next hold.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor, wait
from urllib.parse import quote

from .aws import LAMBDA, AwsError, LazyClient, error_reason
from .protocol import NotAReport, Report, fanout_payload, report_from_answer
from .timing import ANSWER_ALLOWANCE_MS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .aws import AwsClient, Response
    from .config import WarmerConfig
    from .function_ref import FunctionRef
    from .protocol import TreePlace

MAX_REASON_LENGTH = 300
LATE = "no answer before the function's time ran out"


class Outcome:
    """One fanned-out invoke: the instance's report, or why there is none (``sent`` False: it was
    not sent, the function's time being too short for its answer)."""

    __slots__ = ("index", "reason", "report", "sent")

    def __init__(
        self,
        index: int,
        report: Report | None = None,
        reason: str | None = None,
        *,
        sent: bool = True,
    ) -> None:
        self.index = index
        self.report = report
        self.reason = reason
        self.sent = sent


class Round:
    """What one fan-out did: each invoke's outcome, the hold asked of the instances, how long the
    ``sent_count`` requests that left took to leave (first to last, each after its connection was
    ready; None with fewer than two), the TLS handshakes of the connections it opened, and whether
    it started the environment's sending threads (``kept_alive``: it did neither)."""

    __slots__ = ("handshakes", "hold_ms", "outcomes", "send_spread_ms", "sent_count", "started_threads")

    def __init__(
        self,
        outcomes: list[Outcome],
        hold_ms: int,
        send_spread_ms: float | None,
        sent_count: int = 0,
        handshakes: int = 0,
        *,
        started_threads: bool = False,
    ) -> None:
        self.outcomes = outcomes
        self.hold_ms = hold_ms
        self.send_spread_ms = send_spread_ms
        self.sent_count = sent_count
        self.handshakes = handshakes
        self.started_threads = started_threads

    @property
    def kept_alive(self) -> bool:
        """Sent on connections and threads already there: what a steady round costs."""
        return self.handshakes == 0 and not self.started_threads

    @property
    def invocations_sent(self) -> int:
        """The invokes tried, answered or not, failed on the way included (``sent_count`` counts those
        whose answer came); the rest were not sent, each with its reason."""
        return sum(1 for outcome in self.outcomes if outcome.sent)

    @property
    def not_sent(self) -> list[Outcome]:
        """The invokes left unsent."""
        return [outcome for outcome in self.outcomes if not outcome.sent]


class FanOut:
    """Sends the fanned-out invokes of one execution environment, through one shared client and
    one pool of threads kept from round to round (a thread started costs the sender CPU too)."""

    __slots__ = ("_pool", "_pool_pid", "client", "config")

    def __init__(self, config: WarmerConfig) -> None:
        self.config = config
        self.client = LazyClient(LAMBDA, config.read_timeout_ms, config.max_concurrency)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0

    def _threads(self) -> ThreadPoolExecutor:
        """The sending threads, made on first use (and again in a forked process: threads do not
        survive a fork)."""
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool = ThreadPoolExecutor(self.config.max_concurrency, thread_name_prefix="lambdawarmer")
            self._pool_pid = os.getpid()
        return self._pool

    @property
    def threads_ready(self) -> bool:
        """Whether the sending threads are there (a round then starts none)."""
        return self._pool is not None and self._pool_pid == os.getpid()

    def handshakes_for(self, calls: int) -> int:
        """The TLS handshakes ``calls`` invokes at once would cost now (none over plain HTTP, or
        when the client cannot be made: the round then reports why)."""
        try:
            return self.client.get().handshakes_for(calls)
        except Exception:
            return 0

    def run(
        self,
        target: FunctionRef,
        total: int,
        correlation_id: str,
        deadline: float,
        hold_ms: int,
        *,
        cut: tuple[int, str] | None = None,
        tenant: str | None = None,
        places: dict[int, TreePlace] | None = None,
        answers_by: float | None = None,
    ) -> Round:
        """Invoke instances 2..``total`` at once, each to hold ``hold_ms``; their outcomes by
        ``deadline`` (``time.monotonic()``). An invoke is sent only while its answer can still come
        back by ``deadline``; ``cut`` (N, why): only instances 2..N are invoked, the others are
        reported not sent, for that reason, without trying. ``tenant``: the tenant every invoke
        names (``X-Amz-Tenant-Id``), on a function that isolates tenants. ``places``: a tree
        round's, only the indexes it names are invoked, each payload with its place; its answers
        are awaited until ``answers_by``, and each is sent while its sender's time lasts (with
        its answer's allowance), whether its answer can still come back or not."""
        indexes = range(2, total + 1) if places is None else sorted(places)
        try:
            client = self.client.get()
        except Exception as error:
            reason = f"no Lambda client: {error_reason(error)}"
            return Round([Outcome(index, reason=reason) for index in indexes], hold_ms, None)
        handshakes_before = client.handshakes_done
        # a tree round's sender sends its share by its own time: its children hold until their
        # release instant whether or not their answers can still come back to it
        answered_after_ms = hold_ms if places is None else 0
        dispatch = _Dispatch(self, SelfInvoke(client, target, tenant), answered_after_ms, deadline)
        futures = {}
        started_threads = self._pool is None or self._pool_pid != os.getpid()
        pool = self._threads()
        last, why = cut if cut is not None else (total, "")
        for index in indexes:
            if index > last or not dispatch.time_for_answer():
                break  # more threads would only wait for answers that cannot come in time
            place = None if places is None else places[index]
            payload = fanout_payload(index, total, correlation_id, hold_ms, self.config.token, tree=place)
            futures[index] = pool.submit(dispatch.invoke, index, payload)
        waited_until = deadline if answers_by is None else min(deadline, answers_by)
        wait(futures.values(), timeout=max(0.0, waited_until - time.monotonic()))
        outcomes = []
        for index in indexes:
            future = futures.get(index)
            if future is None:
                outcomes.append(
                    Outcome(index, reason=why, sent=False) if index > last else dispatch.not_sent(index)
                )
            elif future.done():
                outcomes.append(future.result())
            else:
                outcomes.append(Outcome(index, reason=LATE))
        sent = dispatch.sent
        send_spread_ms = (max(sent) - min(sent)) * 1000 if len(sent) > 1 else None
        handshakes = client.handshakes_done - handshakes_before
        return Round(
            outcomes, hold_ms, send_spread_ms, len(sent), handshakes, started_threads=started_threads
        )

    def timed_out(self, hold_ms: int) -> str:
        """Why an invoke that ran out its read timeout has no answer, and what to do."""
        timeout_ms = self.config.read_timeout_ms
        setting = "the default" if self.config.invoke_timeout is None else "WARMER_INVOKE_TIMEOUT"
        return (
            f"ReadTimeoutError: no answer within {timeout_ms} ms ({setting}); the instance holds "
            f"{hold_ms} ms before it answers, after its init when it starts cold (up to 10 s): leave "
            "WARMER_INVOKE_TIMEOUT unset or raise it"
        )


TENANT_HEADER = "X-Amz-Tenant-Id"
"""The Invoke API's header naming the tenant, which a function that isolates tenants requires."""


class SelfInvoke:
    """Synchronous invokes of one target (for one tenant, when named) through one client, each answer
    read as a warm-up report (the fan-out's, and the deploy hook's ping of a new version)."""

    __slots__ = ("client", "headers", "path", "query")

    def __init__(self, client: AwsClient, target: FunctionRef, tenant: str | None = None) -> None:
        self.client = client
        self.headers = {"X-Amz-Invocation-Type": "RequestResponse"}
        if tenant is not None:
            self.headers[TENANT_HEADER] = tenant
        self.path = f"/2015-03-31/functions/{quote(target.function, safe='-_.~')}/invocations"
        self.query = f"Qualifier={quote(target.qualifier, safe='-_.~')}" if target.qualifier else ""

    def send(self, payload: bytes, timeout_s: float) -> Response:
        """The answer to ``payload``; raises :class:`~.aws.AwsError` when the call fails."""
        return self.client.call(
            "POST",
            self.path,
            query=self.query,
            headers=self.headers,
            body=payload,
            timeout_s=timeout_s,
        )

    def report(self, payload: bytes, timeout_s: float) -> Report:
        """The report ``payload`` is answered with; raises :class:`~.aws.AwsError` when the call
        fails, :class:`~.protocol.NotAReport` (saying what came instead) when the answer is none."""
        return read_report(self.send(payload, timeout_s))


class _Dispatch:
    """One round's invokes: where they go, how long each instance holds, when answers are due, and
    when each invoke left (the send spread)."""

    __slots__ = ("deadline", "fanout", "hold_ms", "invokes", "sent")

    def __init__(self, fanout: FanOut, invokes: SelfInvoke, hold_ms: int, deadline: float) -> None:
        self.fanout = fanout
        self.invokes = invokes
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
        try:
            response = self.invokes.send(payload, left_s)
            self.sent.append(response.sent_at)
            return Outcome(index, read_report(response))
        except NotAReport as error:
            return _failed(index, str(error))
        except AwsError as error:
            if error.code != "ReadTimeoutError":
                return _failed(index, error_reason(error))
            late = left_s < self.invokes.client.timeout_s
            return _failed(index, LATE if late else self.fanout.timed_out(self.hold_ms))
        except Exception as error:
            return _failed(index, error_reason(error))


def read_report(response: Response) -> Report:
    """The report an invoke's answer carries (raises :class:`~.protocol.NotAReport` when none)."""
    return report_from_answer(response.body, response.headers.get("x-amz-function-error"))


def _failed(index: int, reason: str) -> Outcome:
    return Outcome(index, reason=reason[:MAX_REASON_LENGTH])
