"""What one warm-up round bills at a function's memory: each invocation's time, from the time budget,
flat or, when an owner's ping cannot send N flat in the function's time, as a tree."""

from __future__ import annotations

from dataclasses import dataclass

from lambdawarmer.timing import (
    ANSWER_ALLOWANCE_MS,
    DEADLINE_MARGIN_MS,
    RoundBudget,
    cpu_share,
    round_budget,
)
from lambdawarmer.tree import HOP_MS, TreePlan, blocks, fitting_tree, level_ms

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
    tree: TreePlan | None = None
    """A tree round's plan (its fan, depth and release instant); None: flat."""

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


def scheduled_tree(memory_mb: int, instances: int, delay_ms: int, timeout_ms: int) -> TreePlan | None:
    """The tree round an owner's scheduled ping sends (lambdawarmer.tree.fitting_tree, the layer's
    own choice) when :func:`scheduled_round` does not fit a ``timeout_ms`` function's time (less the
    margin the layer keeps back); None: flat (it fits, or no tree fits either and it is cut)."""
    left_ms = timeout_ms - DEADLINE_MARGIN_MS
    if scheduled_round(memory_mb, instances, delay_ms).needed_ms <= left_ms:
        return None
    return fitting_tree(memory_mb, instances, delay_ms, left_ms)


def tree_places(first: int, last: int, fan: int, depth: int = 1) -> dict[int, tuple[int, int]]:
    """A tree round's shape (lambdawarmer.tree.child_places, level by level): each index's depth and
    the last index of its subtree (itself: a leaf)."""
    places = {}
    for start, end in blocks(first, last, fan):
        places[start] = (depth, end)
        places |= tree_places(start + 1, end, fan, depth + 1)
    return places


def round_shape(
    memory_mb: int, instances: int, delay_ms: int, *, timeout_ms: int | None = None
) -> RoundShape:
    """The round lambdawarmer runs for ``instances`` environments of ``memory_mb``, billed: flat, its
    send spread and holds from :func:`scheduled_round`; a tree when ``timeout_ms`` (the function's)
    cannot take flat and can take the tree (:func:`scheduled_tree`)."""
    plan = None if timeout_ms is None else scheduled_tree(memory_mb, instances, delay_ms, timeout_ms)
    if plan is not None:
        return tree_shape(memory_mb, instances, plan)
    own_work_ms = INSTANCE_CPU_MS / cpu_share(memory_mb)
    if instances <= 1:
        return RoundShape(1, 0.0, 0.0, own_work_ms, own_work_ms)
    budget = scheduled_round(memory_mb, instances, delay_ms)
    spread_ms, hold_ms = budget.send_spread_ms, float(budget.hold_ms)
    return RoundShape(
        instances, hold_ms, spread_ms, hold_ms + own_work_ms, spread_ms + hold_ms + ROUND_OVERHEAD_MS
    )


def tree_shape(memory_mb: int, instances: int, plan: TreePlan) -> RoundShape:
    """A tree round billed: every instance from its arrival (its level's first, taken for all of
    the level: the longest hold) to the release instant, a relay until its subtree's answers are
    back too; the originator the whole round (``plan.needed_ms``)."""
    own_work_ms = INSTANCE_CPU_MS / cpu_share(memory_mb)
    step_ms = level_ms(memory_mb, plan.fan) + HOP_MS
    billed_ms = 0.0
    for index, (depth, last) in tree_places(2, instances, plan.fan).items():
        answers_ms = (plan.depth - depth) * ANSWER_ALLOWANCE_MS if last > index else 0.0
        billed_ms += plan.release_in_ms - (depth - 1) * step_ms + answers_ms + own_work_ms
    return RoundShape(
        instances,
        plan.release_in_ms,
        plan.depth * step_ms - HOP_MS,
        billed_ms / (instances - 1),
        plan.needed_ms,
        plan,
    )
