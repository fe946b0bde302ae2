"""Each warming policy, and Provisioned Concurrency, replayed through the model on the same traffic.

For every function: its requests are drawn once (:class:`~.simulation.Requests`), then served
under each policy of :func:`~.policies.standard_policies` and under Provisioned
Concurrency at the function's peak. The figures are summed over functions per policy, and priced:
the pings' requests, the time they are billed for, and the init of every environment they start
(billed since 2025-08-01), next to the init of the real requests that still start cold. The bench
(``bench/traces.py``) runs it on the Azure Functions trace; ``lambdawarmer cost --history`` on the
function's own CloudWatch data.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from lambdawarmer.config import WarmerConfig

from .policies import AUTO_POLICY, NoWarming, standard_policies
from .prices import (
    DURATION_PRICE,
    PROVISIONED_DURATION_PRICE,
    PROVISIONED_PRICE,
    REQUEST_PRICE,
    SNAPSTART_CACHE_PRICE,
    SNAPSTART_RESTORE_PRICE,
)
from .simulation import Assumptions, Outcome, Requests, simulate
from .traffic import MINUTE_S, Workload

PROVISIONED = "Provisioned Concurrency"
SNAPSTART = "SnapStart"
NO_WARMING = NoWarming().name


@dataclass(frozen=True)
class Priced:
    """One policy on one function: the model's outcome and what it costs over the period."""

    policy: str
    outcome: Outcome
    warming_usd: float
    """The pings: requests, billed time and the inits they caused (Provisioned Concurrency: its fee,
    less what its lower duration rate saves on the traffic it serves)."""
    request_init_usd: float
    """The init of the real requests that started cold."""


def price(
    policy: str,
    outcome: Outcome,
    workload: Workload,
    assumptions: Assumptions,
    *,
    architecture: str = "x86_64",
    provisioned: int = 0,
) -> Priced:
    """``outcome`` of ``policy`` priced at ``workload``'s memory."""
    gigabytes = workload.memory_mb / 1024
    rate = DURATION_PRICE[architecture]
    init_s = assumptions.init_ms / 1000
    warming = (
        outcome.warmup_invocations * REQUEST_PRICE
        + (outcome.ping_billed_ms / 1000 + outcome.ping_inits * init_s) * gigabytes * rate
    )
    if provisioned:
        period_s = len(workload.counts) * MINUTE_S
        warming += provisioned * gigabytes * period_s * PROVISIONED_PRICE[architecture]
        saved_rate = rate - PROVISIONED_DURATION_PRICE[architecture]
        warming -= outcome.provisioned_traffic_ms / 1000 * gigabytes * saved_rate
    return Priced(policy, outcome, warming, outcome.cold_starts * init_s * gigabytes * rate)


def price_snapstart(
    outcome: Outcome, workload: Workload, assumptions: Assumptions, architecture: str
) -> Priced:
    """No warming, with SnapStart on: every cold start is a restore instead of an init (its billed
    restore duration and a restore charge per GB), and the snapshot's cache is paid all along."""
    gigabytes = workload.memory_mb / 1024
    cache = gigabytes * len(workload.counts) * MINUTE_S * SNAPSTART_CACHE_PRICE
    restores = outcome.cold_starts * gigabytes * SNAPSTART_RESTORE_PRICE
    restore_s = assumptions.restore_ms / 1000
    billed = outcome.cold_starts * restore_s * gigabytes * DURATION_PRICE[architecture]
    return Priced(SNAPSTART, outcome, cache + restores, billed)


def replay_function(
    workload: Workload,
    assumptions: Assumptions,
    config: WarmerConfig | None = None,
    architecture: str = "x86_64",
    peak: int | None = None,
    *,
    snapstart: bool = False,
    provisioned: int = 0,
) -> list[Priced]:
    """Every policy, then Provisioned Concurrency at ``peak`` (default: the model's), on one function;
    with ``snapstart``, SnapStart too (no warming, its cold starts restores). ``provisioned``: the
    Provisioned Concurrency the function already has, beside which every policy is served (requests
    go to it first; auto counts what lies above it); its fee, the same for every policy, is left out."""
    requests = Requests.draw(workload, assumptions)
    peak = max(1, peak if peak is not None else max(requests.need_by_interval(assumptions.ping_every_min)))
    results = [
        price(
            policy.name,
            simulate(workload, policy, assumptions, requests, provisioned=provisioned),
            workload,
            assumptions,
            architecture=architecture,
        )
        for policy in standard_policies(peak, config)
    ]
    at_peak = simulate(workload, NoWarming(), assumptions, requests, provisioned=peak)
    results.append(
        price(PROVISIONED, at_peak, workload, assumptions, architecture=architecture, provisioned=peak)
    )
    if snapstart:
        unwarmed = next(result.outcome for result in results if result.policy == NO_WARMING)
        results.append(price_snapstart(unwarmed, workload, assumptions, architecture))
    return results


@dataclass
class Totals:
    """One policy summed over functions."""

    policy: str
    requests: int = 0
    cold_starts: int = 0
    warmup_invocations: int = 0
    ping_gb_seconds: float = 0.0
    ping_init_gb_seconds: float = 0.0
    warming_usd: float = 0.0
    request_init_usd: float = 0.0
    rates: list[float] = field(default_factory=list)
    """Each function's cold-start rate (functions with requests)."""

    def add(self, priced: Priced, workload: Workload, assumptions: Assumptions) -> None:
        outcome, gigabytes = priced.outcome, workload.memory_mb / 1024
        self.requests += outcome.requests
        self.cold_starts += outcome.cold_starts
        self.warmup_invocations += outcome.warmup_invocations
        self.ping_gb_seconds += outcome.ping_billed_ms / 1000 * gigabytes
        self.ping_init_gb_seconds += outcome.ping_inits * assumptions.init_ms / 1000 * gigabytes
        self.warming_usd += priced.warming_usd
        self.request_init_usd += priced.request_init_usd
        if outcome.requests:
            self.rates.append(outcome.cold_starts / outcome.requests)

    @property
    def cold_rate(self) -> float:
        return self.cold_starts / self.requests if self.requests else 0.0

    def rate_quantile(self, quantile: float) -> float:
        """The per-function cold-start rate at ``quantile`` (0.5: the median function)."""
        if not self.rates:
            return 0.0
        if len(self.rates) == 1:
            return self.rates[0]
        cuts = statistics.quantiles(self.rates, n=100, method="inclusive")
        return cuts[round(quantile * 100) - 1]

    @property
    def bill_change_usd(self) -> float:
        """What the policy adds to the bill: its warming cost and its real requests' inits."""
        return self.warming_usd + self.request_init_usd


def totals(results: Iterable[tuple[Workload, list[Priced]]], assumptions: Assumptions) -> dict[str, Totals]:
    """Per-policy sums of each function's results, in the policies' order."""
    summed: dict[str, Totals] = {}
    for workload, priced in results:
        for result in priced:
            summed.setdefault(result.policy, Totals(result.policy)).add(result, workload, assumptions)
    return summed


def recommendation(summed: dict[str, Totals], months: float) -> str:
    """What to do, from the replay of ``months`` months of traffic: nothing (warming would save
    less than a cold start a month), Provisioned Concurrency (when it adds less to the bill than
    warming does), or warming with ``auto``; each with its figures."""
    none, auto, provisioned = summed[NO_WARMING], summed[AUTO_POLICY], summed[PROVISIONED]
    saved = (none.cold_starts - auto.cold_starts) / months
    if saved < 1:
        return (
            f"nothing: warming would have saved {max(0.0, saved):.1f} cold starts a month "
            f"({none.cold_starts} of {none.requests:,} requests started cold without it)"
        )
    warming_month = (auto.bill_change_usd - none.bill_change_usd) / months
    provisioned_month = (provisioned.bill_change_usd - none.bill_change_usd) / months
    if provisioned_month <= warming_month:
        return (
            f"Provisioned Concurrency: ${provisioned_month:,.2f} a month against warming's "
            f"${warming_month:,.2f}, and {provisioned.cold_starts / months:,.0f} cold starts a month "
            f"against {auto.cold_starts / months:,.0f} (busy enough for its lower duration rate to pay)"
        )
    return (
        f'warming with "concurrency": "auto": {saved:,.0f} fewer cold starts a month for '
        f"${warming_month:,.2f}; Provisioned Concurrency would leave "
        f"{provisioned.cold_starts / months:,.0f} a month for ${provisioned_month:,.2f}"
    )
