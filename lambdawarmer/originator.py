"""The originator: the instance that received a scheduled ping chooses N, runs the rounds, reports.

N comes from the ping, or from the function's recent traffic (``"concurrency": "auto"``). A round
invokes the function N-1 times at once, each instance holding the delay plus the expected spread of
the invokes' arrivals: the send spread (timing.py; a new HTTPS connection's handshake delays every
invoke after it, so a round that opens connections is held for them and one on kept-alive
connections is not), or the arrival spread warm instances reported in the last round of the same
kind if larger (invokes reach Lambda unevenly, which the sender cannot see; each instance reports
when it started holding, by its clock). A round that opens connections or starts the sending threads
teaches nothing about one on kept-alive connections and threads: its arrivals are spread by those.
A round the function's time left cannot take is cut, before sending, to the largest that fits, and
the report says why. When a round warms fewer distinct instances than asked because an instance
answered twice (not because invokes failed), one more round follows at once, holding twice what the
first one measured or used, if the function's time allows. Then one record of round metrics, and
the :class:`~.protocol.Origination` for the report.

With N = 1 and no ``auto`` nothing is sent, and the AWS client is never loaded.
"""

from __future__ import annotations

import time

from .function_ref import invoked_function
from .logs import logger
from .metrics import EmfRecorder
from .protocol import AutoChoice, FanOutReport, Origination
from .tally import Tally
from .tenants import tenants_to_warm, warm_tenants
from .timing import (
    ANSWER_ALLOWANCE_MS,
    SAFETY,
    cold_init_ms_for,
    function_memory_mb,
    handshake_ms_for,
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
    from .protocol.rounds import RoundReport
    from .protocol.subtrees import Subtree
    from .timing import RoundBudget
    from .tree import TreePlan

TOP_UP_ALLOWANCE_MS = 1_000
"""Time a top-up round needs beyond its hold (sending, answers) to be worth starting."""
TOP_UP_FACTOR = 2
"""The top-up's extra hold over what the short round measured or used: that was proven too short."""


class Originator:
    """Runs the rounds of scheduled pings for one warmer in one execution environment, and keeps what
    the rounds measured (the time between two sends, the warm arrival spread) for the next ping."""

    __slots__ = (
        "_auto",
        "_fanout",
        "arrival_allowance_ms",
        "config",
        "function_name",
        "kept_alive_allowance_ms",
        "memory_mb",
        "recorder",
        "round_recorder",
        "send_ms",
        "tree_allowance_ms",
        "tree_settled",
    )

    def __init__(self, config: WarmerConfig, function_name: str, recorder: Recorder | None) -> None:
        self.config = config
        self.function_name = function_name
        self.recorder = recorder
        # Auto concurrency reads the round metrics back, so it writes them even with metrics off.
        self.round_recorder = recorder or EmfRecorder(config.metrics_namespace, function_name)
        self.memory_mb = function_memory_mb()
        self.send_ms: float | None = None  # the model's, until a round on kept-alive connections measures it
        # the warm arrival spread of the last round that opened connections or started the threads,
        # and of the last on kept-alive ones, each with the safety factor (handshakes taken out)
        self.arrival_allowance_ms = 0.0
        self.kept_alive_allowance_ms = 0.0
        self.tree_allowance_ms = (
            0.0  # how late the last tree round's last arrival was, with the safety factor
        )
        self.tree_settled = False  # whether this originator's last tree ping warmed all it asked
        self._fanout: FanOut | None = None
        self._auto: AutoConcurrency | None = None

    def budget(self, total: int, extra_hold_ms: float | None = None, handshakes: int = 0) -> RoundBudget:
        """The next round of ``total``, from what the rounds so far measured: its send spread (the
        ``handshakes`` of the connections it opens included), and each instance's hold (the delay
        plus the larger of that spread and ``extra_hold_ms``, by default the warm arrival spread of
        the last round of the same kind, kept-alive or not, with the safety factor)."""
        extra_ms = extra_hold_ms
        if extra_ms is None:
            kept_alive = handshakes == 0 and self._fanout_once().threads_ready  # as Round.kept_alive
            extra_ms = self.kept_alive_allowance_ms if kept_alive else self.arrival_allowance_ms
        return round_budget(
            self.memory_mb,
            total,
            self.config.delay,
            send_ms=self.send_ms,
            extra_hold_ms=extra_ms,
            handshakes=handshakes,
        )

    def _fitting(self, total: int, deadline: float) -> tuple[RoundBudget, str | None]:
        """The round of ``total`` as it will be sent, the new connections it opens priced in; when the
        function's time left cannot take it, the largest that fits and why the others are not sent."""
        handshakes = self._fanout_once().handshakes_for(total - 1)
        left_ms = (deadline - time.monotonic()) * 1000
        whole = budget = self.budget(total, handshakes=handshakes)
        while budget.needed_ms > left_ms and budget.instances > 2:
            fewer = budget.instances - 1
            budget = self.budget(fewer, handshakes=max(0, handshakes - (total - fewer)))
        if budget is whole:
            return whole, None
        why = (
            f"not sent: a round of {total} at {self.memory_mb} MB needs ~{whole.needed_ms:,.0f} ms "
            f"({whole.handshakes} new HTTPS connections among them), {max(0, round(left_ms))} ms of the "
            f"function's time was left: the round was cut to {budget.instances}; raise the function's timeout"
        )
        return budget, why

    def originate(
        self,
        ping: Ping,
        context: Any,
        correlation_id: str,
        instance_id: str,
        cold: bool,
        *,
        provisioned: bool = False,
    ) -> Origination:
        """Choose N, warm N-1 instances beside this one (``instance_id``, ``cold``, ``provisioned``:
        Provisioned Concurrency's) within the function's remaining time, record the round; how N was
        chosen and what was warmed."""
        started = time.monotonic()
        deadline = started + time_left_ms(context, self.config.read_timeout_ms) / 1000
        tally = Tally(instance_id, cold, provisioned)
        target = invoked_function(context)
        named = ping.tenants or self.config.tenants
        total, auto = ping.total, None
        if ping.auto and not (named and getattr(context, "tenant_id", None)):
            auto = self._choose(target, deadline)
            total = auto.instances
        tenants, ignored = tenants_to_warm(ping, self.config, context, total)
        if tenants:
            rounds = (self.run_rounds, self.record_round)
            shares = warm_tenants(*rounds, tenants, target, correlation_id, own=tally, deadline=deadline)
            source = "tenants" if named else "auto" if ping.auto else "event"
            return Origination(sum(tenants.values()), source, auto, None, shares, tenants_ignored=ignored)
        fan_out = None
        if total > 1:
            self.run_rounds(target, total, correlation_id, tally, deadline)
            fan_out = self._summary(tally, total, started)
        self.record_round(target.qualifier, total, tally, ping.auto)
        return Origination(total, "auto" if ping.auto else "event", auto, fan_out)

    def _choose(self, target: FunctionRef, deadline: float) -> AutoChoice:
        least = self.config.auto_min
        handshakes = self._fanout_once().handshakes_for(least - 1) if least > 1 else 0
        round_ms = self.budget(least, handshakes=handshakes).needed_ms
        choice = self._auto_concurrency().choose(target.qualifier, deadline, round_ms)
        if choice.fallback:
            logger.warning(
                "lambdawarmer: auto concurrency: warming %s: %s", choice.instances, choice.fallback
            )
        return choice

    def run_rounds(
        self,
        target: FunctionRef,
        total: int,
        correlation_id: str,
        tally: Tally,
        deadline: float,
        *,
        tenant: str | None = None,
    ) -> None:
        """Warm ``total`` instances (2..``total`` invoked, through ``tenant`` when named) in a round,
        and a top-up round when answers came twice from one instance and there is time."""
        budget, why = self._fitting(total, deadline)
        plan = None
        if why is not None and self.config.token is not None:
            self.prepare_relay()  # its client first (a second at 128 MB when new): then the time left
            plan = self._tree_plan(total, deadline)
        if plan is not None:
            self._tree_rounds(
                target, total, correlation_id, tally, deadline=deadline, plan=plan, tenant=tenant
            )
            return
        first = self._round(
            target, total, correlation_id, deadline, budget=budget, why_fewer=why, tenant=tenant
        )
        reused = tally.add(first)
        self._learn_arrivals(first, tally.rounds[-1])
        if reused and len(tally.instances) < budget.instances and self.config.top_up:
            top_up = self._top_up_budget(tally, budget.instances, deadline, budget)
            if top_up is not None:
                again = self._round(
                    target, total, correlation_id, deadline, budget=top_up, why_fewer=why, tenant=tenant
                )
                tally.add(again)
                self._learn_arrivals(again, tally.rounds[-1])

    def _learn_arrivals(self, result: Round, report: RoundReport) -> None:
        """Keep a round's warm arrival spread (with the safety factor) for the next round of its kind:
        on kept-alive connections and threads, or opening connections or starting the threads (a
        first round that opens connections and its top-up on them each teach their own kind). The
        handshakes a round opened are priced by the model in the next round that opens them again:
        their time comes off the arrival spread, as off the send spread."""
        opened_ms = report.tls_handshakes * handshake_ms_for(self.memory_mb)
        allowance_ms = SAFETY * max(0.0, (report.warm_arrival_spread_ms or 0) - opened_ms)
        if result.kept_alive:
            self.kept_alive_allowance_ms = allowance_ms
        else:
            self.arrival_allowance_ms = allowance_ms

    def _round(
        self,
        target: FunctionRef,
        total: int,
        correlation_id: str,
        deadline: float,
        *,
        budget: RoundBudget,
        why_fewer: str | None,
        tenant: str | None = None,
    ) -> Round:
        """One round as ``budget`` plans it (its instances: the first ``budget.instances`` of
        ``total``, the others not sent for ``why_fewer``). The time between two sends a round on
        kept-alive connections and threads measured is kept for the next round; a round that opened
        connections or started the threads teaches nothing about one that does neither (its spread
        is mostly handshakes and thread starts)."""
        cut = (budget.instances, why_fewer) if why_fewer else None
        result = self._fanout_once().run(
            target, total, correlation_id, deadline, budget.hold_ms, cut=cut, tenant=tenant
        )
        if result.send_spread_ms is not None and result.kept_alive:
            self.send_ms = measured_send_ms(result.send_spread_ms, result.sent_count)
        return result

    def _tree_plan(self, total: int, deadline: float, extra_ms: float = 0.0) -> TreePlan | None:
        """The tree round of ``total`` when flat does not fit and the tree does (None: flat, cut);
        only for the owner's pings (a tokenless ping is one flat round at most)."""
        if self.config.token is None:
            return None
        from .tree import fitting_tree

        left_ms = (deadline - time.monotonic()) * 1000
        measured_ms = max(self.tree_allowance_ms, extra_ms)
        # until a tree round of this originator warmed all, its invokes may meet new environments:
        # the release instant waits for their init (with the safety factor) where the time allows
        cold_ms = 0.0 if self.tree_settled else SAFETY * cold_init_ms_for(self.memory_mb)
        allowances = (max(measured_ms, cold_ms), measured_ms, extra_ms)
        return fitting_tree(self.memory_mb, total, self.config.delay, left_ms, allowances)

    def _tree_rounds(
        self,
        target: FunctionRef,
        total: int,
        correlation_id: str,
        tally: Tally,
        *,
        deadline: float,
        plan: TreePlan,
        tenant: str | None,
    ) -> None:
        """Warm ``total`` instances in a tree round (tree.py), and a tree top-up round when answers
        came twice from one instance and there is time (its release instant later by twice what the
        first round's last arrival was late, or 100 ms)."""
        late_ms, reused = self._tree_round(
            target, total, correlation_id, tally, deadline=deadline, plan=plan, tenant=tenant
        )
        self.tree_settled = len(tally.instances) >= total
        if not reused or len(tally.instances) >= total or not self.config.top_up:
            return
        top_up = self._tree_plan(total, deadline, TOP_UP_FACTOR * max(late_ms, 100.0))
        if top_up is None:
            logger.warning(
                "lambdawarmer: %s of %s warmed, and no time left for a top-up round",
                len(tally.instances),
                total,
            )
            return
        self._tree_round(target, total, correlation_id, tally, deadline=deadline, plan=top_up, tenant=tenant)

    def _tree_round(
        self,
        target: FunctionRef,
        total: int,
        correlation_id: str,
        tally: Tally,
        *,
        deadline: float,
        plan: TreePlan,
        tenant: str | None,
    ) -> tuple[float, int]:
        """One tree round as ``plan`` shapes it, counted in ``tally``; how late (ms) its last arrival
        was against the model (kept, with the safety factor, for the next tree round), and how many
        answers came from an instance that had answered already."""
        from .tree import child_places, epoch_ms, explain_failed, scope_of, subtree_of

        started = time.monotonic()
        release_at = epoch_ms(started + plan.release_in_ms / 1000)
        # the answers are due once the round had the time it needs (with the safety factor): what
        # comes later was not holding at the release instant, and the rest of the time is a top-up's
        answers_due = min(deadline, started + SAFETY * plan.needed_ms / 1000)
        answer_by = epoch_ms(answers_due) - ANSWER_ALLOWANCE_MS
        places = child_places(
            2,
            total,
            plan.fan,
            depth=1,
            release_at=release_at,
            answer_by=answer_by,
            scope=scope_of(target, tenant),
        )
        hold_ms = round(plan.release_in_ms + (plan.depth - 1) * ANSWER_ALLOWANCE_MS)
        result = self._fanout_once().run(
            target,
            total,
            correlation_id,
            deadline,
            hold_ms,
            tenant=tenant,
            places=places,
            answers_by=answers_due,
        )
        explain_failed(result, places)
        whole = subtree_of(result, 1)
        record: dict[str, object] = {
            "relays": sum(level.senders for level in whole.levels if level.depth > 0),
            "depth": plan.depth,
            "fan": plan.fan,
            "release_at": release_at,
            "skew_margin_ms": plan.skew_margin_ms,
            "levels": [level.as_dict() for level in whole.levels],
        }
        reused = tally.add(result, record)
        return self._lateness(whole, release_at, plan), reused

    def _lateness(self, whole: Subtree, release_at: int, plan: TreePlan) -> float:
        """How late the round's last arrival was against the model's (its allowance taken out)."""
        if not whole.held_at:
            return 0.0
        last_expected = release_at - plan.allowance_ms - self.config.delay - plan.skew_margin_ms
        late_ms = max(0.0, whole.held_at[1] - last_expected)
        self.tree_allowance_ms = SAFETY * late_ms
        return late_ms

    def relay(self, ping: Ping, context: Any, *, arrived_ms: int) -> Subtree:
        """A relay's part of a tree round (its ping reached it at ``arrived_ms``, epoch ms): invoke
        its share, each child with its place; what they warmed (when the payload is not relayed,
        which is logged, none of its share sent, and why: the instance only holds)."""
        from .tree import (
            child_places,
            depth_of,
            epoch_ms,
            explain_failed,
            refusal,
            refused,
            scope_of,
            subtree_of,
            subtree_release_at,
        )

        place = ping.tree
        assert place is not None
        target, tenant = invoked_function(context), getattr(context, "tenant_id", None)
        scope = scope_of(target, tenant)
        why = refusal(
            place, ping.index, ping.total, self.config, now_ms=epoch_ms(time.monotonic()), scope=scope
        )
        if why is not None:
            logger.warning("lambdawarmer: not relayed: %s", why)
            return refused(why, ping.index, place)
        # its client first (a second at 128 MB when new): then when its invokes can arrive
        self.prepare_relay()
        now = time.monotonic()
        own_deadline = now + time_left_ms(context, self.config.read_timeout_ms) / 1000
        until_answer_s = (place.answer_by - epoch_ms(now)) / 1000
        # Its share is sent by its own time, even when it started too late to answer in time (a cold
        # start): the environments are there for the next ping; the answers are awaited until due.
        answers_by = min(own_deadline, now + max(0.0, until_answer_s))
        first, depth = ping.index + 1, place.depth + 1
        answer_by = place.answer_by - ANSWER_ALLOWANCE_MS
        below = depth_of(first, place.last, place.fan)
        release_at = subtree_release_at(
            place.release_at,
            epoch_ms(now),
            self.memory_mb,
            fan=place.fan,
            below=below,
            delay_ms=self.config.delay,
            arrived_ms=arrived_ms,
        )
        if release_at != place.release_at:
            logger.warning(
                "lambdawarmer: a relay started too late for the round's release instant: its "
                "subtree holds until its own, %s ms later",
                release_at - place.release_at,
            )
        places = child_places(
            first,
            place.last,
            place.fan,
            depth=depth,
            release_at=release_at,
            answer_by=answer_by,
            scope=scope,
        )
        hold_ms = max(0, release_at - epoch_ms(now)) + (below - 1) * ANSWER_ALLOWANCE_MS
        result = self._fanout_once().run(
            target,
            ping.total,
            ping.correlation_id or "",
            own_deadline,
            hold_ms,
            tenant=tenant,
            places=places,
            answers_by=answers_by,
        )
        if release_at != place.release_at:
            # an instance that has answered is frozen: this one stays until its subtree releases,
            # its invokes having left by then (within the cap on a hold: subtree_release_at)
            release = time.monotonic() + (release_at - epoch_ms(time.monotonic())) / 1000
            time.sleep(max(0.0, min(own_deadline, release) - time.monotonic()))
        explain_failed(result, places)
        return subtree_of(result, depth)

    def prepare_relay(self) -> None:
        """Load what relaying needs (the fan-out, its client): a relay's before it sends, any tree
        round instance's while it holds (it may be a relay at the next ping)."""
        try:
            self._fanout_once().client.get()
        except Exception:
            return

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
        top_up = self.budget(total, extra_ms, self._fanout_once().handshakes_for(total - 1))
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
            instances_provisioned=len(tally.provisioned),
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

    def record_round(
        self, qualifier: str | None, total: int, tally: Tally, auto: bool, tenant: str | None = None
    ) -> None:
        """The round metrics (a tenant's, with its dimension), with metrics on; always in auto mode,
        which reads them back."""
        if self.recorder is not None or auto:
            values = (total, len(tally.instances), len(tally.failures))
            self.round_recorder.record_round(qualifier, values, tenant)

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
