"""The ``enable`` command: its arguments, the plan shown and applied (adoption.py), the first ping.

Exit statuses: 0 done and its first ping warmed N of N; 1, 3 or 4 as that ping says; 2 usage
(refused before any change: names, ARNs of another account or region, the schedule, the layer);
3 a function could not be read (not found, denied); 4 the version the qualifier serves does not
have the layer (not pinged, its schedule disabled; the note says what to publish); 5 a change failed
or a function cannot be changed as asked (what was applied is reported; run the command again to finish).
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any, TextIO

from lambdawarmer.settings import METRICS_MODES, SETTINGS

from ..adoption import adopt, say_dry_run, say_notes
from ..clients import Clients
from ..deployed import Deployed, read_function, selected_functions
from ..deploys import how_to_pre_warm, is_alias, pre_warming_hooks
from ..enable_plan import Options, plan_enable
from ..exit_status import NOT_LAMBDAWARMER, OK, UsageError
from ..layers import (
    LayerError,
    Trusted,
    check_layer_arn,
    code_sha256,
    from_manifest,
    from_parameter,
    publish_layer_version,
    read_layer_zip,
    signing_profile_version_arn,
)
from ..ping_targets import tenants_argument
from ..pinging import concurrency_argument, ping_as_scheduled, summary_line
from ..plan import Plan
from ..schedules import DEFAULT_SCHEDULE, ScheduleError
from ..schedules import check as check_schedule


def add_parser(commands: Any, which: argparse.ArgumentParser, aws: argparse.ArgumentParser) -> None:
    """The ``enable`` arguments (``which``: the functions; ``aws``: profile, region)."""
    enable = commands.add_parser(
        "enable",
        parents=[which, aws],
        help="attach the layer, the variables, the permission and the schedule; then ping",
        description="Attach the lambdawarmer layer, its variables, the self-invoke permission and a "
        "warm-up schedule to each function named (a plan first; --dry-run changes nothing), then ping it "
        "once. Run it again to change nothing; lambdawarmer disable takes it back.",
    )
    enable.add_argument("--concurrency", type=concurrency_argument, required=True, help="N, or auto")
    enable.add_argument("--schedule", default=DEFAULT_SCHEDULE, help="EventBridge Scheduler expression")
    enable.add_argument("--qualifier", help="alias or version the schedule pings (default: as named)")
    enable.add_argument(
        "--tenants",
        type=tenants_argument,
        help="a function that isolates tenants: the tenants to warm and how many each (acme=3,globex=2)",
    )
    layer = enable.add_mutually_exclusive_group()
    layer.add_argument(
        "--layer-arn", help="the layer version to attach (default: the version of ours the function has)"
    )
    layer.add_argument(
        "--publish", metavar="ZIP", help="publish this layer zip first (unless already the newest)"
    )
    layer.add_argument("--layer-parameter", metavar="NAME", help="the SSM parameter holding the layer's ARN")
    layer.add_argument(
        "--manifest", metavar="FILE", help="lambdawarmer publish's manifest: this region's ARN"
    )
    add_layer_checks(enable)
    enable.add_argument("--metrics", action="store_true", help="ColdStart/WarmStart and round metrics (EMF)")
    enable.add_argument(
        "--metrics-mode", choices=METRICS_MODES, help="implies --metrics; PutMetricData is granted"
    )
    enable.add_argument("--no-token", action="store_true", help="no WARMER_TOKEN (default: a random one)")
    enable.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    enable.add_argument("--yes", action="store_true", help="do not ask at a terminal before applying")


def add_layer_checks(parser: argparse.ArgumentParser) -> None:
    """How the layer named is checked: --layer-sha256, --signing-profile-version-arn, --trust-layer
    (``enable`` and ``fleet enable``)."""
    parser.add_argument(
        "--layer-sha256",
        metavar="HEX",
        help="the zip's sha256 the layer named must hold (default: a release this lambdawarmer lists)",
    )
    parser.add_argument(
        "--signing-profile-version-arn",
        metavar="ARN",
        help="the AWS Signer profile version that must have signed the layer named",
    )
    parser.add_argument(
        "--trust-layer",
        action="store_true",
        help="attach the layer named without checking it against the releases this lambdawarmer lists",
    )


def run(arguments: argparse.Namespace, out: TextIO) -> int:
    """Plan, show and apply ``enable`` on every function selected, then ping each; the worst status.
    Everything that can be refused (names, ARNs, the schedule, the layer) is, before any change."""
    clients = Clients(arguments.profile, arguments.region)
    targets = selected_functions(clients, arguments.functions, arguments.tag, arguments.qualifier)
    options = enable_options(clients, arguments)
    status = OK
    for target in targets:
        done, deployed, plan = adopt(
            clients, target, lambda deployed: plan_enable(clients, deployed, options), arguments, out
        )
        if deployed is not None and plan is not None:
            done = _after_enable(clients, deployed, plan, options, out)
        status = max(status, done)
    say_dry_run(arguments, out)
    return status


def _after_enable(clients: Clients, deployed: Deployed, plan: Plan, options: Options, out: TextIO) -> int:
    """The notes, then the first ping, unless the target cannot take one yet."""
    if is_alias(clients, deployed) and not pre_warming_hooks(clients, deployed):
        plan.notes.append(how_to_pre_warm(deployed))
    say_notes(plan, out)
    if plan.not_ready:
        print(f"{deployed.label}  NOT PINGED  {plan.not_ready}", file=out)
        return NOT_LAMBDAWARMER
    result = ping_as_scheduled(
        clients, read_function(clients, deployed.ref), options.concurrency, options.tenants
    )
    print(summary_line(result), file=out)
    return result.status


def layer_checks(arguments: argparse.Namespace, named_by: str) -> Trusted:
    """What the layer named is checked against (:func:`add_layer_checks`' arguments), each value
    checked; raises :class:`LayerError` for a value that is not one, or for a check given when no
    layer is named (``named_by``: the arguments that name one)."""
    profile = arguments.signing_profile_version_arn
    if not any(getattr(arguments, name, None) for name in ("manifest", "layer_parameter", "layer_arn")):
        checks = {
            "--layer-sha256": arguments.layer_sha256,
            "--signing-profile-version-arn": profile,
            "--trust-layer": arguments.trust_layer,
        }
        given = [flag for flag, value in checks.items() if value]
        if given:
            raise LayerError(f"{given[0]} checks a layer named by {named_by}")
    return Trusted(
        sha256=code_sha256(arguments.layer_sha256) if arguments.layer_sha256 else None,
        signing_profile=signing_profile_version_arn(profile) if profile else None,
        unchecked=arguments.trust_layer,
    )


def _trusted_layer(clients: Clients, arguments: argparse.Namespace) -> str | None:
    """The layer version named (by ARN, SSM parameter or manifest), its content checked (a manifest's
    own digest proves nothing: see :class:`Trusted`); None: none named."""
    trusted = layer_checks(arguments, "--layer-arn, --layer-parameter or --manifest")
    if arguments.manifest:
        arn, manifest = from_manifest(clients, arguments.manifest)
        trusted = dataclasses.replace(trusted, manifest=manifest)
    elif arguments.layer_parameter:
        arn = from_parameter(clients, arguments.layer_parameter)
    elif arguments.layer_arn:
        arn = arguments.layer_arn
    else:
        return None
    return check_layer_arn(clients, arn, trusted)


def enable_options(clients: Clients, arguments: argparse.Namespace) -> Options:
    """What enable was asked for, every part checked (a dry run checks the same), with the layer
    version to attach (None: the one of ours each function has)."""
    try:
        schedule = check_schedule(arguments.schedule)
        data = read_layer_zip(arguments.publish) if arguments.publish else None
        layer = _trusted_layer(clients, arguments)
    except (ScheduleError, LayerError) as error:
        raise UsageError(f"--schedule {error}" if isinstance(error, ScheduleError) else str(error)) from None
    if data is not None:
        layer = (
            f"(a new version from {arguments.publish})"
            if arguments.dry_run
            else publish_layer_version(clients, data)
        )
    default_mode = str(SETTINGS["metrics_mode"].default)
    metrics_mode = arguments.metrics_mode or (default_mode if arguments.metrics else None)
    return Options(
        concurrency=arguments.concurrency,
        schedule=schedule,
        layer_arn=layer,
        metrics_mode=metrics_mode,
        token=not arguments.no_token,
        tenants=arguments.tenants,
    )
