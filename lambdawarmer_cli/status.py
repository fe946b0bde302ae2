"""``lambdawarmer status`` (doctor): is warming set up right on a function, and if not, what to do.

One check per line, OK / WARN / FAIL. A qualified target is checked as the version its qualifier
serves (its layers, variables and role), which is what a ping meets. The settings, the schedule's
input and ``auto`` are checked with the same code the layer runs, the timeout with the same round
model ``cost`` prices. A check that cannot read what it needs says so (WARN) and names the
permission; the other checks still run.

Exit statuses: 0 no check FAILs; 2 usage; 3 a function could not be read (not found, denied, no
credentials); 6 a check FAILed. With several functions, the highest.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any, TextIO

from lambdawarmer.aws import error_code, error_reason
from lambdawarmer.config import SETTINGS, WarmerConfig, resolve_settings
from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH
from lambdawarmer.protocol import AUTO, PingFormat, PingKind
from lambdawarmer.timing import DEADLINE_MARGIN_MS

from .clients import Clients, is_aws_error
from .deployed import Deployed, read_function, selected_functions
from .deploys import how_to_pre_warm, is_alias, pre_warming_hooks
from .enable import CHAINED_VARIABLE, TOKEN_VARIABLE, not_ready
from .exit_status import AWS_FAILED, STATUS_FAILED
from .exit_status import OK as ALL_PASSED
from .lambda_model import round_shape
from .layers import is_ours, newest_layer_version
from .libraries import carried
from .names import LAYER_NAME, SCHEDULE_GROUP
from .policies import allows, role_statements

OK, WARN, FAIL = "OK", "WARN", "FAIL"
NEEDS = {
    "layer": "lambda:ListLayerVersions",
    "self-invoke": "iam:ListRolePolicies, iam:GetRolePolicy, iam:ListAttachedRolePolicies, iam:GetPolicy, "
    "iam:GetPolicyVersion",
    "schedule": "scheduler:GetSchedule",
    "reserved concurrency": "lambda:GetFunctionConcurrency",
    "provisioned concurrency": "lambda:GetProvisionedConcurrencyConfig",
    "network": "ec2:DescribeSubnets, ec2:DescribeVpcEndpoints, ec2:DescribeRouteTables",
    "auto concurrency": "cloudwatch:GetMetricData",
    "deploys": "lambda:ListFunctions, lambda:GetAlias",
}
"""What each check that calls AWS reads with, named when it is denied."""


class Check:
    """One line of the table."""

    def __init__(self, name: str, verdict: str, detail: str) -> None:
        self.name = name
        self.verdict = verdict
        self.detail = detail

    def as_dict(self) -> dict[str, str]:
        return {"check": self.name, "status": self.verdict, "detail": self.detail}


def _where(deployed: Deployed) -> str:
    """Which configuration a check read: the version a qualifier serves, or the function's."""
    if deployed.served is deployed.configuration:
        return ""
    return f" (version {deployed.served_version}, which {deployed.qualifier} serves)"


def check_layer(clients: Clients, deployed: Deployed) -> Check:
    ours = [arn for arn in deployed.served_layers if is_ours(arn)]
    if not ours:
        return Check(
            "layer", FAIL, f"no {LAYER_NAME} layer attached{_where(deployed)}: run lambdawarmer enable"
        )
    attached = ours[0]
    newest = newest_layer_version(clients) or attached
    if attached != newest:
        return Check(
            "layer",
            WARN,
            f"{attached} attached{_where(deployed)}; {newest} is newer in this account: if you trust it, "
            f"lambdawarmer enable --layer-arn {newest}",
        )
    return Check("layer", OK, f"{attached}{_where(deployed)} (the newest)")


def check_wrapper(deployed: Deployed) -> Check:
    variables = deployed.served_variables
    value = variables.get(EXEC_WRAPPER_VARIABLE)
    if value == WRAPPER_PATH:
        chained = variables.get(CHAINED_VARIABLE)
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
    resolution = resolve_settings(environ=deployed.served_variables)
    if resolution.errors:
        defaults = {name: setting.default for name, setting in SETTINGS.items()}
        valid = {name: resolution.values.get(name, defaults[name]) for name in SETTINGS}
        return Check("settings", FAIL, "; ".join(resolution.errors)), valid
    given = [SETTINGS[name].env for name, source in resolution.sources.items() if source != "default"]
    return Check("settings", OK, f"valid ({', '.join(given) or 'all defaults'})"), resolution.values


def check_self_invoke(clients: Clients, deployed: Deployed) -> Check:
    """Read from the role's policies (IAM's policy simulator would also weigh denies and boundaries)."""
    role = deployed.served_role_name
    statements = role_statements(clients, role)
    if any(allows(s, "lambda:InvokeFunction", deployed.target_arn) for s in statements):
        return Check("self-invoke", OK, f"role {role} may invoke {deployed.target_arn}")
    return Check(
        "self-invoke",
        FAIL,
        f"role {role} may not invoke {deployed.target_arn}: every fan-out invoke will be "
        f"denied; run lambdawarmer enable (inline policy {deployed.policy_name})",
    )


def check_schedule(
    clients: Clients, deployed: Deployed, values: dict[str, Any]
) -> tuple[Check, int | str | None]:
    """The schedule: there, enabled, aimed at the target, and its input a ping the function takes
    (read by the layer's own :meth:`PingFormat.explain`, with the function's field names and token)."""
    try:
        schedule = clients.scheduler.get_schedule(Name=deployed.schedule_name, GroupName=SCHEDULE_GROUP)
    except Exception as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        return Check(
            "schedule",
            FAIL,
            f"no schedule {SCHEDULE_GROUP}/{deployed.schedule_name} ({error_code(error)}): "
            "run lambdawarmer enable",
        ), None
    target = schedule.get("Target", {})
    problems = []
    unserved = not_ready(deployed)
    if unserved and schedule.get("State") == "ENABLED":
        problems.append(f"it pings {deployed.target_arn}, but {unserved}: the handler gets the pings")
    elif unserved:
        problems.append(
            f"it is {schedule.get('State')} until version {deployed.served_version} is replaced by one with "
            "the layer"
        )
    elif schedule.get("State") != "ENABLED":
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
    token = deployed.served_variables.get(TOKEN_VARIABLE)
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


def check_timeout(deployed: Deployed, values: dict[str, Any], concurrency: int | str | None) -> Check:
    """Whether a round fits the function's timeout: the send spread and the hold the fan-out sizes
    at the function's memory, the answers, and the margin the layer keeps back (``cost``'s model)."""
    timeout_ms = int(deployed.served.get("Timeout", 3)) * 1000
    memory_mb = int(deployed.served.get("MemorySize", 128))
    instances = WarmerConfig(values).auto_fallback_instances if concurrency == AUTO else int(concurrency or 1)
    shape = round_shape(memory_mb, instances, int(values["delay"]))
    needed_ms = shape.originator_ms + DEADLINE_MARGIN_MS
    detail = (
        f"{timeout_ms / 1000:g} s; a round of {instances} at {memory_mb} MB needs ~{needed_ms:,.0f} ms "
        f"(send spread {shape.send_spread_ms:.0f} ms, hold {shape.hold_ms:.0f} ms, answers, and "
        f"{DEADLINE_MARGIN_MS} ms kept back)"
    )
    if timeout_ms < needed_ms:
        return Check("timeout", FAIL, f"{detail}: raise it, or lower WARMER_DELAY")
    return Check("timeout", OK, f"{detail}; a cold instance's init comes on top")


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


def guarded(name: str, check: Callable[[], Check | None]) -> Check | None:
    """``check()``, or, when AWS refuses or does not answer what it reads, a WARN saying so and the
    permission it needs (the other checks still run)."""
    try:
        return check()
    except Exception as error:
        if not is_aws_error(error):
            raise
        needs = f" (it needs {NEEDS[name]})" if name in NEEDS else ""
        return Check(name, WARN, f"cannot check it: {error_code(error) or error_reason(error)}{needs}")


def run_checks(clients: Clients, deployed: Deployed) -> list[Check]:
    settings, values = check_settings(deployed)
    concurrency: int | str | None = None

    def schedule() -> Check:
        nonlocal concurrency
        check, concurrency = check_schedule(clients, deployed, values)
        return check

    found = guarded("schedule", schedule)
    checks = [
        guarded("layer", lambda: check_layer(clients, deployed)),
        check_wrapper(deployed),
        settings,
        guarded("self-invoke", lambda: check_self_invoke(clients, deployed)),
        found,
        guarded("reserved concurrency", lambda: check_reserved(clients, deployed, concurrency)),
        guarded("provisioned concurrency", lambda: check_provisioned(clients, deployed, concurrency)),
        check_snapstart(deployed),
        guarded("network", lambda: check_vpc(clients, deployed)),
        check_timeout(deployed, values, concurrency),
        check_observability(deployed, values),
    ]
    if settings.verdict != FAIL:
        checks.append(guarded("auto concurrency", lambda: check_auto(clients, deployed, values, concurrency)))
    checks.append(guarded("deploys", lambda: check_deploys(clients, deployed)))
    return [check for check in checks if check]


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
    status = ALL_PASSED
    for target in targets:
        try:
            deployed = read_function(clients, target)
        except Exception as error:
            if not is_aws_error(error):
                raise
            checks = [Check("function", FAIL, f"cannot read it: {error_reason(error)}")]
            label, status = str(target), max(status, AWS_FAILED)
        else:
            checks, label = run_checks(clients, deployed), deployed.label
            if any(check.verdict == FAIL for check in checks):
                status = max(status, STATUS_FAILED)
        reports[label] = [check.as_dict() for check in checks]
        if not arguments.json:
            for line in table(label, checks):
                print(line, file=out)
    if arguments.json:
        print(json.dumps(reports, indent=2), file=out)
    return status
