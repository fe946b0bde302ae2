"""``fleet cost --budget``: N for each function, the fleet's warming within a monthly budget.

Each function's own CloudWatch history (read as ``cost --history`` reads it) is served by the model
under no warming, under a fixed N for each N from 1 to its peak need (at most :data:`MAX_N`), and
under Provisioned Concurrency at that peak, each priced as ``cost --history`` prices it. The budget
is then spent greedily: the next environment goes to the function whose next N avoids the most cold
starts per dollar, while it fits in what is left.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from lambdawarmer_model.policies import Fixed, NoWarming
from lambdawarmer_model.replay import PROVISIONED, Priced, price
from lambdawarmer_model.simulation import Assumptions, Requests, simulate
from lambdawarmer_model.traffic import Workload

MAX_N = 10
"""The largest N priced for a function (each N is a replay of its history)."""
MINUTES_PER_MONTH = 730 * 60


@dataclass(frozen=True)
class Option:
    """Warming N environments of one function, against no warming, a month: the cold starts it
    avoids and what it adds to the bill (its pings, and the inits of requests still cold)."""

    n: int
    avoided: float
    usd: float


@dataclass(frozen=True)
class Choices:
    """One function's options (N = 1, 2...), and Provisioned Concurrency at its peak need."""

    options: list[Option]
    provisioned: Option


def _bill(priced: Priced) -> float:
    return priced.warming_usd + priced.request_init_usd


def options(workload: Workload, assumptions: Assumptions, architecture: str, provisioned: int = 0) -> Choices:
    """Each N from 1 to the peak need (at most :data:`MAX_N`) on ``workload``, and Provisioned
    Concurrency at that peak, a month each, beside the ``provisioned`` environments it has."""
    requests = Requests.draw(workload, assumptions)
    months = max(len(workload.counts) - assumptions.scored_from_min, 1) / MINUTES_PER_MONTH
    peak = min(MAX_N, max([1, *requests.need_by_interval(assumptions.ping_every_min)]))

    def priced(policy: NoWarming | Fixed, at: int = provisioned, fee: int = 0) -> Priced:
        outcome = simulate(workload, policy, assumptions, requests, provisioned=at)
        return price(policy.name, outcome, workload, assumptions, architecture=architecture, provisioned=fee)

    none = priced(NoWarming())

    def against_none(n: int, found: Priced) -> Option:
        avoided = (none.outcome.cold_starts - found.outcome.cold_starts) / months
        return Option(n, avoided, (_bill(found) - _bill(none)) / months)

    warmed = [against_none(n, priced(Fixed(n, f"fixed N = {n}"))) for n in range(1, peak + 1)]
    at_peak = priced(NoWarming(name=PROVISIONED), at=peak, fee=peak)
    return Choices(warmed, against_none(peak, at_peak))


def allocate(functions: dict[str, list[Option]], budget_usd: float) -> dict[str, int]:
    """N for each function (0: none), spending at most ``budget_usd`` a month: greedily, the step
    (N to N+1 of one function) that avoids the most cold starts per dollar and still fits, until
    none does or none avoids any more."""
    chosen = {name: 0 for name in functions}
    spent = 0.0
    steps: list[tuple[float, str]] = []

    def offer(name: str) -> None:
        n, each = chosen[name], functions[name]
        if n >= len(each):
            return
        before = each[n - 1] if n else Option(0, 0.0, 0.0)
        gain, cost = each[n].avoided - before.avoided, each[n].usd - before.usd
        if gain > 0:
            heapq.heappush(steps, (-(gain / cost if cost > 0 else float("inf")), name))

    for name in functions:
        offer(name)
    while steps:
        _, name = heapq.heappop(steps)
        n, each = chosen[name], functions[name]
        cost = each[n].usd - (each[n - 1].usd if n else 0.0)
        if spent + cost > budget_usd:
            continue  # this step does not fit; a cheaper one of another function may
        spent += cost
        chosen[name] = n + 1
        offer(name)
    return chosen
