"""The warming engine: wraps a handler, answers warm-up pings, lets everything else through.

A real event costs the wrapped handler one type check, a few dict lookups and a flag. A ping never
reaches the handler: it is answered with a :class:`~.protocol.Report` (inside a durable execution's
envelope, as the execution's result: protocol.durable). The ping's kind decides the
role: a scheduled ping makes this instance the originator (originator.py: it chooses N and fans
out), any other ping a receiver, which holds ``delay`` ms (or what the originator asked) so that
the others cannot be handed this environment.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time

from .instance import ENVIRONMENT, PROVISIONED, ExecutionEnvironment
from .logs import apply_level, log_fields, logger
from .protocol.fields import ENVELOPE_FIELD, trigger_fields
from .timing import longest_hold_ms, time_left_ms

# Imported where needed, not here: what only recognising a ping needs (an event with a trigger
# field: protocol.pings; a durable envelope: protocol.durable), what only a ping needs (its report),
# what only metrics need, and what only the first request after a ping needs (observability): a
# function that serves plain requests loads none of it in its init.

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeVar

    from .config import WarmerConfig
    from .metrics import Recorder
    from .originator import Originator
    from .protocol import Ping, PingFormat

    Handler = TypeVar("Handler", bound=Callable[..., Any])


MANAGED_INSTANCES = (
    "Lambda Managed Instances: environments serve several requests at once and start ahead of demand, "
    "so there is no cold start to avoid and a ping only takes a worker from real requests; answered "
    "at once, no fan-out, no hold (set the function's minimum execution environments instead)"
)


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + f".{int(timestamp % 1 * 1000):03d}Z"


class Warmer:
    """One configured warmer: detects pings, answers them, records metrics."""

    def __init__(self, config: WarmerConfig, environment: ExecutionEnvironment = ENVIRONMENT) -> None:
        self.config = config
        self.environment = environment
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "unknown")
        self._pings: PingFormat | None = None  # made by the first event that may be a ping
        self._recorder: Recorder | None = None
        if config.send_metric:
            from .metrics import make_recorder

            self._recorder = make_recorder(config, self.function_name)
        self._originator: Originator | None = None
        self._relay_loader: threading.Thread | None = None
        self._lock = threading.Lock()
        apply_level(config.log_level)

    def wrap(self, handler: Handler) -> Handler:
        """``handler`` with pings answered before it; its results and exceptions pass through untouched."""
        detect = self._detect
        # The fields detect reads: an event with none of them is not a ping, and skips the call.
        field_a, field_b, field_c = trigger_fields(self.config.flag)
        environment = self.environment
        recorder = self._recorder
        answer = self.answer
        now = time.time
        first_request = self._first_request

        durable_ping = self._durable_ping
        durable_answer = self._durable_answer
        envelope_field = ENVELOPE_FIELD

        @functools.wraps(handler)
        def warmed(event: Any, context: Any) -> Any:
            # The per-request path: every line here is paid by every request.
            if isinstance(event, dict):
                if (field_a in event or field_b in event or field_c in event) and (
                    ping := detect(event)
                ) is not None:
                    return answer(ping, context)
                if envelope_field in event and (ping := durable_ping(event)) is not None:
                    return durable_answer(ping, context)
            elif hasattr(event, "durable_execution_arn") and (ping := durable_ping(event)) is not None:
                return durable_answer(ping, context)
            cold = environment.awaiting_request and first_request()
            environment.last_request_at = now()
            if recorder is not None:
                recorder.record(cold, False)
            return handler(event, context)

        return warmed  # type: ignore[return-value]

    def _detect(self, event: Mapping[str, object]) -> Ping | None:
        """The ping ``event`` is, or None (:meth:`PingFormat.detect`, the pings' format made once)."""
        pings = self._pings
        if pings is None:
            from .protocol.pings import PingFormat

            pings = self._pings = PingFormat.of(self.config)  # the same for every thread making it
        return pings.detect(event)

    def _durable_ping(self, envelope: Any) -> Ping | None:
        """The ping a durable execution was started with (see protocol.durable), or None."""
        from .protocol.durable import execution_input

        payload = execution_input(envelope)
        return self._detect(payload) if isinstance(payload, dict) else None

    def _durable_answer(self, ping: Ping, context: Any) -> dict[str, Any]:
        """The answer to a durable execution's ping: the execution, succeeded, its result the report."""
        from .protocol.durable import execution_result

        return execution_result(self.answer(ping, context))

    def _first_request(self) -> bool:
        """Whether the first real request of this environment is cold. When a ping came first, the
        observability libraries loaded are told it is warm (unless WARMER_FIX_COLD_START_FLAGS=false)."""
        cold, after_ping = self.environment.claim_first_request()
        if after_ping and self.config.fix_cold_start_flags:
            from .observability import mark_warm

            told = mark_warm()
            if told:
                logger.debug("lambdawarmer: told %s: warm (a ping started this environment)", ", ".join(told))
        return cold

    def answer(self, ping: Ping, context: Any) -> dict[str, Any]:
        """The report for ``ping``, after its fan-out or hold. Never raises."""
        try:
            report = self._answer(ping, context)
        except Exception as error:  # a warm-up ping never fails the function
            logger.exception("lambdawarmer: warm-up ping failed inside lambdawarmer")
            from .protocol.reports import failure_answer

            return failure_answer(error)
        return report

    def _answer(self, ping: Ping, context: Any) -> dict[str, Any]:
        from .protocol.pings import PingKind
        from .protocol.reports import Report

        environment = self.environment
        last_request_at = environment.last_request_at
        cold = environment.claim_cold()
        if self._recorder is not None:
            self._recorder.record(cold, True)
        if ping.warning:
            logger.warning("lambdawarmer: %s", ping.warning)
        report = Report(
            function=self.function_name,
            instance_id=environment.instance_id,
            cold=cold,
            index=ping.index,
            concurrency=ping.total,
            correlation_id=ping.correlation_id or getattr(context, "aws_request_id", None) or "",
            source=ping.kind,
            initialization=environment.initialization,
        )
        if environment.managed_instances:
            report.fan_out_skipped = MANAGED_INSTANCES
        elif ping.kind == PingKind.SCHEDULED:
            report.origination = self._originator_ready().originate(
                ping,
                context,
                report.correlation_id,
                report.instance_id,
                cold,
                provisioned=environment.initialization == PROVISIONED,
            )
        else:
            arrived = int(time.time() * 1000)
            tree = ping.tree
            if tree is not None and tree.last > ping.index:
                report.subtree = self._originator_ready().relay(ping, context, arrived_ms=arrived)
            report.held_at = arrived
            self._hold(ping, context)
        answer = report.as_dict()
        self._log(answer, last_request_at)
        return answer

    def _hold(self, ping: Ping, context: Any) -> None:
        """The receiver's part: hold what the originator asked, in a tree round until its release
        instant (by this host's clock; the delay when that has passed), at most the delay plus 10 s
        and never past the function's time, so that no other invoke of the round is handed this
        environment. A tree round's instance loads what relaying needs meanwhile (once)."""
        delay = self.config.delay
        loading = None
        if ping.tree is not None:
            loading = self._relay_loading()
            wanted = ping.tree.release_at - int(time.time() * 1000)
            relayed = ping.tree.last > ping.index  # busy through the release instant already
            hold_ms = wanted if wanted > 0 else 0 if relayed else delay
        else:
            hold_ms = delay if ping.hold_ms is None else ping.hold_ms
        hold_ms = min(hold_ms, longest_hold_ms(delay), time_left_ms(context, self.config.read_timeout_ms))
        time.sleep(hold_ms / 1000)
        if loading is not None:
            # awaited while the function's time allows, never past it: a ping must not time out
            # (on a starved host the load can take longer than that; it then ends at the next invoke)
            loading.join(time_left_ms(context, 0) / 1000)

    def _relay_loading(self) -> threading.Thread | None:
        """What relaying needs (the originator, the fan-out, its client: a second at 128 MB),
        loading in a thread of its own, started once per environment; None once loaded, or when no
        thread can be started (a relay then loads it itself). Any instance may be a relay at the
        next ping, and a relay that must load first sends its share late."""
        loader = self._relay_loader  # read unlocked: the loader holds the lock while it makes the originator
        if loader is None:
            with self._lock:
                loader = threading.Thread(
                    target=self._load_relay, name="lambdawarmer-relay-load", daemon=True
                )
                try:
                    loader.start()
                except RuntimeError:  # the process is at its thread limit: the function's own threads
                    return None
                self._relay_loader = loader
        return loader if loader.is_alive() else None

    def _load_relay(self) -> None:
        self._originator_once().prepare_relay()

    def _originator_once(self) -> Originator:
        with self._lock:
            if self._originator is None:
                from .originator import Originator

                self._originator = Originator(self.config, self.function_name, self._recorder)
            return self._originator

    def _originator_ready(self) -> Originator:
        """The originator, once a load that a hold left unfinished is over (this invoke needs what
        it loads, and nothing is loaded twice)."""
        loader = self._relay_loader
        if loader is not None:
            loader.join()
        return self._originator_once()

    def _log(self, report: dict[str, Any], last_request_at: float | None) -> None:
        if not logger.isEnabledFor(logging.INFO):
            return
        from .version import __version__

        since = None if last_request_at is None else round(time.time() - last_request_at, 3)
        fields = {
            "action": "warmer",
            **{key: value for key, value in report.items() if key != "failures"},
            "last_accessed": _iso(last_request_at),
            "seconds_since_last_request": since,
            "lambdawarmer": __version__,
        }
        log_fields(logging.INFO, "lambdawarmer: warm-up ping answered", fields)
