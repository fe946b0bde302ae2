"""The ``enable`` and ``disable`` commands: their arguments, the plans shown and applied, the first ping.

Exit statuses: 0 done (enable: and its first ping warmed N of N); 1, 3 or 4 as that ping says;
2 usage; 5 a change failed or a function cannot be changed as asked (what was applied is reported;
run the command again to finish).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from lambdawarmer.aws import error_reason
from lambdawarmer.config import METRICS_MODES, SETTINGS

from .clients import Clients
from .deployed import read_function, selected_functions
from .deploys import how_to_pre_warm, is_alias, pre_warming_hooks
from .disable import plan_disable
from .enable import DEFAULT_SCHEDULE, Options, plan_enable
from .exit_status import CHANGE_FAILED, OK, UsageError
from .layers import newest_layer_version, publish_layer_version
from .ping import concurrency_argument, ping_as_scheduled, summary_line
from .resources import ChangeError


def add_parsers(commands: Any, which: argparse.ArgumentParser, aws: argparse.ArgumentParser) -> None:
    """The ``enable`` and ``disable`` arguments (``which``: the functions; ``aws``: profile, region)."""
    enable = commands.add_parser(
        "enable",
        parents=[which, aws],
        help="attach the layer, the variables, the permission and the schedule; then ping",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    enable.add_argument("--concurrency", type=concurrency_argument, required=True, help="N, or auto")
    enable.add_argument("--schedule", default=DEFAULT_SCHEDULE, help="EventBridge Scheduler expression")
    enable.add_argument("--qualifier", help="alias or version the schedule pings (default: as named)")
    layer = enable.add_mutually_exclusive_group()
    layer.add_argument("--layer-arn", help="the layer version to attach (default: the newest lambdawarmer)")
    layer.add_argument(
        "--publish", metavar="ZIP", help="publish this layer zip first (unless already the newest)"
    )
    enable.add_argument("--metrics", action="store_true", help="ColdStart/WarmStart and round metrics (EMF)")
    enable.add_argument(
        "--metrics-mode", choices=METRICS_MODES, help="implies --metrics; PutMetricData is granted"
    )
    enable.add_argument("--no-token", action="store_true", help="no WARMER_TOKEN (default: a random one)")
    enable.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    enable.add_argument("--yes", action="store_true", help="do not ask at a terminal before applying")

    disable = commands.add_parser("disable", parents=[which, aws], help="remove exactly what enable added")
    disable.add_argument("--qualifier", help="the qualifier it was enabled with")
    disable.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    disable.add_argument("--yes", action="store_true", help="do not ask before applying")


def run(arguments: argparse.Namespace, out: TextIO) -> int:
    """Plan, show and apply ``enable`` or ``disable`` on every function selected; the worst status."""
    clients = Clients(arguments.profile, arguments.region)
    targets = selected_functions(clients, arguments.functions, arguments.tag, arguments.qualifier)
    options = _enable_options(clients, arguments) if arguments.command == "enable" else None
    status = OK
    for target in targets:
        try:
            deployed = read_function(clients, target)
        except Exception as error:
            print(f"{target}: cannot read it: {error_reason(error)}", file=out)
            status = max(status, CHANGE_FAILED)
            continue
        try:
            plan = plan_enable(clients, deployed, options) if options else plan_disable(clients, deployed)
        except Exception as error:
            reason = str(error) if isinstance(error, ChangeError) else error_reason(error)
            print(f"{deployed.label}: cannot {arguments.command}: {reason}", file=out)
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
        if options is not None and is_alias(clients, deployed) and not pre_warming_hooks(clients, deployed):
            plan.notes.append(how_to_pre_warm(deployed))
        for note in plan.notes:
            print(f"note: {note}", file=out)
        if options is not None:
            result = ping_as_scheduled(clients, read_function(clients, target), options.concurrency)
            print(summary_line(result), file=out)
            status = max(status, result.status)
    if arguments.dry_run:
        print("dry run: nothing was changed", file=out)
    return status


def _enable_options(clients: Clients, arguments: argparse.Namespace) -> Options:
    """What enable was asked for, with the layer version to attach."""
    layer = arguments.layer_arn
    if arguments.publish and not arguments.dry_run:
        try:
            layer = publish_layer_version(clients, arguments.publish)
        except OSError as error:
            raise UsageError(f"--publish: {error}") from None
    layer = layer or newest_layer_version(clients)
    if layer is None and arguments.publish:
        layer = f"(a new version from {arguments.publish})"  # a dry run publishes nothing
    if layer is None:
        raise UsageError("no lambdawarmer layer in this account and region: --publish ZIP or --layer-arn ARN")
    default_mode = str(SETTINGS["metrics_mode"].default)
    metrics_mode = arguments.metrics_mode or (default_mode if arguments.metrics else None)
    return Options(
        concurrency=arguments.concurrency,
        schedule=arguments.schedule,
        layer_arn=layer,
        metrics_mode=metrics_mode,
        token=not arguments.no_token,
    )


def _confirmed(arguments: argparse.Namespace, label: str, out: TextIO) -> bool:
    """Ask before changing a function, at a terminal, unless --yes (scripts and CI are not asked)."""
    if arguments.yes or not sys.stdin.isatty():
        return True
    print(f"apply these changes to {label}? [y/N] ", end="", file=out, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")
