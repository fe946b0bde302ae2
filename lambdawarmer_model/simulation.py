"""A model of Lambda serving one function's traffic, with warm-up pings: which real requests start cold.

The rules, each stated so a figure can be traced to it:

- **Arrivals.** A minute's requests arrive evenly spaced (``uniform``: the i-th of c at (i + 1/2) x 60/c
  seconds) or at independent uniform instants (``poisson``: a Poisson process, given the minute's count).
- **Durations.** Drawn per request from the function's percentiles (inverse CDF, linear between them;
  ``percentiles``), or the mean for every request (``mean``).
- **Routing.** An invocation takes an idle environment, the longest-lived first (as the emulator
  does), or starts a new one: a cold start, busy for the init then the work.
- **Reclaim.** An environment idle longer than the idle lifetime is gone (Lambda documents none).
- **Pings.** At second 0 of every k-th minute, from minute :data:`PING_PHASE_MIN` on (a rate
  schedule keeps the phase it was created with, unaligned with the clock; timers in the trace fire
  on the clock's minutes, so the ping does not land in their minute), the policy picks N (0: no
  ping). The scheduled ping takes an environment at once; its N - 1 invokes land one after
  another over the send spread the fan-out expects at the function's memory
  (:mod:`lambdawarmer.timing`), each holding the delay plus that spread, as the fan-out asks; the
  originator is busy until the last answer. A request that comes meanwhile finds them busy.
- **Scoring.** Cold starts, requests and pings count from minute ``scored_from_min`` on (2 hours by
  default): the policies learn from what comes before, as the trace's README advises.
- **ConcurrentExecutions.** Per minute, the most environments busy at once, pings included, as
  CloudWatch keeps it; a minute with nothing running has no datapoint. A policy sees a minute once
  :data:`METRIC_LAG_MIN` more minutes have passed.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass
from typing import Protocol

from lambdawarmer.settings import SETTINGS

from .rounds import RoundShape, round_shape
from .traffic import ARRIVAL_RULES, DURATION_RULES, MINUTE_S, Workload

DEFAULT_INIT_MS = 250
"""Taken as a Python function's init phase when none is given."""
DEFAULT_RESTORE_MS = 150
"""Taken as SnapStart's billed restore duration (loading the runtime and the after-restore hooks)
when none is given: AWS documents what it is made of, not a figure."""
DEFAULT_IDLE_LIFETIME_MIN = 10
"""Taken as how long Lambda keeps an idle environment (undocumented; 5 to 15 minutes is reported)."""
PING_PHASE_MIN = 2
"""The minute of each ping period the ping fires in."""
DEFAULT_SCORED_FROM_MIN = 120
"""Minutes the model runs before it counts: every policy starts with no history and every function
with no environment, so what happens before tells nothing about the policy."""
METRIC_LAG_MIN = 1
"""Minutes a ``ConcurrentExecutions`` datapoint takes to be readable after its minute ends."""


@dataclass(frozen=True)
class Assumptions:
    """The model's stated rules and figures (see the module's docstring)."""

    idle_lifetime_min: float = DEFAULT_IDLE_LIFETIME_MIN
    arrivals: str = "uniform"
    durations: str = "percentiles"
    init_ms: float = DEFAULT_INIT_MS
    restore_ms: float = DEFAULT_RESTORE_MS
    ping_every_min: int = 5
    delay_ms: int = int(SETTINGS["delay"].default)  # type: ignore[call-overload]
    scored_from_min: int = DEFAULT_SCORED_FROM_MIN
    seed: int = 0

    def __post_init__(self) -> None:
        if self.arrivals not in ARRIVAL_RULES:
            raise ValueError(f"arrival rule {self.arrivals!r}: expected one of {', '.join(ARRIVAL_RULES)}")
        if self.durations not in DURATION_RULES:
            raise ValueError(f"duration rule {self.durations!r}: expected one of {', '.join(DURATION_RULES)}")
        if self.ping_every_min < 1 or self.idle_lifetime_min <= 0 or min(self.init_ms, self.restore_ms) < 0:
            raise ValueError(
                "the ping period and the idle lifetime must be positive, the init and the restore 0 or more"
            )


@dataclass(frozen=True)
class Requests:
    """A workload's requests, drawn once: arrival (s, sorted) and duration (ms) of each."""

    arrivals: list[float]
    durations_ms: list[float]
    minutes: int

    @classmethod
    def draw(cls, workload: Workload, assumptions: Assumptions) -> Requests:
        """The requests of ``workload`` by the assumptions' arrival and duration rules (seeded)."""
        rng = random.Random(f"{assumptions.seed}/{workload.name}")
        duration = workload.durations.sampler(assumptions.durations, rng)
        arrivals: list[float] = []
        for minute, count in enumerate(workload.counts):
            start = minute * MINUTE_S
            if assumptions.arrivals == "uniform":
                step = MINUTE_S / count if count else 0.0
                arrivals.extend(start + (i + 0.5) * step for i in range(count))
            else:
                arrivals.extend(sorted(start + MINUTE_S * rng.random() for _ in range(count)))
        return cls(arrivals, [duration() for _ in arrivals], len(workload.counts))

    def need_by_interval(self, every_min: int) -> list[int]:
        """The most requests running at once (all warm) within each ping interval (the first one
        starts at the first ping: what comes before, no ping can serve)."""
        need = [0] * math.ceil(max(0, self.minutes - PING_PHASE_MIN) / every_min)
        running: list[float] = []
        for arrival, duration_ms in zip(self.arrivals, self.durations_ms):
            while running and running[0] <= arrival:
                heapq.heappop(running)
            heapq.heappush(running, arrival + duration_ms / 1000)
            interval = int((arrival - PING_PHASE_MIN * MINUTE_S) // (every_min * MINUTE_S))
            if interval >= 0:
                need[interval] = max(need[interval], len(running))
        return need


@dataclass(frozen=True)
class PingView:
    """What a policy may know when a ping fires: the CloudWatch history so far, and (the oracle only)
    the coming interval's need."""

    minute: int
    concurrency: dict[int, float]
    """``ConcurrentExecutions`` by minute index, as readable now (pings included)."""
    warm_up_minutes: set[int]
    """The minutes a ping ran in (lambdawarmer's round metric)."""
    coming_need: int


class Policy(Protocol):
    """How many environments each ping warms; 0 sends no ping."""

    @property
    def name(self) -> str:
        """How the policy is shown."""
        ...

    def instances(self, view: PingView) -> int:
        """N for the ping ``view`` describes."""
        ...


@dataclass
class Outcome:
    """What one policy did to one workload."""

    requests: int = 0
    cold_starts: int = 0
    warmup_invocations: int = 0
    ping_billed_ms: float = 0.0
    ping_inits: int = 0
    provisioned_traffic_ms: float = 0.0
    """The real requests' time served by provisioned environments (billed at Provisioned
    Concurrency's rate)."""


class _Environments:
    """The function's environments: busy ones by when they end, idle ones by age. The first
    ``provisioned`` are Provisioned Concurrency's: ready from the start, never reclaimed."""

    def __init__(self, lifetime_s: float, init_s: float, provisioned: int = 0) -> None:
        self.lifetime_s = lifetime_s
        self.init_s = init_s
        self.provisioned = provisioned
        self.busy: list[tuple[float, int]] = []
        self.idle: list[tuple[int, float]] = [(env, 0.0) for env in range(1, provisioned + 1)]
        self.created = provisioned

    def release(self, now: float) -> None:
        """Environments whose work ended by ``now`` become idle."""
        busy, idle = self.busy, self.idle
        while busy and busy[0][0] <= now:
            end, env = heapq.heappop(busy)
            heapq.heappush(idle, (env, end))

    def on_demand_busy(self) -> int:
        """The busy environments beyond Provisioned Concurrency's (what ``ConcurrentExecutions`` less
        ``ProvisionedConcurrentExecutions`` counts: requests go to provisioned ones first)."""
        if not self.provisioned:
            return len(self.busy)
        return sum(1 for _, env in self.busy if env > self.provisioned)

    def take(self, now: float, work_s: float) -> tuple[bool, int]:
        """One invocation at ``now`` working ``work_s``: whether it started cold, and its environment."""
        self.release(now)
        idle = self.idle
        while idle:
            env, since = heapq.heappop(idle)
            if now - since <= self.lifetime_s or env <= self.provisioned:
                heapq.heappush(self.busy, (now + work_s, env))
                return False, env
        self.created += 1
        heapq.heappush(self.busy, (now + self.init_s + work_s, self.created))
        return True, self.created


def simulate(
    workload: Workload,
    policy: Policy,
    assumptions: Assumptions,
    requests: Requests | None = None,
    *,
    provisioned: int = 0,
) -> Outcome:
    """Serve ``workload`` under ``policy`` by the model's rules, beside ``provisioned`` environments
    of Provisioned Concurrency; scored from ``assumptions.scored_from_min`` on."""
    requests = requests or Requests.draw(workload, assumptions)
    every = assumptions.ping_every_min
    need = requests.need_by_interval(every)
    environments = _Environments(
        assumptions.idle_lifetime_min * MINUTE_S, assumptions.init_ms / 1000, provisioned
    )
    outcome, history = Outcome(), Outcome()
    concurrency: dict[int, float] = {}
    warm_up: set[int] = set()
    shapes: dict[int, RoundShape] = {}
    arrivals, durations_ms = requests.arrivals, requests.durations_ms
    index, total = 0, len(arrivals)
    for minute in range(requests.minutes):
        scored = outcome if minute >= assumptions.scored_from_min else history
        start = minute * MINUTE_S
        environments.release(start)
        peak = environments.on_demand_busy()
        if minute >= PING_PHASE_MIN and (minute - PING_PHASE_MIN) % every == 0:
            visible = {m: v for m, v in concurrency.items() if m < minute - METRIC_LAG_MIN}
            coming = need[(minute - PING_PHASE_MIN) // every]
            instances = policy.instances(PingView(minute, visible, set(warm_up), coming))
            if instances > 0:
                shape = shapes.get(instances) or shapes.setdefault(
                    instances,
                    round_shape(
                        workload.memory_mb, instances, assumptions.delay_ms, timeout_ms=workload.timeout_ms
                    ),
                )
                _ping(environments, start, shape, scored)
                warm_up.add(minute)
                peak = max(peak, environments.on_demand_busy())
        cold = 0
        end_of_minute = start + MINUTE_S
        first = index
        while index < total and arrivals[index] < end_of_minute:
            started_cold, env = environments.take(arrivals[index], durations_ms[index] / 1000)
            cold += started_cold
            if env <= provisioned:
                scored.provisioned_traffic_ms += durations_ms[index]
            peak = max(peak, environments.on_demand_busy())
            index += 1
        scored.requests += index - first
        scored.cold_starts += cold
        if peak:
            concurrency[minute] = float(peak)
    return outcome


def _ping(environments: _Environments, start: float, shape: RoundShape, outcome: Outcome) -> None:
    """One ping at ``start``: the originator, then its N - 1 invokes over the send spread."""
    outcome.warmup_invocations += shape.instances
    outcome.ping_billed_ms += shape.billed_ms
    own_s = shape.originator_ms / 1000
    cold, _ = environments.take(start, own_s)
    inits = int(cold)
    sending = start + (environments.init_s if cold else 0.0)
    others = shape.instances - 1
    for i in range(others):
        at = sending + (shape.send_spread_ms / 1000) * (i / (others - 1) if others > 1 else 0.0)
        cold, _ = environments.take(at, shape.instance_ms / 1000)
        inits += cold
    outcome.ping_inits += inits
