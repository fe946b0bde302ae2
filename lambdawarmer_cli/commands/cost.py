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

import argparse
import math
from typing import Any, TextIO

from lambdawarmer.config import WarmerConfigError, load_config
from lambdawarmer.settings import SETTINGS
from lambdawarmer.timing import HANDSHAKE_CPU_MS, cpu_share, handshake_ms_for
from lambdawarmer_model.prices import (
    DURATION_PRICE,
    PRICES_AS_OF,
    PRICES_SOURCE,
    PROVISIONED_PRICE,
    REQUEST_PRICE,
)
from lambdawarmer_model.rounds import ROUND_OVERHEAD_MS, round_shape, scheduled_round
from lambdawarmer_model.simulation import (
    DEFAULT_IDLE_LIFETIME_MIN,
    DEFAULT_INIT_MS,
    DEFAULT_RESTORE_MS,
    Assumptions,
)

from .. import history
from ..clients import Clients
from ..exit_status import OK, UsageError
from ..progress import progress_of
from ..schedules import DEFAULT_SCHEDULE, ScheduleError, period_s

SECONDS_PER_MONTH = 730 * 3600
LIFETIME_H = 2
"""Taken as how long Lambda keeps a busy environment before replacing it (undocumented)."""


DEFAULT_TIMEOUT_S = 3
"""Lambda's default function timeout."""
MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10_240


class CostError(ValueError):
    """An argument cannot be priced."""


def pings_per_month(schedule: str) -> float:
    """How often ``rate(N minutes|hours|days)`` fires in a month of 730 hours."""
    return SECONDS_PER_MONTH / period_s(schedule)


def monthly_cost(
    memory_mb: int,
    concurrency: int,
    schedule: str = DEFAULT_SCHEDULE,
    architecture: str = "x86_64",
    delay_ms: int = SETTINGS["delay"].default,  # type: ignore[assignment]
    *,
    init_ms: int = DEFAULT_INIT_MS,
    timeout_ms: int | None = None,
) -> dict[str, float]:
    """Warming and Provisioned Concurrency for ``concurrency`` environments, in US dollars a month;
    each ping priced flat, or as the tree round the layer sends when a ``timeout_ms`` function
    cannot send it flat (the owner's pings: a schedule carries the token). ``ping_gb_seconds``: one
    ping's, as sent; ``flat_ping_gb_seconds``: the flat round's, for comparison (``tree_fan``,
    ``tree_depth``: 0 when flat; ``flat_timeout_needed_ms``: the timeout flat needs)."""
    if architecture not in DURATION_PRICE:
        raise CostError(f"architecture {architecture!r}: expected one of {', '.join(DURATION_PRICE)}")
    gigabytes = memory_mb / 1024
    shape = round_shape(memory_mb, concurrency, delay_ms, timeout_ms=timeout_ms)
    flat = shape if shape.tree is None else round_shape(memory_mb, concurrency, delay_ms)
    billed_ms = math.ceil(shape.billed_ms)
    pings = pings_per_month(schedule)
    requests = pings * concurrency
    if SECONDS_PER_MONTH / pings > DEFAULT_IDLE_LIFETIME_MIN * 60:
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
        "hold_ms": shape.hold_ms,
        "ping_gb_seconds": billed_ms / 1000 * gigabytes,
        "flat_ping_gb_seconds": math.ceil(flat.billed_ms) / 1000 * gigabytes,
        "flat_timeout_needed_ms": scheduled_round(memory_mb, concurrency, delay_ms).timeout_needed_ms,
        "tree_fan": shape.tree.fan if shape.tree else 0,
        "tree_depth": shape.tree.depth if shape.tree else 0,
        "inits_per_month": inits,
        "init_gb_seconds_per_month": init_gb_seconds,
        "gb_seconds_per_month": gb_seconds,
        "warming_usd": warming,
        "provisioned_usd": provisioned,
    }


def ping_shape(cost: dict[str, float]) -> str:
    """One ping's GB-seconds as the layer sends it, flat or a tree, and the flat round's beside a tree."""
    if not cost["tree_fan"]:
        return f"each ping: a flat round, {cost['ping_gb_seconds']:.3f} GB-seconds"
    return (
        f"each ping: a tree round (fan {cost['tree_fan']:.0f}, depth {cost['tree_depth']:.0f}), "
        f"{cost['ping_gb_seconds']:.3f} GB-seconds; flat would need a "
        f"~{cost['flat_timeout_needed_ms']:,.0f} ms timeout "
        f"({cost['flat_ping_gb_seconds']:.3f} GB-seconds, were it to fit)"
    )


def assumptions(memory_mb: int, init_ms: int) -> list[str]:
    """Each figure the estimate takes as given, as the command prints it."""
    share = cpu_share(memory_mb)
    return [
        f"CPU: {memory_mb} MB gets {share:.1%} of a vCPU for one thread (1,769 MB = one); sends and holds "
        "are timed at that share",
        f"init: {init_ms} ms per environment a ping starts (--init-ms), billed as duration since 2025-08-01",
        f"an idle environment is reclaimed after {DEFAULT_IDLE_LIFETIME_MIN} minutes, a busy one replaced "
        f"every {LIFETIME_H} hours (Lambda documents neither)",
        f"the instance that received the ping runs the send spread, the hold and {ROUND_OVERHEAD_MS} ms more",
        f"each ping opens its connections anew: a TLS handshake each, {HANDSHAKE_CPU_MS} ms of CPU at "
        f"the share ({handshake_ms_for(memory_mb):.1f} ms; Lambda documents no idle timeout for its API)",
        "when one environment cannot send N in the function's timeout, the layer sends a tree round "
        "(relays share the handshakes; every instance holds until one release instant, a relay until "
        "its subtree answered): each instance is billed from its level's first arrival",
    ]


def add_parser(commands: Any, aws: argparse.ArgumentParser) -> None:
    """The ``cost`` command's arguments (``aws``: profile, region)."""
    command = commands.add_parser(
        "cost",
        parents=[aws],
        help="monthly cost of warming vs Provisioned Concurrency (--history: every policy on your traffic)",
    )
    command.add_argument(
        "function", nargs="?", metavar="FUNCTION", help="read memory and architecture from it"
    )
    command.add_argument("--memory", type=int, help="memory size in MB")
    command.add_argument("--concurrency", type=int, help="N (not with --history)")
    command.add_argument("--schedule", default=DEFAULT_SCHEDULE, help="the ping's schedule")
    command.add_argument("--arch", choices=sorted(DURATION_PRICE), default=None, help="default x86_64")
    command.add_argument(
        "--timeout",
        type=int,
        default=None,
        help=f"the function's timeout in s (default: the function's, else {DEFAULT_TIMEOUT_S}): a ping "
        "that cannot send N flat in it sends a tree round",
    )
    command.add_argument(
        "--init-ms",
        type=int,
        default=None,
        help=f"the function's init phase in ms (default: {DEFAULT_INIT_MS})",
    )
    history.add_arguments(command)


def run(arguments: argparse.Namespace, out: TextIO) -> int:
    """Print the estimate and its assumptions (or, with ``--history``, the replay); usage errors
    for what cannot be priced."""
    init_ms = DEFAULT_INIT_MS if arguments.init_ms is None else arguments.init_ms
    if init_ms < 0:
        raise UsageError(f"--init-ms {init_ms}: expected 0 or more milliseconds")
    if (arguments.restore_ms or 0) < 0:
        raise UsageError(f"--restore-ms {arguments.restore_ms}: expected 0 or more milliseconds")
    if arguments.history:
        return _run_history(arguments, init_ms, out)
    if arguments.concurrency is None:
        raise UsageError("give --concurrency N (or --history to replay the function's own traffic)")
    memory, architecture = arguments.memory, arguments.arch
    delay_ms = int(SETTINGS["delay"].default)  # type: ignore[call-overload]
    timeout_s, owned = arguments.timeout, True
    if arguments.function:
        from ..deployed import home_refs

        clients = Clients(arguments.profile, arguments.region)
        target = home_refs(clients, [arguments.function])[0]
        configuration = clients.lambda_.get_function_configuration(
            FunctionName=target.function, **({"Qualifier": target.qualifier} if target.qualifier else {})
        )
        memory = memory or int(configuration["MemorySize"])
        architecture = architecture or configuration.get("Architectures", ["x86_64"])[0]
        timeout_s = timeout_s or int(configuration.get("Timeout", DEFAULT_TIMEOUT_S))
        variables = configuration.get("Environment", {}).get("Variables", {})
        try:
            config = load_config(environ=variables)
        except WarmerConfigError as error:
            raise UsageError(f"{target}'s WARMER_* settings are invalid: {error}") from None
        delay_ms = config.delay  # the hold the function's own settings give
        owned = config.token is not None  # a tree round is sent for the owner's pings only
    if memory is None:
        raise UsageError("give --memory MB, or a FUNCTION to read it from")
    architecture = architecture or "x86_64"
    try:
        if not MIN_MEMORY_MB <= memory <= MAX_MEMORY_MB:
            raise CostError(f"--memory {memory}: Lambda allows {MIN_MEMORY_MB} to {MAX_MEMORY_MB} MB")
        if arguments.concurrency < 1:
            raise CostError(f"--concurrency {arguments.concurrency}: expected 1 or more")
        cost = monthly_cost(
            memory,
            arguments.concurrency,
            arguments.schedule,
            architecture,
            delay_ms,
            init_ms=init_ms,
            timeout_ms=1000 * (timeout_s or DEFAULT_TIMEOUT_S) if owned else None,
        )
    except CostError as error:
        raise UsageError(str(error)) from None
    except ScheduleError as error:
        raise UsageError(f"cannot price the schedule: {error}") from None
    region = arguments.region or "us-east-1"
    print(
        f"{arguments.concurrency} environments of {memory} MB ({architecture}), pinged {arguments.schedule}, "
        f"each holding its WARMER_DELAY ({delay_ms} ms) and the send spread:",
        file=out,
    )
    print(
        f"  warming:                 ${cost['warming_usd']:.2f} a month "
        f"({cost['requests_per_month']:,.0f} requests, {cost['gb_seconds_per_month']:,.0f} GB-seconds; "
        f"each instance holds ~{cost['hold_ms']:.0f} ms; {cost['inits_per_month']:,.0f} inits, "
        f"{cost['init_gb_seconds_per_month']:,.0f} GB-seconds of it)",
        file=out,
    )
    print(f"  {ping_shape(cost)}", file=out)
    print(
        f"  Provisioned Concurrency: ${cost['provisioned_usd']:.2f} a month "
        "(plus its lower duration rate for traffic)",
        file=out,
    )
    print(f"prices: {PRICES_SOURCE} as of {PRICES_AS_OF}; other regions differ (asked: {region})", file=out)
    print("assumed:", file=out)
    for assumption in assumptions(memory, init_ms):
        print(f"  - {assumption}", file=out)
    return OK


def _run_history(arguments: argparse.Namespace, init_ms: int, out: TextIO) -> int:
    """``--history``: what the function itself says is read from it, the rest from the arguments."""
    given = [
        flag
        for flag, value in (
            ("--concurrency", arguments.concurrency),
            ("--memory", arguments.memory),
            ("--arch", arguments.arch),
        )
        if value is not None
    ]
    if given:
        raise UsageError(
            f"--history reads N, the memory and the architecture from the function: drop {', '.join(given)}"
        )
    if not arguments.function:
        raise UsageError("--history needs a FUNCTION to read its traffic from")
    try:
        every_min = period_s(arguments.schedule) // 60
    except ScheduleError as error:
        raise UsageError(str(error)) from None
    return history.run(
        arguments.function,
        days=arguments.days,
        assumptions=Assumptions(
            init_ms=init_ms,
            ping_every_min=every_min,
            restore_ms=DEFAULT_RESTORE_MS if arguments.restore_ms is None else arguments.restore_ms,
        ),
        clients=Clients(arguments.profile, arguments.region),
        out=out,
        progress=progress_of(arguments),
    )
