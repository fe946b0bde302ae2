"""``lambdawarmer cost``: what warming N environments costs a month, beside Provisioned Concurrency.

Warming pays, per ping, N requests and the duration of each: the instances it invoked hold for the
delay plus the send spread (estimated as the fan-out estimates it, from the memory size), and the
one that received the ping runs the whole round (its hold-long wait plus a network round trip,
rounded up to 100 ms to be safe). Provisioned Concurrency pays N environments every second of the
month, plus a lower duration rate for the traffic they serve (not counted here: traffic costs the
same either way, within cents).
"""

from __future__ import annotations

import math
import re

from ..config import SETTINGS
from ..fanout import estimated_send_ms_for

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
INSTANCE_OVERHEAD_MS = 5


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
) -> dict[str, float]:
    """Warming and Provisioned Concurrency for ``concurrency`` environments, in US dollars a month."""
    if architecture not in DURATION_PRICE:
        raise CostError(f"architecture {architecture!r}: expected one of {', '.join(DURATION_PRICE)}")
    gigabytes = memory_mb / 1024
    hold_ms = delay_ms + estimated_send_ms_for(memory_mb) * max(0, concurrency - 2)
    per_ping_ms = (concurrency - 1) * (hold_ms + INSTANCE_OVERHEAD_MS) + hold_ms + ROUND_OVERHEAD_MS
    billed_ms = math.ceil(per_ping_ms)
    pings = pings_per_month(schedule)
    requests = pings * concurrency
    gb_seconds = pings * billed_ms / 1000 * gigabytes
    warming = requests * REQUEST_PRICE + gb_seconds * DURATION_PRICE[architecture]
    provisioned = concurrency * gigabytes * SECONDS_PER_MONTH * PROVISIONED_PRICE[architecture]
    return {
        "pings_per_month": pings,
        "requests_per_month": requests,
        "hold_ms": hold_ms,
        "gb_seconds_per_month": gb_seconds,
        "warming_usd": warming,
        "provisioned_usd": provisioned,
    }
