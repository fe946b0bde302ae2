"""How long a round takes to leave and to be answered, at the function's CPU share.

The N-1 invokes of a round leave one after another, not at one instant: each costs the sending
thread CPU (signing, serialising) under the GIL, and a small function has a fraction of a vCPU,
given as a quota per scheduler period (128 MB: 7% of each period, then nothing until the next).
The fan-out estimates the send spread from the memory for its first round and measures it after
every round; ``lambdawarmer cost`` prices the holds with the same estimate.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SEND_CPU_MS = 0.4
"""CPU time one fanned-out invoke costs the sender on a whole vCPU: its thread, signing, the request
and its answer (0.26 ms measured on a kept-alive connection, more on a new one; boto3 took 2 ms)."""
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


def cpu_share(memory_mb: int) -> float:
    """The share of one vCPU a single thread of a ``memory_mb`` function gets (at most one)."""
    return min(max(memory_mb, 128), ONE_VCPU_MB) / ONE_VCPU_MB


def estimated_send_ms_for(memory_mb: int) -> float:
    """The time between two invokes leaving, for a function of ``memory_mb``: scaled by its CPU share."""
    return SEND_CPU_MS / cpu_share(memory_mb)


def expected_send_spread_ms(send_ms: float, total: int, memory_mb: int) -> float:
    """How long the ``total - 1`` invokes of a round take to leave, first to last: ``send_ms``
    between two, and below a whole vCPU the throttled rest of one quota period on the way."""
    if total <= 2:
        return 0.0
    return send_ms * (total - 2) + QUOTA_PERIOD_MS * (1 - cpu_share(memory_mb))


def measured_send_ms(send_spread_ms: float, sent: int) -> float:
    """The time between two invokes leaving that a round's measured send spread gives, with the safety."""
    return max(MIN_SEND_MS, SAFETY * send_spread_ms / (sent - 1))


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
