"""Tenant isolation: a scheduled ping warms each named tenant's own environments.

A function that isolates tenants (``TenantIsolationMode: PER_TENANT``) runs each tenant in
environments of its own, and Lambda refuses an invoke that names no tenant. The ping names the
tenants and how many each (its ``tenants`` field, else ``WARMER_TENANTS``); it reaches one tenant's
environment, which warms its own tenant and then every other, one tenant after another, each invoke
naming its tenant (``X-Amz-Tenant-Id``). Each tenant's share is reported and its round metrics
carry a ``TenantId`` dimension. A ping that names no tenant warms the environment's own, and only a
ping carrying the owner's token may name tenants other than that one.
"""

from __future__ import annotations

from .logs import logger
from .protocol import TenantReport
from .tally import Tally

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .config import WarmerConfig
    from .function_ref import FunctionRef
    from .protocol import Ping


def tenants_to_warm(
    ping: Ping, config: WarmerConfig, context: Any, total: int
) -> tuple[dict[str, int] | None, str | None]:
    """The tenants the ping warms, its own tenant first (at least itself), all of them together no
    more than ``WARMER_MAX_CONCURRENCY`` (the cap on N holds whatever a ping names), and why some it
    named are not warmed; None: warm as usual (the function does not isolate tenants, which is said
    when tenants are named).

    An environment of a function that isolates tenants knows its own (``context.tenant_id``):
    a ping naming none (and no ``WARMER_TENANTS``) warms ``total`` of that tenant, every invoke
    naming it. Only the owner may aim the fan-out at other tenants' environments: tenants a ping
    names beside its own count only when the ping carries ``WARMER_TOKEN`` (the setting is the
    owner's, so it always counts)."""
    own = getattr(context, "tenant_id", None)
    tenants = ping.tenants or config.tenants
    if not own:
        if tenants:
            logger.warning(
                "lambdawarmer: tenants are named, but the ping reached no tenant (the function does "
                "not isolate tenants): warming as its concurrency says"
            )
        return None, None
    ignored = None
    if ping.tenants and config.token is None and ping.tenants.keys() - {own}:
        others = sorted(ping.tenants.keys() - {own})
        ignored = (
            f"{len(others)} tenant(s) other than this environment's own ({own}) not warmed: "
            f"{', '.join(others[:5])}{', ...' if len(others) > 5 else ''} (only a ping carrying "
            "WARMER_TOKEN may name other tenants, and none is set)"
        )
        logger.warning("lambdawarmer: %s", ignored)
        tenants = {own: ping.tenants.get(own, 1)}
    wanted = {own: 1} | tenants if tenants else {own: max(1, total)}
    left, capped = config.max_concurrency, {}
    for tenant, count in wanted.items():
        if left <= 0:
            break
        capped[tenant] = min(count, left)
        left -= capped[tenant]
    if capped != wanted:
        logger.warning(
            "lambdawarmer: the tenants named ask for more than the cap of %s environments in all; "
            "warming %s (raise WARMER_MAX_CONCURRENCY to allow more)",
            config.max_concurrency,
            ", ".join(f"{tenant} {count}" for tenant, count in capped.items()),
        )
    return capped, ignored


def warm_tenants(
    run_rounds: Callable[..., None],
    record_round: Callable[..., None],
    tenants: dict[str, int],
    target: FunctionRef,
    correlation_id: str,
    *,
    own: Tally,
    deadline: float,
) -> dict[str, TenantReport]:
    """Warm each tenant's environments (the first tenant is this instance's, and it counts itself),
    with the originator's ``run_rounds`` and ``record_round``."""
    shares = {}
    for number, (tenant, wanted) in enumerate(tenants.items()):
        mine = number == 0
        tally = own if mine else Tally(None, False)
        total = wanted if mine else wanted + 1  # the invokes go to instances 2..total
        if total > 1:
            run_rounds(target, total, correlation_id, tally, deadline, tenant=tenant)
        not_sent = sum(one.invocations_not_sent for one in tally.rounds)
        shares[tenant] = TenantReport(
            wanted, len(tally.instances), len(tally.cold), len(tally.failures), not_sent
        )
        for failure in tally.failures:
            logger.warning("lambdawarmer: tenant %s: fan-out invoke failed: %s", tenant, failure.reason)
        record_round(target.qualifier, wanted, tally, False, tenant)
    return shares
