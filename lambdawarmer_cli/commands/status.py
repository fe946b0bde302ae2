"""``lambdawarmer status`` (doctor): is warming set up right on a function, and if not, what to do.

One check per line, OK / WARN / FAIL. A qualified target is checked as the version its qualifier
serves (its layers, variables and role), which is what a ping meets. The settings, the schedule's
input and ``auto`` are checked with the same code the layer runs, the timeout with the layer's own
time budget (``lambdawarmer.timing.round_budget``), which ``cost`` prices too. A check that cannot
read what it needs says so (WARN) and names the permission; the other checks still run.

Exit statuses: 0 no check FAILs; 2 usage; 3 a function could not be read (not found, denied, no
credentials); 6 a check FAILed. With several functions, the highest.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any, TextIO

from lambdawarmer.protocol import AUTO, PingKind

from ..capacity_checks import (
    check_auto,
    check_placement,
    check_provisioned,
    check_recursion,
    check_reserved,
    check_snapstart,
    check_timeout,
    check_vpc,
)
from ..clients import Clients, error_code, error_reason, is_aws_error, not_reached
from ..deployed import Deployed, read_function, selected_functions
from ..exit_status import AWS_FAILED, STATUS_FAILED
from ..exit_status import OK as ALL_PASSED
from ..schedule_role import check_schedule_role
from ..setup_checks import (
    FAIL,
    WARN,
    Check,
    check_deploys,
    check_layer,
    check_observability,
    check_routing,
    check_schedule,
    check_self_invoke,
    check_settings,
    check_wrapper,
)

NEEDS = {
    "layer": "lambda:ListLayerVersions",
    "self-invoke": "lambda:GetPolicy, iam:ListRolePolicies, iam:GetRolePolicy, iam:ListAttachedRolePolicies, "
    "iam:GetPolicy, iam:GetPolicyVersion",
    "schedule": "scheduler:GetSchedule",
    "schedule role": "scheduler:GetSchedule, iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy, "
    "iam:ListAttachedRolePolicies, iam:GetPolicy, iam:GetPolicyVersion",
    "reserved concurrency": "lambda:GetFunctionConcurrency",
    "provisioned concurrency": "lambda:GetProvisionedConcurrencyConfig",
    "network": "ec2:DescribeSubnets, ec2:DescribeVpcEndpoints, ec2:DescribeRouteTables",
    "auto concurrency": "cloudwatch:GetMetricData",
    "deploys": "lambda:ListFunctions, lambda:GetAlias",
}
"""What each check that calls AWS reads with, named when it is denied."""


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
    tenants: dict[str, int] | None = None

    def schedule() -> Check:
        nonlocal concurrency, tenants
        check, ping = check_schedule(clients, deployed, values)
        if ping is not None and ping.kind == PingKind.SCHEDULED:
            concurrency = AUTO if ping.auto else ping.total
            tenants = ping.tenants or values.get("tenants")
        return check

    found = guarded("schedule", schedule)
    checks = [
        guarded("layer", lambda: check_layer(clients, deployed)),
        check_wrapper(deployed),
        check_routing(deployed),
        settings,
        guarded("self-invoke", lambda: check_self_invoke(clients, deployed)),
        found,
        guarded("schedule role", lambda: check_schedule_role(clients, deployed)),
        guarded("reserved concurrency", lambda: check_reserved(clients, deployed, concurrency)),
        guarded("provisioned concurrency", lambda: check_provisioned(clients, deployed, concurrency)),
        check_snapstart(deployed),
        check_placement(deployed, tenants),
        guarded("network", lambda: check_vpc(clients, deployed)),
        guarded("recursive loops", lambda: check_recursion(clients, deployed)),
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
            checks = [
                Check("function", FAIL, f"cannot read it: {not_reached(error, target, clients.region)}")
            ]
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
