"""What one warm-up round bills at a function's memory: each invocation's time, from the time budget."""

from __future__ import annotations

from dataclasses import dataclass

from lambdawarmer.timing import RoundBudget, cpu_share, round_budget

ROUND_OVERHEAD_MS = 100
"""The originator's time beyond the hold: sending, the answers' round trip (measured: 50-400 ms at N=40)."""


INSTANCE_CPU_MS = 1.0
"""CPU an instance spends on a ping beyond its hold, on a whole vCPU (the runtime's request and
answer); it takes that over the memory's CPU share."""


@dataclass(frozen=True)
class RoundShape:
    """One ping's invocations and how long each is billed, at the function's memory."""

    instances: int
    hold_ms: float
    """What each fanned-out instance holds: the delay plus the expected send spread."""
    send_spread_ms: float
    instance_ms: float
    """One fanned-out instance's billed time: its hold and its own work at the memory's CPU share."""
    originator_ms: float
    """The pinged instance's billed time: the whole round (or just its answer, when N = 1)."""

    @property
    def billed_ms(self) -> float:
        """Every invocation of the ping, together."""
        return (self.instances - 1) * self.instance_ms + self.originator_ms


def scheduled_round(memory_mb: int, instances: int, delay_ms: int) -> RoundBudget:
    """The round a scheduled ping runs, as ``status`` judges it and ``cost`` prices it: the layer's
    own time budget (:func:`lambdawarmer.timing.round_budget`) with every connection opened anew.
    An environment's first ping opens them all; Lambda documents no idle timeout for its API, so
    after the minutes an environment sits frozen between pings they are taken as closed too."""
    return round_budget(memory_mb, instances, delay_ms, handshakes=max(0, instances - 1))


def round_shape(memory_mb: int, instances: int, delay_ms: int) -> RoundShape:
    """The round lambdawarmer runs for ``instances`` environments of ``memory_mb``, billed: its send
    spread and holds from :func:`scheduled_round`."""
    own_work_ms = INSTANCE_CPU_MS / cpu_share(memory_mb)
    if instances <= 1:
        return RoundShape(1, 0.0, 0.0, own_work_ms, own_work_ms)
    budget = scheduled_round(memory_mb, instances, delay_ms)
    spread_ms, hold_ms = budget.send_spread_ms, float(budget.hold_ms)
    return RoundShape(
        instances, hold_ms, spread_ms, hold_ms + own_work_ms, spread_ms + hold_ms + ROUND_OVERHEAD_MS
    )
