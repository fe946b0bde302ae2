"""The fan-out tree: when one environment cannot send a round in time, relays send it with it.

A flat round puts every new HTTPS connection's handshake in one environment at its memory's CPU
share (27.6 ms each at 128 MB). A tree round shares them out: the originator invokes a few relays,
each invokes its share of the rest (``fan`` at most each, depth at most :data:`MAX_DEPTH`), so the
handshakes run in parallel, each environment at its own share, and the round's time grows with its
depth, not with N. The indexes 2..N are cut into blocks: each block's first index is a child, the
rest of the block its subtree, cut again the same way (:func:`blocks`), so every index is invoked
exactly once: no relay can enlarge the round (N-1 invokes in all, within the cap).

Every environment in the round, relays and leaves alike, holds until one release instant (epoch
ms, each by its own clock: Lambda's hosts keep NTP time) that the originator sets from the model:
the last invoke's expected arrival, the delay, the arrival lateness the last tree round measured,
and :data:`SKEW_MARGIN_MS` for the clocks. Relays answer with their subtree's instances
(protocol.subtrees), so the originator counts distinct environments across the whole tree.

Only the owner's pings build trees: a relay's payload is taken only with a valid proof (a token is
set), its share within the round and the cap; a tokenless ping stays one flat round at most.
"""

from __future__ import annotations

import json
import math
import time

from .instance import PROVISIONED
from .protocol import Failure, TreePlace
from .protocol.subtrees import LevelReport, Subtree, merge_levels
from .timing import ANSWER_ALLOWANCE_MS, cold_init_ms_for, longest_hold_ms, round_budget

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .config import WarmerConfig
    from .fanout import Round
    from .function_ref import FunctionRef

MAX_DEPTH = 3
"""The deepest level of a tree round (the originator is 0): far below Lambda's recursive-loop
detection, which acts after about 16 hops of one chain."""
SKEW_MARGIN_MS = 50
"""What the release instant allows for the hosts' clocks disagreeing (NTP keeps them within a few
ms; the margin also takes what a round measures, with the safety factor, when that is more)."""
HOP_MS = 100
RELAY_WINDOW_MS = 30_000
"""How long after its round's release instant a relay payload is still relayed: a new environment's
init takes up to 10 s on Lambda, its invoke's connection up to 3 s, twice when first refused, with
room to spare. An older one is a replay (its proof does not expire): it only holds, as a flat
round's payload does, and never invokes its share again."""
"""What each level adds beyond its send spread: the invoke routed, the relay started sending."""


def blocks(first: int, last: int, fan: int) -> list[tuple[int, int]]:
    """Indexes ``first``..``last`` cut into at most ``fan`` blocks of consecutive indexes (first,
    last), as even as can be."""
    count = last - first + 1
    if count <= 0:
        return []
    size = -(-count // max(1, fan))
    return [(start, min(start + size - 1, last)) for start in range(first, last + 1, size)]


def depth_of(first: int, last: int, fan: int) -> int:
    """The levels below a sender whose share is ``first``..``last``: its first block's, the largest
    (:func:`blocks`), counted down without building the others (a few steps, whatever the share)."""
    depth, count = 0, last - first + 1
    while count > 0:
        depth += 1
        count = -(-count // max(1, fan)) - 1  # the first block, less its child: that child's share
    return depth


class TreePlan:
    """A tree round: ``fan`` children at most per sender, ``depth`` levels, the release instant's
    distance from the start (``release_in_ms``) and the originator's time it needs (``needed_ms``)."""

    __slots__ = ("allowance_ms", "depth", "fan", "needed_ms", "release_in_ms", "skew_margin_ms")

    def __init__(
        self,
        fan: int,
        depth: int,
        release_in_ms: float,
        needed_ms: float,
        *,
        skew_margin_ms: float,
        allowance_ms: float,
    ) -> None:
        self.fan = fan
        self.depth = depth
        self.release_in_ms = release_in_ms
        self.needed_ms = needed_ms
        self.skew_margin_ms = skew_margin_ms
        self.allowance_ms = allowance_ms


def level_ms(memory_mb: int, fan: int) -> float:
    """The send spread of one sender's ``fan`` invokes, each on a new HTTPS connection."""
    return round_budget(memory_mb, fan + 1, 0, handshakes=fan).send_spread_ms


def plan_tree(
    memory_mb: int,
    total: int,
    delay_ms: int,
    *,
    allowance_ms: float = 0.0,
    skew_margin_ms: float = SKEW_MARGIN_MS,
) -> TreePlan | None:
    """The quickest tree round of ``total`` for a ``memory_mb`` function (every connection opened
    anew, by :func:`~.timing.round_budget`), at most :data:`MAX_DEPTH` deep; None below 4."""
    if total < 4:
        return None
    best = None
    for fan in range(2, total - 1):
        depth = depth_of(2, total, fan)
        if depth > MAX_DEPTH:
            continue
        spread_ms = level_ms(memory_mb, fan)
        release_in = depth * spread_ms + (depth - 1) * HOP_MS + delay_ms + allowance_ms + skew_margin_ms
        needed = release_in + depth * ANSWER_ALLOWANCE_MS
        if best is None or needed < best.needed_ms:
            best = TreePlan(
                fan, depth, release_in, needed, skew_margin_ms=skew_margin_ms, allowance_ms=allowance_ms
            )
    return best


def fitting_tree(
    memory_mb: int, total: int, delay_ms: int, left_ms: float, allowances: tuple[float, ...] = (0.0,)
) -> TreePlan | None:
    """The tree round of ``total`` an owner's ping sends when a flat round does not fit the
    ``left_ms`` it has: the first of ``allowances`` (its release instant's, most wanted first) whose
    quickest tree fits; None when none does (the flat round is cut). The one choice of shape: the
    layer makes it on every such ping, ``status`` and ``cost`` price it."""
    for allowance_ms in allowances:
        plan = plan_tree(memory_mb, total, delay_ms, allowance_ms=allowance_ms)
        if plan is not None and plan.needed_ms <= left_ms:
            return plan
    return None


def subtree_release_at(
    release_at: int, now_ms: int, memory_mb: int, *, fan: int, below: int, delay_ms: int, arrived_ms: int
) -> int:
    """The release instant a relay gives its subtree (``below`` levels under it, ``fan`` wide), its
    clock at ``now_ms``, the ping having reached it at ``arrived_ms``: the round's, unless its
    invokes cannot arrive by then (it started late, a new environment's init first): then the first
    instant after the round's, a whole number of late steps later, that they can meet. A step is
    what a new relay is late by: its own init and its subtree's, and its subtree's sends. Relays
    late by less (all of a first ping's, each a new environment) so pick one instant from the same
    payload: their subtrees hold together, none released before another's invokes arrive (they
    would find it idle and use it again), so the round's instances are distinct ones, there for
    the next ping.

    A late relay stays until that instant (an instance that has answered is frozen), and a step
    holds the delay: a relay a little late would wait nearly twice the delay. So the instant is at
    most its arrival plus the cap on every hold (:func:`~.timing.longest_hold_ms`, the delay plus
    10 s). Capped, the relay and its subtree still release together, at the latest instant it can
    meet itself (its invokes arrive and hold the delay by then, unless the cap leaves them no time:
    they then hold the delay, as for a payload past its instant). Keeping the step's instant for the
    subtree alone would not hold it together: each child's hold is cut by the same cap, at its own
    time. Only the instant shared with other late subtrees is given up, by a relay that could not
    keep it within the cap."""
    step_level_ms = level_ms(memory_mb, fan) + HOP_MS
    arrived_below_ms = now_ms + below * step_level_ms
    if arrived_below_ms + delay_ms + SKEW_MARGIN_MS <= release_at:
        return release_at
    init_ms = cold_init_ms_for(memory_mb)
    step_ms = 2 * init_ms + below * step_level_ms + delay_ms + SKEW_MARGIN_MS
    needed_ms = arrived_below_ms + init_ms + delay_ms + SKEW_MARGIN_MS - release_at
    stepped = round(release_at + math.ceil(needed_ms / step_ms) * step_ms)
    return min(stepped, arrived_ms + longest_hold_ms(delay_ms))


def epoch_ms(monotonic: float) -> int:
    """A ``time.monotonic()`` instant as epoch milliseconds (this host's clock)."""
    return int(time.time() * 1000 + (monotonic - time.monotonic()) * 1000)


def scope_of(target: FunctionRef, tenant: str | None) -> str:
    """The scope a tree round's payloads are proven for: the function and qualifier its invokes go
    to, and the tenant they go through (a relay reads its own from its context)."""
    return json.dumps([target.function, target.qualifier, tenant], separators=(",", ":"))


def child_places(
    first: int, last: int, fan: int, *, depth: int, release_at: int, answer_by: int, scope: str
) -> dict[int, TreePlace]:
    """The place of each child a sender at ``depth - 1`` invokes for its share ``first``..``last``."""
    return {
        start: TreePlace(release_at, end, fan, depth, answer_by, scope=scope)
        for start, end in blocks(first, last, fan)
    }


def refusal(
    place: TreePlace, index: int, total: int, config: WarmerConfig, *, now_ms: int, scope: str
) -> str | None:
    """Why a relay's payload is not relayed (None: it is). It came from the owner (a tree's place is
    read only with a token set, so its proof was checked: protocol.pings); it must ask for a share
    of the round within it and the cap, at most :data:`MAX_DEPTH` deep, for a round whose release
    instant is at most :data:`RELAY_WINDOW_MS` before ``now_ms`` (epoch ms), proven for the relay's
    own ``scope`` (:func:`scope_of`)."""
    if not 2 <= index < place.last <= total <= config.max_concurrency:
        return (
            f"a relay payload asking for more than its share (indexes {index + 1} to {place.last} of "
            f"{total}, the cap {config.max_concurrency})"
        )
    if not 1 <= place.fan < config.max_concurrency or not (
        place.depth >= 1 and place.depth + depth_of(index + 1, place.last, place.fan) <= MAX_DEPTH
    ):
        return f"a relay payload deeper than {MAX_DEPTH} levels or wider than the cap"
    if now_ms - place.release_at > RELAY_WINDOW_MS:
        return (
            f"a relay payload of a round {(now_ms - place.release_at) / 1000:,.0f} s old (replayed?): "
            f"relayed only within {RELAY_WINDOW_MS // 1000} s of its release instant"
        )
    if place.scope != scope:
        return (
            "a relay payload proven for another function, version, alias or tenant than the one it "
            "reached (replayed?)"
        )
    return None


def unaccounted(reason: str, index: int, place: TreePlace) -> str:
    """A failed relay's reason, saying what of its subtree is unaccounted for."""
    if place.last <= index:
        return reason
    below = f"its {place.last - index} invokes, indexes {index + 1} to {place.last}"
    return f"{reason} (a relay: {below}, unaccounted)"


def explain_failed(result: Round, places: dict[int, TreePlace]) -> None:
    """Each relay of ``result`` that brought no report says what of its subtree is unaccounted for."""
    for outcome in result.outcomes:
        if outcome.report is None and outcome.reason is not None:
            outcome.reason = unaccounted(outcome.reason, outcome.index, places[outcome.index])


def subtree_of(result: Round, depth: int, own_held_at: int | None = None) -> Subtree:
    """What a relay at ``depth - 1`` answers with: what its round (``result``) warmed, below it."""
    instances: list[tuple[str, bool, bool]] = []
    failures: list[Failure] = []
    not_sent = 0
    reasons: list[str] = []
    levels = [LevelReport(depth - 1, 1, result.invocations_sent, result.send_spread_ms, result.handshakes)]
    held = [own_held_at] if own_held_at is not None else []
    for outcome in result.outcomes:
        report = outcome.report
        if not outcome.sent:
            not_sent += 1
            reasons.append(outcome.reason or "")
            continue
        if report is None:
            failures.append(Failure(0, outcome.index, outcome.reason or ""))
            continue
        instances.append((report.instance_id, report.cold, report.initialization == PROVISIONED))
        if report.held_at is not None and not report.cold:  # a cold one's init is not the round's
            held.append(report.held_at)
        below = report.subtree
        if below is not None:
            instances += below.instances
            failures += below.failures
            not_sent += below.not_sent
            reasons += [below.not_sent_reason] if below.not_sent_reason else []
            levels += below.levels
            if below.held_at:
                held += list(below.held_at)
    return Subtree(
        instances,
        failures,
        not_sent,
        merge_levels(levels),
        (min(held), max(held)) if held else None,
        not_sent_reason=next((reason for reason in reasons if reason), None),
    )


def refused(why: str, index: int, place: TreePlace) -> Subtree:
    """What a relay that does not take its share answers (:func:`refusal` says ``why``): none of
    it sent."""
    reason = f"not sent: a relay did not take its share: {why}"
    return Subtree([], [], place.last - index, [], None, not_sent_reason=reason)
