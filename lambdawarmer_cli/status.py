"""``lambdawarmer status`` (doctor): is warming set up right on a function, and if not, what to do.

One check per line, OK / WARN / FAIL. The settings, the schedule's input and ``auto`` are checked
with the same code the layer runs. Exit status 0 when no check FAILs, 6 when one does, 2 usage.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from lambdawarmer.aws import error_code, error_reason
from lambdawarmer.config import SETTINGS, WarmerConfig, resolve_settings
from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH
from lambdawarmer.protocol import AUTO, PingFormat, PingKind

from .clients import Clients
from .deployed import Deployed, read_function, selected_functions
from .deploys import how_to_pre_warm, is_alias, pre_warming_hooks
from .enable import CHAINED_VARIABLE, TOKEN_VARIABLE
from .exit_status import OK as ALL_PASSED
from .exit_status import STATUS_FAILED
from .layers import is_ours
from .libraries import carried
from .names import LAYER_NAME, POLICY_NAME, SCHEDULE_GROUP
from .policies import allows, role_statements

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


def check_layer(clients: Clients, deployed: Deployed) -> Check:
    ours = [arn for arn in deployed.layers if is_ours(arn)]
    if not ours:
        return Check("layer", FAIL, f"no {LAYER_NAME} layer attached: run lambdawarmer enable")
    attached = ours[0]
    versions = clients.lambda_.list_layer_versions(LayerName=LAYER_NAME).get("LayerVersions", [])
    newest = versions[0]["LayerVersionArn"] if versions else attached
    if attached != newest:
        return Check("layer", WARN, f"{attached} attached; {newest} is newer: run lambdawarmer enable again")
    return Check("layer", OK, f"{attached} (the newest)")


def check_wrapper(deployed: Deployed) -> Check:
    value = deployed.variables.get(EXEC_WRAPPER_VARIABLE)
    if value == WRAPPER_PATH:
        chained = deployed.variables.get(CHAINED_VARIABLE)
        return Check("wrapper", OK, WRAPPER_PATH + (f", then {chained}" if chained else ""))
    if value:
        return Check(
            "wrapper",
            FAIL,
            f"{EXEC_WRAPPER_VARIABLE}={value}: set it to {WRAPPER_PATH} and {CHAINED_VARIABLE}={value}",
        )
    return Check("wrapper", FAIL, f"{EXEC_WRAPPER_VARIABLE} is not set: set it to {WRAPPER_PATH}")


def check_settings(deployed: Deployed) -> tuple[Check, dict[str, Any]]:
    """The settings, checked by the layer's own code; the values the other checks use (a setting
    that is not valid counts at its default there, the FAIL here saying so)."""
    resolution = resolve_settings(environ=deployed.variables)
    if resolution.errors:
        defaults = {name: setting.default for name, setting in SETTINGS.items()}
        valid = {name: resolution.values.get(name, defaults[name]) for name in SETTINGS}
        return Check("settings", FAIL, "; ".join(resolution.errors)), valid
    given = [SETTINGS[name].env for name, source in resolution.sources.items() if source != "default"]
    return Check("settings", OK, f"valid ({', '.join(given) or 'all defaults'})"), resolution.values


def check_self_invoke(clients: Clients, deployed: Deployed) -> Check:
    """Read from the role's policies (IAM's policy simulator would also weigh denies and boundaries)."""
    try:
        statements = role_statements(clients, deployed.role_name)
    except Exception as error:
        return Check("self-invoke", WARN, f"cannot read role {deployed.role_name}: {error_code(error)}")
    if any(allows(s, "lambda:InvokeFunction", deployed.target_arn) for s in statements):
        return Check("self-invoke", OK, f"role {deployed.role_name} may invoke {deployed.target_arn}")
    return Check(
        "self-invoke",
        FAIL,
        f"role {deployed.role_name} may not invoke {deployed.target_arn}: every fan-out invoke will be "
        f"denied; run lambdawarmer enable (inline policy {POLICY_NAME})",
    )


def check_schedule(
    clients: Clients, deployed: Deployed, values: dict[str, Any]
) -> tuple[Check, int | str | None]:
    """The schedule: there, enabled, aimed at the target, and its input a ping the function takes
    (read by the layer's own :meth:`PingFormat.explain`, with the function's field names and token)."""
    try:
        schedule = clients.scheduler.get_schedule(Name=deployed.schedule_name, GroupName=SCHEDULE_GROUP)
    except Exception as error:
        return Check(
            "schedule",
            FAIL,
            f"no schedule {SCHEDULE_GROUP}/{deployed.schedule_name} ({error_code(error)}): "
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
    ping, refused = PingFormat.of(WarmerConfig(values)).explain(event)
    concurrency: int | str | None = None
    if refused:
        problems.append(f"its input is {refused}")
    if ping is not None and ping.kind != PingKind.SCHEDULED:
        problems.append(f"its input is a {ping.kind} ping, which never fans out: send a scheduled one")
    elif ping is not None:
        concurrency = AUTO if ping.auto else ping.total
        if ping.warning:
            problems.append(ping.warning)
    if problems:
        return Check("schedule", FAIL, "; ".join(problems)), concurrency
    token = deployed.variables.get(TOKEN_VARIABLE)
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
        if error_code(error) == "ProvisionedConcurrencyConfigNotFoundException":
            return Check("provisioned concurrency", OK, f"none on {deployed.qualifier}")
        return Check("provisioned concurrency", WARN, f"cannot read it: {error_code(error)}")
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
    delay = int(values["delay"])
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
    from lambdawarmer.auto import AUTO_TIMEOUT_MS, AutoConcurrency
    from lambdawarmer.aws import CLOUDWATCH

    client = clients.runtime_client(CLOUDWATCH, AUTO_TIMEOUT_MS)
    chooser = AutoConcurrency(WarmerConfig(values), deployed.name, client)
    choice = chooser.choose(deployed.qualifier, deadline=float("inf"), round_ms=0)
    detail = f"would warm {choice.instances} now"
    if choice.fallback:
        return Check("auto concurrency", WARN, f"{detail}: {choice.fallback}")
    return Check(
        "auto concurrency", OK, f"{detail} (peak {choice.peak} in the last {choice.window_minutes} min)"
    )


def check_observability(deployed: Deployed, values: dict[str, Any]) -> Check:
    """The observability libraries the function carries, and whether their first request after a
    ping will be reported warm."""
    found = carried(deployed)
    if not found:
        return Check(
            "observability",
            OK,
            "no Powertools, Datadog, New Relic, Lumigo or Epsagon seen in its configuration",
        )
    shown = ", ".join(f"{library} ({where})" for library, where in found.items())
    if values.get("fix_cold_start_flags") is False:
        return Check(
            "observability",
            WARN,
            f"{shown}: {SETTINGS['fix_cold_start_flags'].env}=false, so they report the first request of "
            "each pinged environment as a cold start",
        )
    return Check("observability", OK, f"{shown}: told that a pinged environment's first request is warm")


def check_deploys(clients: Clients, deployed: Deployed) -> Check | None:
    """For an alias: whether its deploys are pre-warmed (None for a version or no qualifier)."""
    if not is_alias(clients, deployed):
        return None
    hooks = pre_warming_hooks(clients, deployed)
    if hooks:
        return Check(
            "deploys", OK, f"new versions are warmed before {deployed.qualifier} moves, by {', '.join(hooks)}"
        )
    return Check("deploys", WARN, how_to_pre_warm(deployed))


def run_checks(clients: Clients, deployed: Deployed) -> list[Check]:
    settings, values = check_settings(deployed)
    schedule, concurrency = check_schedule(clients, deployed, values)
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
        check_observability(deployed, values),
    ]
    auto = check_auto(clients, deployed, values, concurrency) if settings.verdict != FAIL else None
    deploys = check_deploys(clients, deployed)
    return checks + [check for check in (auto, deploys) if check]


def table(label: str, checks: list[Check]) -> list[str]:
    width = max(len(check.name) for check in checks)
    lines = [label]
    lines += [f"  {check.verdict:<4}  {check.name:<{width}}  {check.detail}" for check in checks]
    return lines


def add_parser(commands: Any, which: argparse.ArgumentParser, aws: argparse.ArgumentParser) -> None:
    """The ``status`` command's arguments (``which``: the functions; ``aws``: profile, region)."""
    command = commands.add_parser("status", parents=[which, aws], help="check warming on functions (doctor)")
    command.add_argument("--qualifier", help="the qualifier pinged")
    command.add_argument("--json", action="store_true", help="machine-readable")


def run(arguments: argparse.Namespace, out: TextIO) -> int:
    """Check every function selected; :data:`STATUS_FAILED` when any check FAILs."""
    clients = Clients(arguments.profile, arguments.region)
    targets = selected_functions(clients, arguments.functions, arguments.tag, arguments.qualifier)
    reports: dict[str, list[dict[str, str]]] = {}
    failed = False
    for target in targets:
        try:
            deployed = read_function(clients, target)
        except Exception as error:
            checks = [Check("function", FAIL, error_reason(error))]
            label = str(target)
        else:
            checks, label = run_checks(clients, deployed), deployed.label
        failed = failed or any(check.verdict == FAIL for check in checks)
        reports[label] = [check.as_dict() for check in checks]
        if not arguments.json:
            for line in table(label, checks):
                print(line, file=out)
    if arguments.json:
        print(json.dumps(reports, indent=2), file=out)
    return STATUS_FAILED if failed else ALL_PASSED
