"""Where Lambda runs a function, read from its configuration, and whether pings may be scheduled
there: one reading for ``enable`` (what it refuses, what it notes) and ``status``
(capacity_checks.check_placement).

From AWS's documentation (the README's "Where Lambda runs your function" cites it):

* Lambda Managed Instances (``CapacityProviderConfig``): environments on the account's own
  instances, each serving several requests at once and started ahead of demand; there is no
  per-request cold start, so a ping only takes a worker from a real request. Readiness for a burst
  is the function's minimum execution environments (``PutFunctionScalingConfig``).
* Tenant isolation (``TenancyConfig.TenantIsolationMode = PER_TENANT``): every invoke must name a
  tenant (``X-Amz-Tenant-Id``) and each tenant has environments of its own; a ping without a
  tenant is refused, so pings must be sent per tenant.
* SnapStart (``SnapStart.ApplyOn = PublishedVersions``): published versions only, never $LATEST;
  each environment is restored from one snapshot, and each restore is a new instance to the layer.
* Provisioned Concurrency (per alias or version): requests go to its environments first, and they
  are initialised ahead of demand; a ping at or below its level warms nothing more.
* Durable functions (``DurableConfig``): every invoke starts a durable execution, and Lambda invokes
  a durable function only by a qualified ARN (a version or an alias). The layer answers a ping
  inside the execution (protocol.durable): the execution ends at once, the workflow never runs.
"""

from __future__ import annotations

from typing import Any

from .clients import Clients, error_code
from .deployed import Deployed


def managed_instances(configuration: dict[str, Any]) -> str | None:
    """The capacity provider a function on Lambda Managed Instances runs on (None: not there)."""
    provider = (configuration.get("CapacityProviderConfig") or {}).get(
        "LambdaManagedInstancesCapacityProviderConfig"
    ) or {}
    arn = provider.get("CapacityProviderArn")
    return str(arn) if arn else None


def tenant_isolated(configuration: dict[str, Any]) -> bool:
    return (configuration.get("TenancyConfig") or {}).get("TenantIsolationMode") == "PER_TENANT"


def durable(configuration: dict[str, Any]) -> bool:
    return bool(configuration.get("DurableConfig"))


def refusal(deployed: Deployed, tenants: dict[str, int] | None = None) -> str | None:
    """Why pings must not be scheduled for ``deployed`` as it is (None: they may); ``tenants``: the
    tenants named to warm (``--tenants``)."""
    configuration = deployed.served
    provider = managed_instances(configuration)
    if provider:
        return (
            f"it runs on Lambda Managed Instances ({provider}): its environments serve several requests "
            "at once and are started ahead of demand, so there is no cold start to avoid and a ping "
            "only takes a worker from a real request. To be ready for a burst, raise its minimum "
            f"execution environments instead: aws lambda put-function-scaling-config --function-name "
            f"{deployed.name} --qualifier {deployed.qualifier or '$LATEST'} --function-scaling-config "
            "MinExecutionEnvironments=N"
        )
    if tenant_isolated(configuration) and not tenants:
        return (
            "it isolates tenants (TenantIsolationMode PER_TENANT): Lambda refuses an invoke that names no "
            "tenant, and each tenant's environments are its own, so an untenanted ping warms nothing; "
            "name the tenants to warm and how many each: --tenants acme=3,globex=2"
        )
    if tenants and not tenant_isolated(configuration):
        return "--tenants: it does not isolate tenants (Lambda refuses an invoke that names one)"
    if durable(configuration) and not deployed.qualifier:
        return (
            "it is a durable function, which Lambda invokes only by a qualified ARN: enable "
            f"{deployed.name}:ALIAS (or a version) instead"
        )
    return None


def snapstart(configuration: dict[str, Any]) -> bool:
    return (configuration.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions"


def note(deployed: Deployed) -> str | None:
    """What a user should know of pings where ``deployed`` runs (None: nothing special)."""
    if snapstart(deployed.configuration) and not deployed.qualifier:
        return (
            "SnapStart serves published versions only, and these pings reach $LATEST, which it does not "
            f"serve: if your traffic comes through an alias, enable {deployed.name}:ALIAS instead"
        )
    if tenant_isolated(deployed.served):
        return (
            "it isolates tenants: the schedule invokes it through Scheduler's universal target for "
            "Lambda's Invoke, naming a tenant, and that tenant's environment warms every tenant named"
        )
    if durable(deployed.served):
        return (
            "a durable function: each ping starts a durable execution that the layer ends at once "
            "(SUCCEEDED, the ping's report as its result); the workflow never runs"
        )
    return None


def provisioned_level(clients: Clients, deployed: Deployed) -> int:
    """The Provisioned Concurrency on the qualifier pinged (0: none; $LATEST cannot have it). Raises
    what AWS raised when it cannot be read."""
    if not deployed.qualifier:
        return 0
    try:
        config = clients.lambda_.get_provisioned_concurrency_config(
            FunctionName=deployed.name, Qualifier=deployed.qualifier
        )
    except Exception as error:
        if error_code(error) == "ProvisionedConcurrencyConfigNotFoundException":
            return 0
        raise
    return int(
        config.get("AllocatedProvisionedConcurrentExecutions")
        or config.get("RequestedProvisionedConcurrentExecutions")
        or 0
    )


def at_or_below_provisioned(deployed: Deployed, provisioned: int, concurrency: int) -> str:
    """What pinging ``concurrency`` at or below the ``provisioned`` level means."""
    return (
        f"{provisioned} provisioned on {deployed.qualifier}: pinging {concurrency} only touches "
        "environments that are warm anyway (requests go to them first; you pay twice); stop warming it "
        "or ping more than that"
    )
