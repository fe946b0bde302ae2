"""``lambdawarmer status``: is warming set up right on a function, and if not, what to do.

One check per line, OK / WARN / FAIL. The settings are checked with the same code the layer runs.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from ..config import SETTINGS, resolve_settings
from ..events import AUTO, TOKEN_FIELD
from .deployed import LAYER_NAME, POLICY_NAME, SCHEDULE_GROUP, WRAPPER_PATH, Clients, Deployed, layer_name
from .enable import CHAINED_VARIABLE, TOKEN_VARIABLE, WRAPPER_VARIABLE

OK, WARN, FAIL = "OK", "WARN", "FAIL"
ROUND_NEEDS_MS = 3_000
"""Time a round needs on top of the delay, for warm instances (cold ones may need up to 10 s more)."""


class Check:
    """One line of the table."""

    def __init__(self, name: str, verdict: str, detail: str) -> None:
        self.name = name
        self.verdict = verdict
        self.detail = detail

    def as_dict(self) -> dict[str, str]:
        return {"check": self.name, "status": self.verdict, "detail": self.detail}


def _error_code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__))


def check_layer(clients: Clients, deployed: Deployed) -> Check:
    ours = [arn for arn in deployed.layers if layer_name(arn) == LAYER_NAME]
    if not ours:
        return Check("layer", FAIL, f"no {LAYER_NAME} layer attached: run lambdawarmer enable")
    attached = ours[0]
    versions = clients.lambda_.list_layer_versions(LayerName=LAYER_NAME).get("LayerVersions", [])
    newest = versions[0]["LayerVersionArn"] if versions else attached
    if attached != newest:
        return Check("layer", WARN, f"{attached} attached; {newest} is newer: run lambdawarmer enable again")
    return Check("layer", OK, f"{attached} (the newest)")


def check_wrapper(deployed: Deployed) -> Check:
    value = deployed.variables.get(WRAPPER_VARIABLE)
    if value == WRAPPER_PATH:
        chained = deployed.variables.get(CHAINED_VARIABLE)
        return Check("wrapper", OK, WRAPPER_PATH + (f", then {chained}" if chained else ""))
    if value:
        return Check(
            "wrapper",
            FAIL,
            f"{WRAPPER_VARIABLE}={value}: set it to {WRAPPER_PATH} and {CHAINED_VARIABLE}={value}",
        )
    return Check("wrapper", FAIL, f"{WRAPPER_VARIABLE} is not set: set it to {WRAPPER_PATH}")


def check_settings(deployed: Deployed) -> tuple[Check, dict[str, Any]]:
    resolution = resolve_settings(environ=deployed.variables)
    if resolution.errors:
        return Check("settings", FAIL, "; ".join(resolution.errors)), resolution.values
    given = [SETTINGS[name].env for name, source in resolution.sources.items() if source != "default"]
    return Check("settings", OK, f"valid ({', '.join(given) or 'all defaults'})"), resolution.values


def _statements(document: Any) -> list[dict[str, Any]]:
    document = json.loads(document) if isinstance(document, str) else document
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _patterns(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(item) for item in value or []]


def _allows(statement: dict[str, Any], action: str, resource: str) -> bool:
    return (
        statement.get("Effect") == "Allow"
        and any(fnmatch.fnmatchcase(action, pattern) for pattern in _patterns(statement.get("Action")))
        and any(fnmatch.fnmatchcase(resource, pattern) for pattern in _patterns(statement.get("Resource")))
    )


def role_statements(clients: Clients, role: str) -> list[dict[str, Any]]:
    """Every statement of the role's inline and attached managed policies."""
    iam = clients.iam
    found = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        found += _statements(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
        )
        found += _statements(version["PolicyVersion"]["Document"])
    return found


def check_self_invoke(clients: Clients, deployed: Deployed) -> Check:
    """Read from the role's policies (IAM's policy simulator would also weigh denies and boundaries)."""
    try:
        statements = role_statements(clients, deployed.role_name)
    except Exception as error:
        return Check("self-invoke", WARN, f"cannot read role {deployed.role_name}: {_error_code(error)}")
    if any(_allows(s, "lambda:InvokeFunction", deployed.target_arn) for s in statements):
        return Check("self-invoke", OK, f"role {deployed.role_name} may invoke {deployed.target_arn}")
    return Check(
        "self-invoke",
        FAIL,
        f"role {deployed.role_name} may not invoke {deployed.target_arn}: every fan-out invoke will be "
        f"denied; run lambdawarmer enable (inline policy {POLICY_NAME})",
    )


def check_schedule(clients: Clients, deployed: Deployed) -> tuple[Check, int | str | None]:
    try:
        schedule = clients.scheduler.get_schedule(Name=deployed.schedule_name, GroupName=SCHEDULE_GROUP)
    except Exception as error:
        return Check(
            "schedule",
            FAIL,
            f"no schedule {SCHEDULE_GROUP}/{deployed.schedule_name} ({_error_code(error)}): "
            "run lambdawarmer enable",
        ), None
    target = schedule.get("Target", {})
    problems = []
    if schedule.get("State") != "ENABLED":
        problems.append(f"it is {schedule.get('State')}")
    if target.get("Arn") != deployed.target_arn:
        problems.append(f"it targets {target.get('Arn')}, not {deployed.target_arn}")
    try:
        event = json.loads(target.get("Input") or "null")
    except ValueError:
        event = None
    flag = deployed.variables.get(SETTINGS["flag"].env, SETTINGS["flag"].default)
    field = deployed.variables.get(SETTINGS["concurrency"].env, SETTINGS["concurrency"].default)
    if not isinstance(event, dict) or event.get(flag) is not True:
        problems.append(f'its input is not a warm-up ping ({{"{flag}": true, ...}})')
        event = {}
    token = deployed.variables.get(TOKEN_VARIABLE)
    if token is not None and event.get(TOKEN_FIELD) != token:
        problems.append(
            f"its input's {TOKEN_FIELD} does not match the function's {TOKEN_VARIABLE}: "
            "pings go to the handler"
        )
    if token is None and TOKEN_FIELD in event:
        problems.append(f"its input has a {TOKEN_FIELD} but the function has no {TOKEN_VARIABLE}")
    concurrency = event.get(field, 1)
    if problems:
        return Check("schedule", FAIL, "; ".join(problems)), concurrency
    detail = f"{schedule.get('ScheduleExpression')}, concurrency {concurrency}, to {deployed.target_arn}"
    return Check("schedule", OK, detail + (", token matches" if token else "")), concurrency


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
        config = clients.lambda_.get_provisioned_concurrency_config(
            FunctionName=deployed.name, Qualifier=deployed.qualifier
        )
    except Exception as error:
        if _error_code(error) == "ProvisionedConcurrencyConfigNotFoundException":
            return Check("provisioned concurrency", OK, f"none on {deployed.qualifier}")
        return Check("provisioned concurrency", WARN, f"cannot read it: {_error_code(error)}")
    provisioned = int(
        config.get("AllocatedProvisionedConcurrentExecutions")
        or config.get("RequestedProvisionedConcurrentExecutions")
        or 0
    )
    if isinstance(concurrency, int) and concurrency <= provisioned:
        return Check(
            "provisioned concurrency",
            WARN,
            f"{provisioned} on {deployed.qualifier}: pinging {concurrency} only touches environments that "
            "are warm anyway (you pay twice); stop warming it or ping more than that",
        )
    return Check(
        "provisioned concurrency", WARN, f"{provisioned} on {deployed.qualifier}: pings use those first"
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


def check_timeout(deployed: Deployed, values: dict[str, Any]) -> Check:
    timeout_ms = int(deployed.configuration.get("Timeout", 3)) * 1000
    delay = values.get("delay")
    delay = delay if isinstance(delay, int) else 75
    needed = delay + ROUND_NEEDS_MS
    if timeout_ms < needed:
        return Check(
            "timeout",
            FAIL,
            f"{timeout_ms // 1000} s: a round needs the delay ({delay} ms) plus "
            f"~{ROUND_NEEDS_MS // 1000} s; raise it",
        )
    return Check(
        "timeout", OK, f"{timeout_ms // 1000} s (a cold instance may need up to 10 s more to answer)"
    )


def check_auto(
    clients: Clients, deployed: Deployed, values: dict[str, Any], concurrency: int | str | None
) -> Check | None:
    """What auto concurrency would choose now, with the same code the function runs."""
    if concurrency != AUTO:
        return None
    from ..auto import AUTO_TIMEOUT_MS, AutoConcurrency
    from ..aws import CLOUDWATCH
    from ..config import WarmerConfig

    client = clients.runtime_client(CLOUDWATCH, AUTO_TIMEOUT_MS)
    chooser = AutoConcurrency(WarmerConfig(values), deployed.name, client)
    choice = chooser.choose(deployed.qualifier, deadline=float("inf"), round_ms=0)
    detail = f"would warm {choice.instances} now"
    if choice.fallback:
        return Check("auto concurrency", WARN, f"{detail}: {choice.fallback}")
    return Check(
        "auto concurrency", OK, f"{detail} (peak {choice.peak} in the last {choice.window_minutes} min)"
    )


def run_checks(clients: Clients, deployed: Deployed) -> list[Check]:
    settings, values = check_settings(deployed)
    schedule, concurrency = check_schedule(clients, deployed)
    checks = [
        check_layer(clients, deployed),
        check_wrapper(deployed),
        settings,
        check_self_invoke(clients, deployed),
        schedule,
        check_reserved(clients, deployed, concurrency),
        check_provisioned(clients, deployed, concurrency),
        check_snapstart(deployed),
        check_vpc(clients, deployed),
        check_timeout(deployed, values),
    ]
    auto = check_auto(clients, deployed, values, concurrency) if settings.verdict != FAIL else None
    return checks + ([auto] if auto else [])


def table(label: str, checks: list[Check]) -> list[str]:
    width = max(len(check.name) for check in checks)
    lines = [label]
    lines += [f"  {check.verdict:<4}  {check.name:<{width}}  {check.detail}" for check in checks]
    return lines
