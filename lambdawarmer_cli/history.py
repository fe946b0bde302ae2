"""``lambdawarmer cost FUNCTION --history``: each policy replayed on the function's own traffic.

Reads from CloudWatch, for the last D days, the function's ``Invocations`` (Sum), ``Duration``
(Average) and ``ConcurrentExecutions`` (Maximum) per minute (CloudWatch keeps 1-minute data for 15
days; beyond that it reads 5-minute data, up to the 63 days it keeps, and spreads each period's
requests evenly over its minutes). The requests per minute and their durations (the weighted
percentiles of the per-minute averages, as the Azure trace gives them) become a workload, which
:mod:`.replay` serves under every policy with the function's own memory, architecture and
settings; then the recommendation.
"""

from __future__ import annotations

import argparse
import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from lambdawarmer.config import WarmerConfigError
from lambdawarmer.function_ref import FunctionRef
from lambdawarmer.metrics import metric_query, query_dimensions
from lambdawarmer_model.policies import AUTO_POLICY, ORACLES
from lambdawarmer_model.prices import (
    PRICES_AS_OF,
    PRICES_SOURCE,
    SNAPSTART_CACHE_PRICE,
    SNAPSTART_RESTORE_PRICE,
)
from lambdawarmer_model.replay import SNAPSTART, Totals, recommendation, replay_function, totals
from lambdawarmer_model.simulation import DEFAULT_RESTORE_MS, DEFAULT_SCORED_FROM_MIN, Assumptions
from lambdawarmer_model.traffic import Durations, Workload

from .clients import Clients, error_code
from .exit_status import NO_HISTORY, OK, UsageError
from .placement import provisioned_level
from .progress import Progress

if TYPE_CHECKING:
    from .deployed import Deployed

FINE_DAYS = 15
"""How long CloudWatch keeps 1-minute data."""
MAX_DAYS = 63
"""How long it keeps 5-minute data."""
DEFAULT_DAYS = 14
QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0)
MIN_HISTORY_MIN = DEFAULT_SCORED_FROM_MIN + 60
"""Less traffic history than this cannot be judged: the replay learns from the first minutes
(:data:`lambdawarmer_model.simulation.DEFAULT_SCORED_FROM_MIN`) and scores at least an hour after them."""


class NoHistory(Exception):
    """CloudWatch holds too little of the function's traffic to replay."""


@dataclass(frozen=True)
class History:
    """What CloudWatch holds of one function: per-minute requests, durations, peak concurrency."""

    counts: list[int]
    durations: Durations
    peak_concurrency: float
    period_s: int
    """The resolution it was read at (60, or 300 beyond 15 days)."""


def _series(
    clients: Clients,
    ref: FunctionRef,
    start: datetime.datetime,
    end: datetime.datetime,
    period: int,
    *,
    progress: Progress,
) -> dict[str, dict[datetime.datetime, float]]:
    """Each metric's values by period start, every page of GetMetricData read (the dimensions are
    the ones ``auto`` reads: the function by name, and ``Resource`` through a qualifier), each page
    shown on ``progress``."""
    where: dict[str, Any] = {
        "namespace": "AWS/Lambda",
        "dimensions": query_dimensions(ref.name, ref.qualifier),
        "period_s": period,
    }
    queries = [
        metric_query("invocations", "Invocations", "Sum", **where),
        metric_query("duration", "Duration", "Average", **where),
        metric_query("concurrency", "ConcurrentExecutions", "Maximum", **where),
    ]
    found: dict[str, dict[datetime.datetime, float]] = {q["Id"]: {} for q in queries}
    paginator = clients.cloudwatch.get_paginator("get_metric_data")
    days = (end - start).days
    progress.say(f"reading CloudWatch: {days} day(s) of {ref}'s metrics ({period // 60}-minute data)")
    for number, page in enumerate(
        paginator.paginate(MetricDataQueries=queries, StartTime=start, EndTime=end), start=1
    ):
        for result in page["MetricDataResults"]:
            found[result["Id"]].update(zip(result["Timestamps"], result["Values"]))
        read = sum(len(values) for values in found.values())
        progress.say(f"reading CloudWatch: {days} day(s) of {ref}'s metrics, page {number}, {read:,} points")
    return found


def weighted_durations(averages: list[tuple[float, float]]) -> Durations:
    """Durations from (per-minute average ms, requests) pairs: their weighted percentiles."""
    ordered = sorted((ms, weight) for ms, weight in averages if weight > 0)
    total = sum(weight for _, weight in ordered)
    points, seen, index = [], 0.0, 0
    for quantile in QUANTILES:
        while index < len(ordered) - 1 and seen + ordered[index][1] < quantile * total:
            seen += ordered[index][1]
            index += 1
        points.append((quantile, ordered[index][0]))
    mean = sum(ms * weight for ms, weight in ordered) / total
    return Durations(tuple(points), mean)


def read_history(
    clients: Clients, ref: FunctionRef, days: int, now: datetime.datetime, progress: Progress | None = None
) -> History:
    """The last ``days`` days of ``ref``'s traffic; :class:`NoHistory` when there are no requests or
    less than :data:`MIN_HISTORY_MIN` minutes from the first to the last."""
    period = 60 if days <= FINE_DAYS else 300
    end = now.replace(second=0, microsecond=0)
    start = end - datetime.timedelta(days=days)
    found = _series(clients, ref, start, end, period, progress=progress or Progress(quiet=True))
    invocations = {stamp: value for stamp, value in found["invocations"].items() if value > 0}
    if not invocations:
        raise NoHistory(f"CloudWatch has no Invocations for {ref} in the last {days} days")
    first, last = min(invocations), max(invocations)
    minutes = int((last - first).total_seconds() // 60) + period // 60
    if minutes < MIN_HISTORY_MIN:
        raise NoHistory(
            f"{ref} has {minutes} minutes of traffic in the last {days} days; the replay needs at least "
            f"{MIN_HISTORY_MIN} (it learns from the first {DEFAULT_SCORED_FROM_MIN // 60} hours)"
        )
    counts = [0] * minutes
    for stamp, value in invocations.items():
        offset = int((stamp - first).total_seconds() // 60)
        share, extra = divmod(round(value), period // 60)
        for minute in range(period // 60):
            counts[offset + minute] += share + (minute < extra)
    durations = found["duration"]
    averages = [(durations[stamp], value) for stamp, value in invocations.items() if stamp in durations]
    if not averages:
        raise NoHistory(f"CloudWatch has Invocations but no Duration for {ref} in the last {days} days")
    peak = max(found["concurrency"].values(), default=0.0)
    return History(counts, weighted_durations(averages), peak, period)


def workload_of(ref: FunctionRef, history: History, deployed: Deployed) -> Workload:
    """``ref``'s traffic as the replay prices it: at its memory, and its timeout when its pings carry
    its token (each priced flat, or as the tree round the layer sends when flat does not fit)."""
    try:
        owned = deployed.settings(deployed.served_variables).token is not None
    except WarmerConfigError:
        owned = False
    timeout_ms = 1000 * int(deployed.served.get("Timeout", 3)) if owned else None
    memory = int(deployed.served["MemorySize"])
    return Workload(str(ref), history.counts, history.durations, memory, timeout_ms)


def add_arguments(command: argparse.ArgumentParser) -> None:
    """``--history`` and ``--days`` on ``cost``."""
    command.add_argument(
        "--history",
        action="store_true",
        help="replay the function's own CloudWatch traffic under each policy and recommend one",
    )
    command.add_argument(
        "--days",
        type=int,
        default=DEFAULT_DAYS,
        help=f"how much history to read with --history (1 to {MAX_DAYS}; default {DEFAULT_DAYS})",
    )
    command.add_argument(
        "--restore-ms",
        type=int,
        default=None,
        help=f"with --history: SnapStart's billed restore duration in ms (default {DEFAULT_RESTORE_MS})",
    )


SNAPSTART_RUNTIMES = ("python3.12", "python3.13", "python3.14")
"""The Python runtimes SnapStart supports (3.12 and later)."""


def run(
    function: str,
    *,
    days: int,
    assumptions: Assumptions,
    clients: Clients,
    out: TextIO,
    now: datetime.datetime | None = None,
    progress: Progress | None = None,
) -> int:
    """Replay the last ``days`` of ``function`` under ``assumptions`` and print; the function's
    settings, memory and architecture are read from it."""
    from .deployed import home_refs, read_function

    if not 1 <= days <= MAX_DAYS:
        raise UsageError(
            f"--days {days}: expected 1 to {MAX_DAYS} (CloudWatch keeps 1-minute data "
            f"{FINE_DAYS} days, 5-minute data {MAX_DAYS})"
        )
    ref = home_refs(clients, [function])[0]
    deployed = read_function(clients, ref)
    try:
        config = deployed.settings(deployed.served_variables)
    except WarmerConfigError as error:
        raise UsageError(f"{ref}'s lambdawarmer settings are invalid: {error}") from None
    memory = int(deployed.served["MemorySize"])
    architecture = deployed.served.get("Architectures", ["x86_64"])[0]
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        history = read_history(clients, ref, days, now, progress)
    except NoHistory as error:
        if progress:
            progress.clear()
        print(f"cannot judge {ref}: {error}", file=out)
        return NO_HISTORY
    workload = workload_of(ref, history, deployed)
    try:
        provisioned = provisioned_level(clients, deployed)
    except Exception as error:  # priced as if none, and said
        print(
            f"Provisioned Concurrency on {ref} cannot be read ({error_code(error)}): taken as none", file=out
        )
        provisioned = 0
    # SnapStart serves Python 3.12 and later, and never beside Provisioned Concurrency.
    snapstart = deployed.served.get("Runtime") in SNAPSTART_RUNTIMES and not provisioned
    if progress:
        progress.say(f"replaying {len(history.counts):,} minutes of {ref}'s traffic under each policy")
    results = replay_function(
        workload, assumptions, config, architecture, snapstart=snapstart, provisioned=provisioned
    )
    if progress:
        progress.clear()
    summed = totals([(workload, results)], assumptions)
    scored_min = len(history.counts) - assumptions.scored_from_min
    label = f"{memory} MB {architecture}"
    if provisioned:
        label += f", {provisioned} provisioned on {ref.qualifier} (its fee left out: the same for all)"
    _print(out, ref, history, label, assumptions=assumptions, summed=summed, scored_min=scored_min)
    return OK


def _print(
    out: TextIO,
    ref: FunctionRef,
    history: History,
    label: str,
    *,
    assumptions: Assumptions,
    summed: dict[str, Totals],
    scored_min: int,
) -> None:
    """The replay's table, per month of scored traffic, and the recommendation."""
    months = scored_min / (730 * 60)
    resolution = "1-minute" if history.period_s == 60 else "5-minute"
    print(
        f"{ref}: {len(history.counts) / 1440:.1f} days of {resolution} CloudWatch data, "
        f"{sum(history.counts):,} requests, durations p50 {history.durations.percentiles[3][1]:,.0f} ms "
        f"(mean {history.durations.mean_ms:,.0f} ms), "
        f"peak ConcurrentExecutions {history.peak_concurrency:g}, {label}",
        file=out,
    )
    print(
        f"replayed (idle lifetime {assumptions.idle_lifetime_min:g} min, {assumptions.arrivals} arrivals, "
        f"{assumptions.init_ms:g} ms init, a ping every {assumptions.ping_every_min} min), "
        f"scored after the first {assumptions.scored_from_min // 60} hours, figures a month:",
        file=out,
    )
    print(f"  {'policy':<26}{'cold starts':>12}{'rate':>9}{'warm-up invocations':>21}{'cost':>11}", file=out)
    for name, total in summed.items():
        if name in ORACLES:
            continue
        marker = "*" if name == AUTO_POLICY else " "
        cost = f"${total.bill_change_usd / months:,.2f}"
        print(
            f" {marker}{name:<26}{total.cold_starts / months:>12,.0f}{total.cold_rate:>9.2%}"
            f"{total.warmup_invocations / months:>21,.0f}{cost:>11}",
            file=out,
        )
    print("  * the layer's default (the oracles are left out: they know the future)", file=out)
    print(
        "  cost: what the policy adds to the bill: its pings (requests, held time, the inits they\n"
        "  cause) and the init of the requests that still start cold",
        file=out,
    )
    print(f"recommended: {recommendation(summed, months)}", file=out)
    if SNAPSTART in summed:
        print(
            f"  SnapStart: no warming, each cold start a restore billed {assumptions.restore_ms:g} ms "
            f"(--restore-ms) instead of the {assumptions.init_ms:g} ms init, plus "
            f"${SNAPSTART_RESTORE_PRICE:g} per GB restored and the snapshot's cache, "
            f"${SNAPSTART_CACHE_PRICE:g} per GB-second all along; restores still wait on the request's path",
            file=out,
        )
    else:
        print(
            "  SnapStart: not priced (Python 3.12 and later only, and never with Provisioned Concurrency)",
            file=out,
        )
    print(f"prices: {PRICES_SOURCE} as of {PRICES_AS_OF}", file=out)
