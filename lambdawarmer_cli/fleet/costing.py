"""``fleet cost --budget``'s rows: each function priced on its history, ranked by cold starts per dollar.

Each function's history is read as ``cost --history`` reads it and priced by budget.py, the budget
spent, and the functions ranked by cold starts avoided per dollar at the N recommended."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from ..clients import error_reason, is_aws_error
from ..deployed import read_function
from ..exit_status import AWS_FAILED, NO_HISTORY, OK
from ..history import NoHistory, read_history, workload_of
from ..placement import provisioned_level
from ..setup_checks import OK as GOOD
from ..setup_checks import WARN
from .budget import Choices, allocate, options

if TYPE_CHECKING:
    from lambdawarmer_model.simulation import Assumptions

    from .work import Fleet, Outcome, Target


def choices(
    fleet: Fleet, target: Target, days: int, assumptions: Assumptions, now: datetime.datetime
) -> Choices | Outcome:
    """``target``'s options, priced on its own history; its row when it has too little or cannot be read."""
    from .work import Outcome

    clients = fleet.clients(target.scope)
    ref = fleet.ref(target)
    try:
        deployed = read_function(clients, ref)
        history = read_history(clients, ref, days, now)
    except NoHistory as error:
        return Outcome(fleet.row(target, WARN, f"not priced: {error}"), NO_HISTORY)
    except Exception as error:
        if not is_aws_error(error):
            raise
        return fleet.failed(target, f"cannot read it or its metrics: {error_reason(error)}", AWS_FAILED)
    try:
        provisioned = provisioned_level(clients, deployed)
    except Exception:  # priced as if none, as cost --history does
        provisioned = 0
    architecture = deployed.served.get("Architectures", ["x86_64"])[0]
    workload = workload_of(ref, history, deployed)
    return options(workload, assumptions, architecture, provisioned)


def budget_rows(
    fleet: Fleet, targets: list[Target], budget_usd: float, days: int, assumptions: Assumptions
) -> tuple[list[Outcome], str]:
    """A row per function, ranked (best cold starts avoided per dollar first), and the summary line."""
    from .work import Outcome

    now = datetime.datetime.now(datetime.timezone.utc)
    found = fleet.map("pricing", targets, lambda target: choices(fleet, target, days, assumptions, now))
    unpriced = [each for each in found if isinstance(each, Outcome)]
    priced = {target: each for target, each in zip(targets, found) if not isinstance(each, Outcome)}
    chosen = allocate({fleet.key(t): each.options for t, each in priced.items()}, budget_usd)
    ranked: list[tuple[float, Outcome]] = []
    spent = avoided = 0.0
    for target, each in priced.items():
        n = chosen[fleet.key(target)]
        option = each.options[n - 1] if n else None
        pc = each.provisioned
        needs = "nothing within the budget"
        per_dollar = 0.0
        if option is not None:
            spent, avoided = spent + option.usd, avoided + option.avoided
            per_dollar = option.avoided / option.usd if option.usd > 0 else float("inf")
            needs = f"avoids {option.avoided:,.0f} cold starts a month for {dollars(option.usd)}"
        warming_at_peak = each.options[pc.n - 1]
        if pc.usd < warming_at_peak.usd:
            needs += (
                f"; Provisioned Concurrency of {pc.n} is cheaper than warming {pc.n}: "
                f"{dollars(pc.usd)} a month against {dollars(warming_at_peak.usd)}"
            )
        ranked.append((per_dollar, Outcome(fleet.row(target, GOOD, needs, n=str(n)), OK)))
    ranked.sort(key=lambda pair: -pair[0])
    summary = (
        f"budget {dollars(budget_usd)} a month: {dollars(spent)} of it spent, {avoided:,.0f} cold starts "
        f"avoided a month ({len(priced)} function(s) priced, {len(unpriced)} not)"
    )
    return [outcome for _, outcome in ranked] + unpriced, summary


def dollars(amount: float) -> str:
    """``$1,234.50``, ``-$0.12`` (warming that saves more inits than its pings cost), ``$0.00``."""
    cents = round(amount, 2)
    return f"{'-' if cents < 0 else ''}${abs(cents):,.2f}"
