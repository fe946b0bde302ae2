"""What the instance that received a scheduled ping does: choose N, run the rounds, count, report.

N comes from the ping, or from the function's recent traffic (``"concurrency": "auto"``). A round
invokes the function N-1 times at once, each instance holding the delay plus the expected spread of
the invokes' arrivals: the send spread (fanout.py), or the arrival spread warm instances reported in
the previous round if larger (invokes reach Lambda unevenly, which the sender cannot see; each
instance reports when it started holding, by its clock). When a round warms fewer distinct
instances than asked because an instance answered twice (not because invokes failed), one more
round follows at once, holding twice what the first one measured or used, if the function's time
allows. Then one record of round metrics, and the report's fields.
"""

from __future__ import annotations

import time

from .fanout import ANSWER_ALLOWANCE_MS, SAFETY, FanOut, resolve_target
from .logs import logger
from .metrics import EmfRecorder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .auto import AutoConcurrency
    from .config import WarmerConfig
    from .events import Ping
    from .fanout import Round
    from .metrics import Recorder

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
        self.rounds: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []

    def add(self, result: Round) -> int:
        """Count one round; how many of its answers came from an instance that had answered already."""
        reports = [outcome.report for outcome in result.outcomes if outcome.report is not None]
        sent = [outcome for outcome in result.outcomes if outcome.sent]
        not_sent = result.not_sent
        before = len(self.instances)
        for report in reports:
            self.instances.add(report["instance_id"])
            if report.get("cold") is True:
                self.cold.add(report["instance_id"])
        failures = [
            {"round": len(self.rounds) + 1, "index": outcome.index, "reason": outcome.reason}
            for outcome in sent
            if outcome.report is None
        ]
        self.failures += failures
        self.rounds.append(
            {
                "hold_ms": result.hold_ms,
                "dispatch_ms": None if result.spread_ms is None else round(result.spread_ms, 1),
                "arrival_spread_ms": arrival_spread_ms(reports),
                "warm_arrival_spread_ms": arrival_spread_ms([r for r in reports if r.get("cold") is False]),
                "invocations_sent": len(sent),
                "invocations_failed": len(failures),
                "invocations_not_sent": len(not_sent),
                "not_sent_reason": not_sent[0].reason if not_sent else None,
                "instances_warmed": len(self.instances),
            }
        )
        return len(reports) - (len(self.instances) - before)


def arrival_spread_ms(reports: list[dict[str, Any]]) -> int | None:
    """How far apart the instances started holding (their clocks; Lambda hosts are NTP-synced)."""
    stamps = [report["held_at"] for report in reports if isinstance(report.get("held_at"), int)]
    return max(stamps) - min(stamps) if len(stamps) > 1 else None


class Originator:
    """Runs the rounds of scheduled pings for one warmer in one execution environment."""

    __slots__ = (
        "_auto",
        "arrival_spread_ms",
        "config",
        "fanout",
        "function_name",
        "recorder",
        "round_recorder",
    )

    def __init__(self, config: WarmerConfig, function_name: str, recorder: Recorder | None) -> None:
        self.config = config
        self.function_name = function_name
        self.fanout = FanOut(config)
        self.recorder = recorder
        # Auto concurrency reads the round metrics back, so it writes them even with metrics off.
        self.round_recorder = recorder or EmfRecorder(config.metrics_namespace, function_name)
        self.arrival_spread_ms = 0.0  # what the last round's warm instances reported, with the safety factor
        self._auto: AutoConcurrency | None = None

    def warm(
        self, ping: Ping, context: Any, correlation_id: str, tally: Tally, deadline: float
    ) -> dict[str, Any]:
        """The report's fields for ``ping``: how N was chosen, each round, the instances warmed."""
        target = resolve_target(context)
        fields: dict[str, Any] = {"concurrency_source": "auto" if ping.auto else "event"}
        total = ping.total
        if ping.auto:
            round_ms = (
                self.config.delay
                + ANSWER_ALLOWANCE_MS
                + max(self.fanout.send_spread_ms(self.config.auto_min), self.arrival_spread_ms)
            )
            choice = self._auto_concurrency().choose(target.qualifier, deadline, round_ms)
            total = fields["concurrency"] = choice.instances
            fields["auto"] = choice.as_dict()
            if choice.fallback:
                logger.warning("lambdawarmer: auto concurrency: warming %s: %s", total, choice.fallback)
        if total > 1:
            extra_ms = max(self.fanout.send_spread_ms(total), self.arrival_spread_ms)
            reused = tally.add(self.fanout.run(target, total, correlation_id, deadline, extra_ms))
            if reused and len(tally.instances) < total and self.config.top_up:
                top_up_ms = self._top_up_extra_ms(tally, total, deadline, extra_ms)
                if top_up_ms is not None:
                    tally.add(self.fanout.run(target, total, correlation_id, deadline, top_up_ms))
            self.arrival_spread_ms = SAFETY * (tally.rounds[-1]["warm_arrival_spread_ms"] or 0)
            fields.update(self._summary(tally, total))
        self._record_round(target.qualifier, total, tally, ping.auto)
        return fields

    def _top_up_extra_ms(self, tally: Tally, total: int, deadline: float, used_ms: float) -> float | None:
        """The top-up's extra hold: twice what the short round measured or used; None: no time for it."""
        first = tally.rounds[0]
        extra_ms = TOP_UP_FACTOR * max(first["dispatch_ms"] or 0, first["arrival_spread_ms"] or 0, used_ms)
        if (deadline - time.monotonic()) * 1000 < self.config.delay + extra_ms + TOP_UP_ALLOWANCE_MS:
            logger.warning(
                "lambdawarmer: %s of %s warmed, and no time left for a top-up round",
                len(tally.instances),
                total,
            )
            return None
        return extra_ms

    def _summary(self, tally: Tally, total: int) -> dict[str, Any]:
        for failure in tally.failures:
            logger.warning(
                "lambdawarmer: fan-out invoke %s (round %s) failed: %s",
                failure["index"],
                failure["round"],
                failure["reason"],
            )
        warmed = len(tally.instances)
        not_sent = sum(r["invocations_not_sent"] for r in tally.rounds)
        not_sent_reason = next((r["not_sent_reason"] for r in tally.rounds if r["not_sent_reason"]), None)
        if not_sent:
            logger.warning("lambdawarmer: %s fan-out invoke(s) not sent: %s", not_sent, not_sent_reason)
        answers = sum(r["invocations_sent"] - r["invocations_failed"] for r in tally.rounds)
        if warmed < total and answers + 1 > warmed:
            logger.warning(
                "lambdawarmer: %s of %s instances warmed after %s round(s): instances answered twice, the "
                "invokes reached Lambda further apart than the hold; raise WARMER_DELAY",
                warmed,
                total,
                len(tally.rounds),
            )
        first = tally.rounds[0]
        return {
            "invocations_sent": sum(r["invocations_sent"] for r in tally.rounds),
            "invocations_failed": len(tally.failures),
            "invocations_not_sent": not_sent,
            "not_sent_reason": not_sent_reason,
            "failures": tally.failures,
            "instances_warmed": warmed,
            "instances_cold": len(tally.cold),
            "hold_ms": first["hold_ms"],
            "dispatch_ms": first["dispatch_ms"],
            "rounds": tally.rounds,
        }

    def _record_round(self, qualifier: str | None, total: int, tally: Tally, auto: bool) -> None:
        """The round metrics, with metrics on; always in auto mode, which reads them back."""
        if self.recorder is not None or auto:
            self.round_recorder.record_round(qualifier, (total, len(tally.instances), len(tally.failures)))

    def _auto_concurrency(self) -> AutoConcurrency:
        if self._auto is None:
            from .auto import AutoConcurrency

            self._auto = AutoConcurrency(self.config, self.function_name)
        return self._auto
