"""The originator: the instance that received a scheduled ping chooses N, runs the rounds, reports.

N comes from the ping, or from the function's recent traffic (``"concurrency": "auto"``). A round
invokes the function N-1 times at once, each instance holding the delay plus the expected spread of
the invokes' arrivals: the send spread (timing.py), or the arrival spread warm instances reported in
the previous round if larger (invokes reach Lambda unevenly, which the sender cannot see; each
instance reports when it started holding, by its clock). When a round warms fewer distinct
instances than asked because an instance answered twice (not because invokes failed), one more
round follows at once, holding twice what the first one measured or used, if the function's time
allows. Then one record of round metrics, and the :class:`~.protocol.Origination` for the report.

With N = 1 and no ``auto`` nothing is sent, and the AWS client is never loaded.
"""

from __future__ import annotations

import time

from .function_ref import invoked_function
from .logs import logger
from .metrics import EmfRecorder
from .protocol import AutoChoice, Failure, FanOutReport, Origination, RoundReport
from .timing import (
    SAFETY,
    estimated_send_ms_for,
    function_memory_mb,
    measured_send_ms,
    round_budget,
    time_left_ms,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .auto import AutoConcurrency
    from .config import WarmerConfig
    from .fanout import FanOut, Round
    from .function_ref import FunctionRef
    from .metrics import Recorder
    from .protocol import Ping
    from .timing import RoundBudget

TOP_UP_ALLOWANCE_MS = 1_000
"""Time a top-up round needs beyond its hold (sending, answers) to be worth starting."""
TOP_UP_FACTOR = 2
"""The top-up's extra hold over what the short round measured or used: that was proven too short."""


class Tally:
    """The distinct instances warmed so far, and every round's figures."""

    __slots__ = ("cold", "failures", "instances", "rounds")

    def __init__(self, own_instance_id: str, own_cold: bool) -> None:
        self.instances = {own_instance_id}
        self.cold = {own_instance_id} if own_cold else set()
        self.rounds: list[RoundReport] = []
        self.failures: list[Failure] = []

    def add(self, result: Round) -> int:
        """Count one round; how many of its answers came from an instance that had answered already."""
        reports = [outcome.report for outcome in result.outcomes if outcome.report is not None]
        sent = [outcome for outcome in result.outcomes if outcome.sent]
        not_sent = result.not_sent
        before = len(self.instances)
        for report in reports:
            self.instances.add(report.instance_id)
            if report.cold:
                self.cold.add(report.instance_id)
        number = len(self.rounds) + 1
        failures = [
            Failure(number, outcome.index, outcome.reason or "") for outcome in sent if outcome.report is None
        ]
        self.failures += failures
        self.rounds.append(
            RoundReport(
                hold_ms=result.hold_ms,
                send_spread_ms=None if result.send_spread_ms is None else round(result.send_spread_ms, 1),
                arrival_spread_ms=arrival_spread_ms([r.held_at for r in reports]),
                warm_arrival_spread_ms=arrival_spread_ms([r.held_at for r in reports if not r.cold]),
                invocations_sent=len(sent),
                invocations_failed=len(failures),
                invocations_not_sent=len(not_sent),
                not_sent_reason=not_sent[0].reason if not_sent else None,
                instances_warmed=len(self.instances),
            )
        )
        return len(reports) - (len(self.instances) - before)


def arrival_spread_ms(held_at: list[int | None]) -> int | None:
    """How far apart the instances started holding (their clocks; Lambda hosts are NTP-synced)."""
    stamps = [stamp for stamp in held_at if stamp is not None]
    return max(stamps) - min(stamps) if len(stamps) > 1 else None


class Originator:
    """Runs the rounds of scheduled pings for one warmer in one execution environment, and keeps what
    the rounds measured (the time between two sends, the warm arrival spread) for the next ping."""

    __slots__ = (
        "_auto",
        "_fanout",
        "arrival_allowance_ms",
        "config",
        "function_name",
        "memory_mb",
        "recorder",
        "round_recorder",
        "send_ms",
    )

    def __init__(self, config: WarmerConfig, function_name: str, recorder: Recorder | None) -> None:
        self.config = config
        self.function_name = function_name
        self.recorder = recorder
        # Auto concurrency reads the round metrics back, so it writes them even with metrics off.
        self.round_recorder = recorder or EmfRecorder(config.metrics_namespace, function_name)
        self.memory_mb = function_memory_mb()
        self.send_ms = estimated_send_ms_for(self.memory_mb)  # until a round measured it
        self.arrival_allowance_ms = 0.0  # the last round's warm arrival spread, with the safety factor
        self._fanout: FanOut | None = None
        self._auto: AutoConcurrency | None = None

    def budget(self, total: int, extra_hold_ms: float | None = None) -> RoundBudget:
        """The next round of ``total``, from what the rounds so far measured: its send spread, and each
        instance's hold (the delay plus the larger of that spread and ``extra_hold_ms``, by default the
        last warm arrival spread with the safety factor)."""
        extra_ms = self.arrival_allowance_ms if extra_hold_ms is None else extra_hold_ms
        return round_budget(
            self.memory_mb, total, self.config.delay, send_ms=self.send_ms, extra_hold_ms=extra_ms
        )

    def originate(
        self, ping: Ping, context: Any, correlation_id: str, instance_id: str, cold: bool
    ) -> Origination:
        """Choose N, warm N-1 instances beside this one (``instance_id``, ``cold``) within the
        function's remaining time, record the round; how N was chosen and what was warmed."""
        started = time.monotonic()
        deadline = started + time_left_ms(context, self.config.read_timeout_ms) / 1000
        tally = Tally(instance_id, cold)
        target = invoked_function(context)
        total, auto = ping.total, None
        if ping.auto:
            auto = self._choose(target, deadline)
            total = auto.instances
        fan_out = None
        if total > 1:
            self._run_rounds(target, total, correlation_id, tally, deadline)
            fan_out = self._summary(tally, total, started)
        self._record_round(target.qualifier, total, tally, ping.auto)
        return Origination(total, "auto" if ping.auto else "event", auto, fan_out)

    def _choose(self, target: FunctionRef, deadline: float) -> AutoChoice:
        round_ms = self.budget(self.config.auto_min).needed_ms
        choice = self._auto_concurrency().choose(target.qualifier, deadline, round_ms)
        if choice.fallback:
            logger.warning(
                "lambdawarmer: auto concurrency: warming %s: %s", choice.instances, choice.fallback
            )
        return choice

    def _run_rounds(
        self, target: FunctionRef, total: int, correlation_id: str, tally: Tally, deadline: float
    ) -> None:
        budget = self.budget(total)
        reused = tally.add(self._round(target, total, correlation_id, deadline, budget.hold_ms))
        if reused and len(tally.instances) < total and self.config.top_up:
            top_up = self._top_up_budget(tally, total, deadline, budget)
            if top_up is not None:
                tally.add(self._round(target, total, correlation_id, deadline, top_up.hold_ms))
        self.arrival_allowance_ms = SAFETY * (tally.rounds[-1].warm_arrival_spread_ms or 0)

    def _round(
        self, target: FunctionRef, total: int, correlation_id: str, deadline: float, hold_ms: int
    ) -> Round:
        """One round, each instance holding ``hold_ms``."""
        result = self._fanout_once().run(target, total, correlation_id, deadline, hold_ms)
        if result.send_spread_ms is not None:
            self.send_ms = measured_send_ms(result.send_spread_ms, result.sent_count)
        return result

    def _top_up_budget(
        self, tally: Tally, total: int, deadline: float, used: RoundBudget
    ) -> RoundBudget | None:
        """The top-up round, each instance holding twice what the short round measured or used beyond
        the delay; None: no time for it, or no token (anyone who can invoke the function could send a
        tokenless ping: it gets one round, N - 1 invocations at most, never two)."""
        if self.config.token is None:
            logger.warning(
                "lambdawarmer: %s of %s warmed; a top-up round is sent only for pings carrying "
                "WARMER_TOKEN (without one, a ping causes one round at most)",
                len(tally.instances),
                total,
            )
            return None
        first = tally.rounds[0]
        used_ms = used.hold_ms - self.config.delay
        extra_ms = TOP_UP_FACTOR * max(first.send_spread_ms or 0, first.arrival_spread_ms or 0, used_ms)
        top_up = self.budget(total, extra_ms)
        if (deadline - time.monotonic()) * 1000 < top_up.hold_ms + TOP_UP_ALLOWANCE_MS:
            logger.warning(
                "lambdawarmer: %s of %s warmed, and no time left for a top-up round",
                len(tally.instances),
                total,
            )
            return None
        return top_up

    def _summary(self, tally: Tally, total: int, started: float) -> FanOutReport:
        for failure in tally.failures:
            logger.warning(
                "lambdawarmer: fan-out invoke %s (round %s) failed: %s",
                failure.index,
                failure.round_number,
                failure.reason,
            )
        fan_out = FanOutReport(
            tally.rounds,
            tally.failures,
            len(tally.instances),
            len(tally.cold),
            round((time.monotonic() - started) * 1000, 1),
        )
        if fan_out.invocations_not_sent:
            logger.warning(
                "lambdawarmer: %s fan-out invoke(s) not sent: %s",
                fan_out.invocations_not_sent,
                fan_out.not_sent_reason,
            )
        answers = fan_out.invocations_sent - len(tally.failures)
        if fan_out.instances_warmed < total and answers + 1 > fan_out.instances_warmed:
            logger.warning(
                "lambdawarmer: %s of %s instances warmed after %s round(s): instances answered twice, the "
                "invokes reached Lambda further apart than the hold; raise WARMER_DELAY",
                fan_out.instances_warmed,
                total,
                len(tally.rounds),
            )
        return fan_out

    def _record_round(self, qualifier: str | None, total: int, tally: Tally, auto: bool) -> None:
        """The round metrics, with metrics on; always in auto mode, which reads them back."""
        if self.recorder is not None or auto:
            self.round_recorder.record_round(qualifier, (total, len(tally.instances), len(tally.failures)))

    def _fanout_once(self) -> FanOut:
        if self._fanout is None:
            from .fanout import FanOut

            self._fanout = FanOut(self.config)
        return self._fanout

    def _auto_concurrency(self) -> AutoConcurrency:
        if self._auto is None:
            from .auto import AutoConcurrency

            self._auto = AutoConcurrency(self.config, self.function_name)
        return self._auto
