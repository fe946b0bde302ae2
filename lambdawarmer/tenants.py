"""Tenant isolation: a scheduled ping warms each named tenant's own environments.

A function that isolates tenants (``TenantIsolationMode: PER_TENANT``) runs each tenant in
environments of its own, and Lambda refuses an invoke that names no tenant. The ping names the
tenants and how many each (its ``tenants`` field, else ``WARMER_TENANTS``); it reaches one tenant's
environment, which warms its own tenant and then every other, one tenant after another, each invoke
naming its tenant (``X-Amz-Tenant-Id``). Each tenant's share is reported and its round metrics
carry a ``TenantId`` dimension.
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


def tenants_to_warm(ping: Ping, config: WarmerConfig, context: Any) -> dict[str, int] | None:
    """The tenants the ping warms, its own tenant first (at least itself), all of them together no
    more than ``WARMER_MAX_CONCURRENCY`` (the cap on N holds whatever a ping names); None: warm as
    usual (no tenants named, or the function does not isolate tenants, which is said)."""
    tenants = ping.tenants or config.tenants
    own = getattr(context, "tenant_id", None)
    if not tenants:
        return None
    if not own:
        logger.warning(
            "lambdawarmer: tenants are named, but the ping reached no tenant (the function does not "
            "isolate tenants): warming as its concurrency says"
        )
        return None
    left, capped = config.max_concurrency, {}
    for tenant, wanted in ({own: 1} | tenants).items():
        if left <= 0:
            break
        capped[tenant] = min(wanted, left)
        left -= capped[tenant]
    if capped != {own: 1} | tenants:
        logger.warning(
            "lambdawarmer: the tenants named ask for more than the cap of %s environments in all; "
            "warming %s (raise WARMER_MAX_CONCURRENCY to allow more)",
            config.max_concurrency,
            ", ".join(f"{tenant} {count}" for tenant, count in capped.items()),
        )
    return capped


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
