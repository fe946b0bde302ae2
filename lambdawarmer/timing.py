"""How long a round takes to leave and to be answered, at the function's CPU share: the one time budget.

The N-1 invokes of a round leave one after another, not at one instant: each costs the sending
thread CPU (signing, serialising) under the GIL, and a small function has a fraction of a vCPU,
given as a quota per scheduler period (128 MB: 7% of each period, then nothing until the next).
The fan-out estimates the send spread from the memory for its first round and measures it after
every round. :func:`round_budget` turns that into a round's hold, its originator's time and its
worst case; the originator sizes its rounds with it, and the command line's ``status`` (does the
function's timeout fit?) and ``cost`` (what the round bills) read the same function.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SEND_CPU_MS = 0.4
"""CPU time one fanned-out invoke costs the sender on a whole vCPU on a kept-alive HTTPS connection,
its thread kept from the last round: signing, the request encrypted and its answer decrypted. 0.26
ms measured alone over plain HTTP; a steady round of 40 over HTTPS at 128 MB leaves in 185 to 280 ms
(this model: 303 ms; bench/results.md, section 8). Starting a thread per invoke, as 1.4 did, cost
as much again (504 ms for that round); boto3 took 2 ms per invoke."""
HANDSHAKE_CPU_MS = 2.0
"""CPU one new connection to an HTTPS endpoint costs the sender on a whole vCPU's terms, as a round
opens them (all at once, a thread each): TCP connect and a full TLS handshake, an RSA-2048
certificate verified. Measured here (bench/handshakes.py, Python's ``ssl`` on OpenSSL 3.0, inside
a function at its CPU share): at 128 MB 1.8 to 2.3 ms of CPU each with 20 at once (1.4 ms one at a
time), at a whole core 1.2 ms (0.9 ms one at a time). At 128 MB's 7.2% of a core, 2.0 ms is 27.6 ms
of wall time per connection: a first round of 40 spends a second opening its connections."""
ONE_VCPU_MB = 1769
QUOTA_PERIOD_MS = 100
"""The period a CPU quota is enforced over (Linux's default, the emulator's; Lambda documents none):
below a whole vCPU, a round whose sends reach the end of the period's quota waits out the rest of it."""
MIN_SEND_MS = 0.5
"""The least time between two invokes leaving that a measurement may set."""
SAFETY = 1.5
"""The factor on a measured spread before it is used to size the next hold."""
ANSWER_ALLOWANCE_MS = 250
"""What an answer needs beyond the instance's hold (the round trip, a small function's CPU share):
an invoke is sent only while that much of the round's time is left."""
DEADLINE_MARGIN_MS = 500
"""Time kept back from the function's remaining time when bounding a fan-out or a hold."""
MAX_EXTRA_HOLD_MS = 10_000
"""The most a fanned-out instance holds beyond the configured delay, whatever its payload asks."""
COLD_INIT_CPU_MS = 50.0
"""CPU an environment's init phase costs on a whole vCPU's terms (the runtime started, the layer's
wrapper and the handler's module loaded): a tree round that may meet new environments holds its
release instant back by this at the function's CPU share (690 ms at 128 MB), so that they are
there when the others release. Measured here: 0.4 to 0.9 s from an invoke reaching a new 128 MB
environment to its handler starting."""
INIT_ALLOWANCE_MS = 10_000
"""Lambda's limit on an environment's init phase: a cold fanned-out instance may take this long to start."""


def longest_hold_ms(delay_ms: int) -> int:
    """The cap on any hold of an environment in a round: the delay plus :data:`MAX_EXTRA_HOLD_MS`
    (an instance's hold, a late relay's wait for its subtree from its arrival)."""
    return delay_ms + MAX_EXTRA_HOLD_MS


def cpu_share(memory_mb: int) -> float:
    """The share of one vCPU a single thread of a ``memory_mb`` function gets (at most one)."""
    return min(max(memory_mb, 128), ONE_VCPU_MB) / ONE_VCPU_MB


def estimated_send_ms_for(memory_mb: int) -> float:
    """The time between two invokes leaving, for a function of ``memory_mb``: scaled by its CPU share."""
    return SEND_CPU_MS / cpu_share(memory_mb)


def cold_init_ms_for(memory_mb: int) -> float:
    """The wall time a new ``memory_mb`` environment's init phase takes: its CPU at the share."""
    return COLD_INIT_CPU_MS / cpu_share(memory_mb)


def handshake_ms_for(memory_mb: int) -> float:
    """The wall time one new HTTPS connection takes a ``memory_mb`` function: its CPU at the share."""
    return HANDSHAKE_CPU_MS / cpu_share(memory_mb)


def expected_send_spread_ms(send_ms: float | None, total: int, memory_mb: int) -> float:
    """How long the ``total - 1`` invokes of a round on kept-alive connections take to leave, first
    to last: by the model (``send_ms`` None: :func:`estimated_send_ms_for` between two and, below a
    whole vCPU, the throttled rest of one quota period on the way), or ``send_ms`` between two as a
    round measured it (its throttling is in the measurement: not added twice)."""
    if total <= 2:
        return 0.0
    if send_ms is None:
        return estimated_send_ms_for(memory_mb) * (total - 2) + QUOTA_PERIOD_MS * (1 - cpu_share(memory_mb))
    return send_ms * (total - 2)


def measured_send_ms(send_spread_ms: float, sent: int) -> float:
    """The time between two invokes leaving that a round's measured send spread gives, with the safety."""
    return max(MIN_SEND_MS, SAFETY * send_spread_ms / (sent - 1))


class RoundBudget:
    """How long one round of ``instances`` takes: its send spread, each instance's hold, the time the
    originator needs (the last invoke leaves, holds, and its answer comes back) and the worst case
    (one of the instances starting cold first). Every figure in milliseconds."""

    __slots__ = ("handshakes", "hold_ms", "instances", "needed_ms", "send_spread_ms")

    def __init__(
        self, instances: int, send_spread_ms: float, hold_ms: int, needed_ms: float, handshakes: int = 0
    ) -> None:
        self.instances = instances
        self.send_spread_ms = send_spread_ms
        self.hold_ms = hold_ms
        self.needed_ms = needed_ms
        self.handshakes = handshakes

    @property
    def worst_case_ms(self) -> float:
        """The round with a fanned-out instance that starts cold: its init comes before its hold."""
        return self.needed_ms + INIT_ALLOWANCE_MS if self.instances > 1 else self.needed_ms

    @property
    def timeout_needed_ms(self) -> float:
        """The function timeout a ping of this round needs: its time and the margin kept back."""
        return self.needed_ms + DEADLINE_MARGIN_MS


def round_budget(
    memory_mb: int,
    instances: int,
    delay_ms: int,
    *,
    send_ms: float | None = None,
    extra_hold_ms: float = 0.0,
    handshakes: int = 0,
) -> RoundBudget:
    """The round a ``memory_mb`` function runs for ``instances`` environments: each instance holds
    ``delay_ms`` plus the larger of the send spread and ``extra_hold_ms`` (what warm instances'
    arrivals spread last time, or a top-up's allowance), at most :data:`MAX_EXTRA_HOLD_MS` more.
    ``send_ms``: the time between two invokes leaving on kept-alive connections, when a round
    measured it (None: the model's); ``handshakes``: the new HTTPS connections the round opens,
    each delaying the invokes after it by :func:`handshake_ms_for` (on kept-alive ones, none)."""
    if instances <= 1:
        return RoundBudget(1, 0.0, 0, 0.0)
    opening_ms = handshakes * handshake_ms_for(memory_mb)
    spread_ms = expected_send_spread_ms(send_ms, instances, memory_mb) + opening_ms
    hold_ms = min(longest_hold_ms(delay_ms), delay_ms + round(max(spread_ms, extra_hold_ms)))
    return RoundBudget(instances, spread_ms, hold_ms, spread_ms + hold_ms + ANSWER_ALLOWANCE_MS, handshakes)


def function_memory_mb() -> int:
    """This function's memory size (``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``; a whole vCPU's when unknown)."""
    try:
        return int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", ONE_VCPU_MB))
    except ValueError:
        return ONE_VCPU_MB


def time_left_ms(context: Any, unknown_ms: int) -> int:
    """The function's remaining time less :data:`DEADLINE_MARGIN_MS`: what a ping may use
    (``unknown_ms`` when the context cannot tell)."""
    try:
        remaining_ms = int(context.get_remaining_time_in_millis())
    except Exception:
        return unknown_ms
    return max(0, remaining_ms - DEADLINE_MARGIN_MS)
