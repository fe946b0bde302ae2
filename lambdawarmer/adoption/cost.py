"""``lambdawarmer cost``: what warming N environments costs a month, beside Provisioned Concurrency.

Warming pays, per ping, N requests and the duration of each: the instances it invoked hold for the
delay plus the send spread (estimated as the fan-out estimates it, from the memory's CPU share,
throttled wait included), plus their own work at that share, and the one that received the ping
runs the whole round (its hold-long wait plus a network round trip, rounded up to 100 ms to be
safe). Since 2025-08-01 Lambda also bills the init phase of on-demand environments: warming pays
the init of every environment its pings start, when Lambda had reclaimed the one before (idle
longer than it keeps one, or replaced after a lifetime it does not document). Provisioned
Concurrency pays N environments every second of the month, plus a lower duration rate for the
traffic they serve (not counted here: traffic costs the same either way, within cents).
:func:`assumptions` says each figure taken as given.
"""

from __future__ import annotations

import math
import re

from ..config import SETTINGS
from ..fanout import cpu_share, estimated_send_ms_for, expected_send_spread_ms

PRICES_AS_OF = "2026-11 (first pricing tier, us-east-1)"
PRICES_SOURCE = "https://aws.amazon.com/lambda/pricing/"
REQUEST_PRICE = 0.20 / 1_000_000
DURATION_PRICE = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
"""On-demand duration, per GB-second."""
PROVISIONED_PRICE = {"x86_64": 0.0000041667, "arm64": 0.0000033334}
"""Provisioned Concurrency, per GB-second provisioned (the duration it serves is billed on top)."""
SECONDS_PER_MONTH = 730 * 3600
ROUND_OVERHEAD_MS = 100
"""The originator's time beyond the hold: sending, the answers' round trip (measured: 50-400 ms at N=40)."""
INSTANCE_CPU_MS = 1.0
"""CPU an instance spends on a ping beyond its hold, on a whole vCPU (the runtime's request and
answer); it takes that over the memory's CPU share."""
IDLE_RECLAIM_MIN = 10
"""Taken as how long Lambda keeps an idle environment (undocumented; 5 to 15 minutes is reported)."""
LIFETIME_H = 2
"""Taken as how long Lambda keeps a busy environment before replacing it (undocumented)."""
DEFAULT_INIT_MS = 250
"""Taken as a Python function's init phase when none is given (``--init-ms``)."""


class CostError(ValueError):
    """The schedule or an argument cannot be priced."""


def pings_per_month(schedule: str) -> float:
    """How often ``rate(N minutes|hours|days)`` fires in a month of 730 hours."""
    found = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", schedule.strip())
    if not found:
        raise CostError(
            f"cannot price the schedule {schedule!r}: expected rate(N minutes), rate(N hours) or rate(N days)"
        )
    every_s = int(found.group(1)) * {"minute": 60, "hour": 3600, "day": 86_400}[found.group(2).rstrip("s")]
    if every_s == 0:
        raise CostError("a rate of 0 never fires")
    return SECONDS_PER_MONTH / every_s


def monthly_cost(
    memory_mb: int,
    concurrency: int,
    schedule: str = "rate(5 minutes)",
    architecture: str = "x86_64",
    delay_ms: int = int(SETTINGS["delay"].default),  # type: ignore[call-overload]
    *,
    init_ms: int = DEFAULT_INIT_MS,
) -> dict[str, float]:
    """Warming and Provisioned Concurrency for ``concurrency`` environments, in US dollars a month."""
    if architecture not in DURATION_PRICE:
        raise CostError(f"architecture {architecture!r}: expected one of {', '.join(DURATION_PRICE)}")
    gigabytes = memory_mb / 1024
    hold_ms = delay_ms + expected_send_spread_ms(estimated_send_ms_for(memory_mb), concurrency, memory_mb)
    instance_ms = hold_ms + INSTANCE_CPU_MS / cpu_share(memory_mb)
    per_ping_ms = (concurrency - 1) * instance_ms + hold_ms + ROUND_OVERHEAD_MS
    billed_ms = math.ceil(per_ping_ms)
    pings = pings_per_month(schedule)
    requests = pings * concurrency
    if SECONDS_PER_MONTH / pings > IDLE_RECLAIM_MIN * 60:
        inits = requests  # reclaimed between two pings: every ping starts its N environments again
    else:
        inits = concurrency * SECONDS_PER_MONTH / (LIFETIME_H * 3600)
    ping_gb_seconds = pings * billed_ms / 1000 * gigabytes
    init_gb_seconds = inits * init_ms / 1000 * gigabytes
    gb_seconds = ping_gb_seconds + init_gb_seconds
    warming = requests * REQUEST_PRICE + gb_seconds * DURATION_PRICE[architecture]
    provisioned = concurrency * gigabytes * SECONDS_PER_MONTH * PROVISIONED_PRICE[architecture]
    return {
        "pings_per_month": pings,
        "requests_per_month": requests,
        "hold_ms": hold_ms,
        "inits_per_month": inits,
        "init_gb_seconds_per_month": init_gb_seconds,
        "gb_seconds_per_month": gb_seconds,
        "warming_usd": warming,
        "provisioned_usd": provisioned,
    }


def assumptions(memory_mb: int, init_ms: int) -> list[str]:
    """Each figure the estimate takes as given, as the command prints it."""
    share = cpu_share(memory_mb)
    return [
        f"CPU: {memory_mb} MB gets {share:.1%} of a vCPU for one thread (1,769 MB = one); sends and holds "
        "are timed at that share",
        f"init: {init_ms} ms per environment a ping starts (--init-ms), billed as duration since 2025-08-01",
        f"an idle environment is reclaimed after {IDLE_RECLAIM_MIN} minutes, a busy one replaced every "
        f"{LIFETIME_H} hours (Lambda documents neither)",
        f"the instance that received the ping runs {ROUND_OVERHEAD_MS} ms beyond the hold",
    ]
