"""What ``status`` checks of a function's capacity and time: reserved and provisioned concurrency,
SnapStart, where it runs, its network, its timeout against the round's time budget, and what
``auto`` would choose."""

from __future__ import annotations

import time
from typing import Any

from lambdawarmer.config import WarmerConfig
from lambdawarmer.metrics import metric_query, query_dimensions
from lambdawarmer.protocol import AUTO
from lambdawarmer.timing import ANSWER_ALLOWANCE_MS, DEADLINE_MARGIN_MS
from lambdawarmer_model.rounds import round_shape, scheduled_round, scheduled_tree

from .clients import Clients, error_code
from .deployed import Deployed
from .placement import at_or_below_provisioned, provisioned_level, refusal
from .placement import note as placement_note
from .setup_checks import FAIL, OK, WARN, Check


def check_reserved(clients: Clients, deployed: Deployed, concurrency: int | str | None) -> Check:
    reserved = clients.lambda_.get_function_concurrency(FunctionName=deployed.name).get(
        "ReservedConcurrentExecutions"
    )
    if reserved is None:
        return Check("reserved concurrency", OK, "none (the account's unreserved pool)")
    if isinstance(concurrency, int) and reserved < concurrency:
        return Check(
            "reserved concurrency",
            FAIL,
            f"{reserved}, below the {concurrency} pinged: {concurrency - reserved} invokes per ping "
            "will be throttled",
        )
    return Check("reserved concurrency", OK if reserved > 0 else FAIL, f"{reserved}")


def check_provisioned(clients: Clients, deployed: Deployed, concurrency: int | str | None) -> Check:
    if not deployed.qualifier:
        return Check("provisioned concurrency", OK, "none ($LATEST cannot have it)")
    try:
        provisioned = provisioned_level(clients, deployed)
    except Exception as error:
        return Check("provisioned concurrency", WARN, f"cannot read it: {error_code(error)}")
    if not provisioned:
        return Check("provisioned concurrency", OK, f"none on {deployed.qualifier}")
    if isinstance(concurrency, int) and concurrency <= provisioned:
        return Check(
            "provisioned concurrency", WARN, at_or_below_provisioned(deployed, provisioned, concurrency)
        )
    return Check(
        "provisioned concurrency",
        WARN,
        f"{provisioned} on {deployed.qualifier}: pings use those first; auto counts only what lies above",
    )


def check_snapstart(deployed: Deployed) -> Check:
    apply_on = deployed.configuration.get("SnapStart", {}).get("ApplyOn", "None")
    if apply_on == "PublishedVersions":
        return Check(
            "SnapStart",
            WARN,
            "on: environments resume from a snapshot in ~100s of ms; warming still helps at the peak, but "
            "each restore is a new instance (lambdawarmer counts it cold)",
        )
    return Check("SnapStart", OK, "off")


def check_placement(deployed: Deployed, tenants: dict[str, int] | None = None) -> Check:
    """Where the function runs, and whether pings belong there (placement); ``tenants``: those the
    schedule's ping warms."""
    refused = refusal(deployed, tenants)
    if refused:
        return Check("where it runs", FAIL, f"pings do not belong here: {refused}")
    return Check("where it runs", OK, placement_note(deployed) or "on-demand environments: pings warm them")


def check_vpc(clients: Clients, deployed: Deployed) -> Check:
    vpc = deployed.configuration.get("VpcConfig") or {}
    subnets, vpc_id = vpc.get("SubnetIds") or [], vpc.get("VpcId")
    if not subnets:
        return Check("network", OK, "not in a VPC: the Lambda API is reachable")
    if not vpc_id:
        vpc_id = clients.ec2.describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
    service = f"com.amazonaws.{clients.region}.lambda"
    endpoints = clients.ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "service-name", "Values": [service]}]
    )["VpcEndpoints"]
    if endpoints:
        return Check("network", OK, f"in {vpc_id}, with an interface endpoint for {service}")
    tables = clients.ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
        "RouteTables"
    ]
    routes = [route for table in tables for route in table.get("Routes", [])]
    if any(
        route.get("NatGatewayId") and route.get("DestinationCidrBlock") == "0.0.0.0/0" for route in routes
    ):
        return Check("network", OK, f"in {vpc_id}, with a NAT gateway route to the Lambda API")
    return Check(
        "network",
        FAIL,
        f"in {vpc_id} with no NAT gateway and no {service} interface endpoint: every fan-out invoke will "
        "time out; add either",
    )


def check_timeout(deployed: Deployed, values: dict[str, Any], concurrency: int | str | None) -> Check:
    """Whether a round fits the function's timeout: the send spread (its new HTTPS connections'
    handshakes included) and the hold the fan-out sizes at the function's memory, the answers, and
    the margin the layer keeps back (:func:`lambdawarmer_model.rounds.scheduled_round`, which
    ``cost`` prices too); when it does not and the function has a token, the tree round its pings
    send instead (:func:`lambdawarmer_model.rounds.scheduled_tree`), priced beside flat."""
    timeout_ms = int(deployed.served.get("Timeout", 3)) * 1000
    memory_mb = int(deployed.served.get("MemorySize", 128))
    instances = WarmerConfig(values).auto_fallback_instances if concurrency == AUTO else int(concurrency or 1)
    budget = scheduled_round(memory_mb, instances, int(values["delay"]))
    needed_ms = budget.timeout_needed_ms
    detail = (
        f"{timeout_ms / 1000:g} s; a round of {instances} at {memory_mb} MB needs ~{needed_ms:,.0f} ms "
        f"(send spread {budget.send_spread_ms:.0f} ms with {budget.handshakes} TLS handshakes, hold "
        f"{budget.hold_ms} ms, {ANSWER_ALLOWANCE_MS} ms for the answers, {DEADLINE_MARGIN_MS} ms kept back)"
    )
    if timeout_ms < needed_ms:
        delay_ms = int(values["delay"])
        plan = scheduled_tree(memory_mb, instances, delay_ms, timeout_ms) if values.get("token") else None
        if plan is None:
            return Check("timeout", FAIL, f"{detail}: raise it, or lower WARMER_DELAY")
        gigabytes = memory_mb / 1024
        tree_gb_s, flat_gb_s = (
            round_shape(memory_mb, instances, delay_ms, timeout_ms=t).billed_ms / 1000 * gigabytes
            for t in (timeout_ms, None)
        )
        return Check(
            "timeout",
            OK,
            f"{detail}: more than it has, so each ping sends a tree round (fan {plan.fan}, depth "
            f"{plan.depth}: the handshakes shared among relays), "
            f"~{plan.needed_ms + DEADLINE_MARGIN_MS:,.0f} ms with the margin; {tree_gb_s:.3f} "
            f"GB-seconds a ping (flat, were it to fit: {flat_gb_s:.3f})",
        )
    worst_s = (budget.worst_case_ms + DEADLINE_MARGIN_MS) / 1000
    if timeout_ms < worst_s * 1000:
        return Check(
            "timeout",
            OK,
            f"{detail}; when a fanned-out instance starts cold (its init, up to 10 s, comes first) the "
            f"round needs up to {worst_s:.1f} s: the invokes not answered by the timeout are not counted",
        )
    return Check("timeout", OK, f"{detail}; a cold instance's init (up to 10 s) fits too")


RECURSION_DAYS = 14


def check_recursion(clients: Clients, deployed: Deployed) -> Check | None:
    """``RecursiveInvocationsDropped`` when it is not zero (None: nothing dropped). A fanned-out ping
    never fans out, so a round is two invokes deep and Lambda's recursive loop detection (16 in
    one chain) is never reached by lambdawarmer: drops come from the function's own code."""
    end = int(time.time()) // 86_400 * 86_400 + 86_400
    where: dict[str, Any] = {
        "namespace": "AWS/Lambda",
        "dimensions": query_dimensions(deployed.name, None),
        "period_s": 86_400,
    }
    request = {
        "MetricDataQueries": [metric_query("dropped", "RecursiveInvocationsDropped", "Sum", **where)],
        "StartTime": end - RECURSION_DAYS * 86_400,
        "EndTime": end,
    }
    answer = clients.metric_reader(10.0)(request, 10.0)
    dropped = sum(sum(result.get("Values", [])) for result in answer.get("MetricDataResults", []))
    if not dropped:
        return None
    return Check(
        "recursive loops",
        FAIL,
        f"Lambda stopped {dropped:g} invocations of a recursive loop in the last {RECURSION_DAYS} days "
        "(RecursiveInvocationsDropped): not lambdawarmer's (its fan-out is one level deep), look for the "
        "function's own code or event sources invoking it",
    )


def check_auto(
    clients: Clients, deployed: Deployed, values: dict[str, Any], concurrency: int | str | None
) -> Check | None:
    """What auto concurrency would choose now, with the same code the function runs."""
    if concurrency != AUTO:
        return None
    from lambdawarmer.auto import AUTO_TIMEOUT_MS, AutoConcurrency

    read = clients.metric_reader(AUTO_TIMEOUT_MS / 1000)
    chooser = AutoConcurrency(WarmerConfig(values), deployed.name, read)
    choice = chooser.choose(deployed.qualifier, deadline=float("inf"), round_ms=0)
    detail = f"would warm {choice.instances} now"
    if choice.fallback:
        return Check("auto concurrency", WARN, f"{detail}: {choice.fallback}")
    return Check(
        "auto concurrency", OK, f"{detail} (peak {choice.peak} in the last {choice.window_minutes} min)"
    )
