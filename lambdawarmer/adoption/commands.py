"""The ``enable``, ``disable``, ``status`` and ``cost`` commands: arguments, output, exit statuses.

Exit statuses: 0 done (enable: and every prewarm ping warmed N of N; status: no FAIL); 1 a prewarm
ping warmed fewer than N; 2 usage; 3 or 4 as ``ping`` says; 5 a change failed or a function cannot
be enabled as asked (what was applied is reported; run the command again to finish); 6 status found
a FAIL.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from .deployed import Clients, Deployed, functions_tagged, read_function

CHANGE_FAILED = 5
STATUS_FAILED = 6


def add_commands(commands: Any, concurrency: Any) -> None:
    """Add the four commands to the ``lambdawarmer`` parser's subcommands."""
    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument("--profile", help="AWS profile (default: the usual configuration)")
    aws.add_argument("--region", help="AWS region (default: the usual configuration)")
    which = argparse.ArgumentParser(add_help=False)
    which.add_argument("functions", nargs="*", metavar="FUNCTION", help="names, name:qualifier or ARNs")
    which.add_argument("--tag", metavar="KEY=VALUE", help="every function carrying this tag")

    enable = commands.add_parser(
        "enable",
        parents=[which, aws],
        help="attach the layer, the variables, the permission and the schedule; then ping",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    enable.add_argument("--concurrency", type=concurrency, required=True, help="N, or auto")
    enable.add_argument("--schedule", default="rate(5 minutes)", help="EventBridge Scheduler expression")
    enable.add_argument("--qualifier", help="alias or version the schedule pings (default: as named)")
    layer = enable.add_mutually_exclusive_group()
    layer.add_argument("--layer-arn", help="the layer version to attach (default: the newest lambdawarmer)")
    layer.add_argument(
        "--publish", metavar="ZIP", help="publish this layer zip first (unless already the newest)"
    )
    enable.add_argument("--metrics", action="store_true", help="ColdStart/WarmStart and round metrics (EMF)")
    enable.add_argument(
        "--metrics-mode",
        choices=["emf", "put_metric_data"],
        help="implies --metrics; PutMetricData is granted",
    )
    enable.add_argument("--no-token", action="store_true", help="no WARMER_TOKEN (default: a random one)")
    enable.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    enable.add_argument("--yes", action="store_true", help="do not ask at a terminal before applying")

    disable = commands.add_parser("disable", parents=[which, aws], help="remove exactly what enable added")
    disable.add_argument("--qualifier", help="the qualifier it was enabled with")
    disable.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    disable.add_argument("--yes", action="store_true", help="do not ask before applying")

    status = commands.add_parser("status", parents=[which, aws], help="check warming on functions (doctor)")
    status.add_argument("--qualifier", help="the qualifier pinged")
    status.add_argument("--json", action="store_true", help="machine-readable")

    cost = commands.add_parser(
        "cost", parents=[aws], help="monthly cost of warming vs Provisioned Concurrency"
    )
    cost.add_argument("function", nargs="?", metavar="FUNCTION", help="read memory and architecture from it")
    cost.add_argument("--memory", type=int, help="memory size in MB")
    cost.add_argument("--concurrency", type=int, required=True, help="N")
    cost.add_argument("--schedule", default="rate(5 minutes)", help="the ping's schedule")
    cost.add_argument("--arch", choices=["x86_64", "arm64"], default=None, help="default x86_64")
    cost.add_argument(
        "--init-ms", type=int, default=None, help="the function's init phase in ms (default: 250, said so)"
    )


def _targets(clients: Clients, arguments: argparse.Namespace) -> list[str]:
    names = list(arguments.functions)
    if arguments.tag:
        if "=" not in arguments.tag:
            raise SystemExit("lambdawarmer: --tag takes KEY=VALUE")
        names += functions_tagged(clients, arguments.tag)
    if getattr(arguments, "qualifier", None):
        names = [
            name if ":" in name.split(":function:")[-1] else f"{name}:{arguments.qualifier}" for name in names
        ]
    return list(dict.fromkeys(names))


def run(arguments: argparse.Namespace, out: TextIO) -> int:
    """Run one of the four commands."""
    if arguments.command == "cost":
        return _cost(arguments, out)
    clients = Clients(arguments.profile, arguments.region)
    names = _targets(clients, arguments)
    if not names:
        print(f"lambdawarmer {arguments.command}: name a function, or --tag KEY=VALUE matching one", file=out)
        return 2
    if arguments.command == "status":
        return _status(clients, names, arguments, out)
    return _change(clients, names, arguments, out)


def _change(clients: Clients, names: list[str], arguments: argparse.Namespace, out: TextIO) -> int:
    from .enable import (
        EnableError,
        plan_disable,
        plan_enable,
    )

    options = None
    if arguments.command == "enable":
        options = _enable_options(clients, arguments, out)
        if options is None:
            return 2
    status = 0
    for name in names:
        try:
            deployed = read_function(clients, name)
            plan = plan_enable(clients, deployed, options) if options else plan_disable(clients, deployed)
        except EnableError as error:
            print(f"{name}: cannot {arguments.command}: {error}", file=out)
            status = max(status, CHANGE_FAILED)
            continue
        except Exception as error:
            from ..aws import error_reason

            print(f"{name}: cannot read it: {error_reason(error)}", file=out)
            status = max(status, CHANGE_FAILED)
            continue
        for line in plan.show():
            print(line, file=out)
        if arguments.dry_run:
            continue
        if plan.changes and not _confirmed(arguments, plan.label, out):
            print(f"{plan.label}: skipped, nothing changed", file=out)
            continue
        if not plan.apply(lambda line: print(line, file=out)):
            status = max(status, CHANGE_FAILED)
            continue
        for note in plan.notes:
            print(f"note: {note}", file=out)
        if options is not None:
            status = max(status, _prewarm(clients, read_function(clients, name), options, out))
    if arguments.dry_run:
        print("dry run: nothing was changed", file=out)
    return status


def _enable_options(clients: Clients, arguments: argparse.Namespace, out: TextIO) -> Any:
    """What enable was asked for, with the layer version to attach; None (said why) if there is none."""
    from .enable import Options, new_layer_version, newest_layer_version

    layer = arguments.layer_arn
    if arguments.publish and not arguments.dry_run:
        layer = new_layer_version(clients, arguments.publish)
    layer = layer or newest_layer_version(clients)
    if layer is None and arguments.publish:
        layer = f"(a new version from {arguments.publish})"  # a dry run publishes nothing
    if layer is None:
        print(
            "lambdawarmer enable: no lambdawarmer layer in this account and region: "
            "--publish ZIP or --layer-arn ARN",
            file=out,
        )
        return None
    return Options(
        concurrency=arguments.concurrency,
        schedule=arguments.schedule,
        layer_arn=layer,
        metrics_mode=arguments.metrics_mode or ("emf" if arguments.metrics else None),
        token=not arguments.no_token,
    )


def _confirmed(arguments: argparse.Namespace, label: str, out: TextIO) -> bool:
    """Ask before changing a function, at a terminal, unless --yes (scripts and CI are not asked)."""
    import sys

    if getattr(arguments, "yes", True) or not sys.stdin.isatty():
        return True
    print(f"apply these changes to {label}? [y/N] ", end="", file=out, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _prewarm(clients: Clients, deployed: Deployed, options: Any, out: TextIO) -> int:
    """One ping, as the schedule sends it, and the same line ``lambdawarmer ping`` prints."""
    from ..cli import ping, summary_line
    from .enable import TOKEN_VARIABLE

    arguments = argparse.Namespace(
        concurrency=options.concurrency,
        flag="warmer",
        concurrency_field="concurrency",
        qualifier=deployed.qualifier,
        token=deployed.variables.get(TOKEN_VARIABLE),
    )
    result = ping(clients.lambda_, deployed.name, arguments)
    print(summary_line(result, deployed.qualifier), file=out)
    return int(result.status)


def _status(clients: Clients, names: list[str], arguments: argparse.Namespace, out: TextIO) -> int:
    from .status import FAIL, run_checks, table

    reports: dict[str, list[dict[str, str]]] = {}
    failed = False
    for name in names:
        try:
            deployed = read_function(clients, name)
        except Exception as error:
            from ..aws import error_reason

            reports[name] = [{"check": "function", "status": FAIL, "detail": error_reason(error)}]
            failed = True
            continue
        checks = run_checks(clients, deployed)
        failed = failed or any(check.verdict == FAIL for check in checks)
        reports[deployed.label] = [check.as_dict() for check in checks]
        if not arguments.json:
            for line in table(deployed.label, checks):
                print(line, file=out)
    if arguments.json:
        print(json.dumps(reports, indent=2), file=out)
    return STATUS_FAILED if failed else 0


def _cost(arguments: argparse.Namespace, out: TextIO) -> int:
    from .cost import DEFAULT_INIT_MS, PRICES_AS_OF, PRICES_SOURCE, CostError, assumptions, monthly_cost

    memory, architecture = arguments.memory, arguments.arch
    if arguments.function:
        clients = Clients(arguments.profile, arguments.region)
        configuration = clients.lambda_.get_function_configuration(FunctionName=arguments.function)
        memory = memory or int(configuration["MemorySize"])
        architecture = architecture or configuration.get("Architectures", ["x86_64"])[0]
    if memory is None:
        print("lambdawarmer cost: give --memory MB, or a FUNCTION to read it from", file=out)
        return 2
    init_ms = DEFAULT_INIT_MS if arguments.init_ms is None else arguments.init_ms
    try:
        if init_ms < 0:
            raise CostError(f"--init-ms {init_ms}: expected 0 or more milliseconds")
        cost = monthly_cost(
            memory, arguments.concurrency, arguments.schedule, architecture or "x86_64", init_ms=init_ms
        )
    except CostError as error:
        print(f"lambdawarmer cost: {error}", file=out)
        return 2
    region = arguments.region or "us-east-1"
    print(
        f"{arguments.concurrency} environments of {memory} MB ({architecture or 'x86_64'}), "
        f"pinged {arguments.schedule}:",
        file=out,
    )
    print(
        f"  warming:                 ${cost['warming_usd']:.2f} a month "
        f"({cost['requests_per_month']:,.0f} requests, {cost['gb_seconds_per_month']:,.0f} GB-seconds; "
        f"each instance holds ~{cost['hold_ms']:.0f} ms; {cost['inits_per_month']:,.0f} inits, "
        f"{cost['init_gb_seconds_per_month']:,.0f} GB-seconds of it)",
        file=out,
    )
    print(
        f"  Provisioned Concurrency: ${cost['provisioned_usd']:.2f} a month "
        "(plus its lower duration rate for traffic)",
        file=out,
    )
    print(f"prices: {PRICES_SOURCE} as of {PRICES_AS_OF}; other regions differ (asked: {region})", file=out)
    print("assumed:", file=out)
    for assumption in assumptions(memory, init_ms):
        print(f"  - {assumption}", file=out)
    return 0
