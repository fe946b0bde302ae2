"""``lambdawarmer publish ZIP``: the layer zip in many regions, shared, named in SSM, a manifest.

    lambdawarmer publish dist/lambdawarmer-layer.zip --regions us-east-1,eu-west-1 \\
        --organization o-a1b2c3d4e5 --ssm-prefix /platform/lambdawarmer --manifest layers.json

Every region of the partition that offers Lambda by default. What happens in each region is
publishing.py's: the same content is never published twice, numbers are aligned, sharing is made
exactly what the flags ask (layer_sharing.py), a failed region is reported with the others done
(and left out of the manifest), and running the command again resumes it. Every argument, the SSM
names included, is checked before any change.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from ..clients import Clients
from ..exit_status import CHANGE_FAILED, OK, UsageError
from ..layer_sharing import ACCOUNT, ORGANIZATION, Sharing
from ..layers import LayerError, layer_metadata, read_layer_zip
from ..publishing import Zip, manifest, manifest_text, parameter_names, publish
from ..ssm_names import name_problem

MANIFEST = "dist/lambdawarmer-layer.manifest.json"


def add_parser(commands: Any, aws: argparse.ArgumentParser) -> None:
    """The ``publish`` command's arguments (``aws``: profile, region)."""
    command = commands.add_parser(
        "publish",
        parents=[aws],
        help="publish the layer zip to many regions, shared, named in SSM",
        description="Publish the layer zip to many regions. Each version's sharing is made exactly what "
        "--public, --organization, --account or --private asks (with none of them it is left as it is), "
        "and each region's line says what changed.",
    )
    command.add_argument("zip", metavar="ZIP", help="the layer zip (./build.sh makes it in dist/)")
    command.add_argument(
        "--regions", help="comma-separated (default: every region of the partition that offers Lambda)"
    )
    shared = command.add_mutually_exclusive_group()
    shared.add_argument("--public", action="store_true", help="let every AWS account use it")
    shared.add_argument(
        "--organization", metavar="ORG_ID", help="let this AWS Organization's accounts use it"
    )
    shared.add_argument(
        "--account", action="append", default=[], metavar="ID", help="let this account use it (repeatable)"
    )
    shared.add_argument(
        "--private", action="store_true", help="let no other account use it (removes publish's sharing)"
    )
    command.add_argument(
        "--ssm-prefix",
        metavar="PATH",
        help="the ARN in <PATH>/<version> and <PATH>/latest (SSM's name rules checked first)",
    )
    command.add_argument("--manifest", default=MANIFEST, help=f"the manifest's file (default {MANIFEST})")


def run(arguments: argparse.Namespace, out: TextIO) -> int:
    """Publish everywhere asked; print each region's outcome, its sharing, and the manifest."""
    sharing = _sharing(arguments)
    try:
        data = read_layer_zip(arguments.zip)
        layer = Zip(data, layer_metadata(data, arguments.zip))
    except LayerError as error:
        raise UsageError(str(error)) from None
    clients = Clients(arguments.profile, arguments.region)
    regions = lambda_regions(clients, arguments.regions)
    if arguments.ssm_prefix:
        _check_ssm_prefix(clients, regions, arguments.ssm_prefix, layer.version)
    outcome = publish(
        {region: clients.in_region("lambda", region) for region in regions},
        {region: clients.in_region("ssm", region) for region in regions},
        layer,
        sharing,
        arguments.ssm_prefix,
    )
    width = max(len(region) for region in regions)
    for region in regions:
        if region in outcome.failed:
            print(f"{region:<{width}}  FAILED  {outcome.failed[region]}", file=out)
        else:
            said = "already there" if region in outcome.reused else "published"
            print(f"{region:<{width}}  {outcome.arns[region]}  {said}", file=out)
    for region in regions:
        if region in outcome.sharing:
            print(f"{region}: {outcome.sharing[region]}", file=out)
    for note in outcome.notes:
        print(f"note: {note}", file=out)
    document = manifest(layer, outcome)
    text = manifest_text(document)
    Path(arguments.manifest).parent.mkdir(parents=True, exist_ok=True)
    Path(arguments.manifest).write_text(text)
    print(text, end="", file=out)
    if outcome.failed:
        print(
            f"{len(outcome.failed)} region(s) failed, {len(outcome.arns)} done: run the same command again "
            "to finish (what is done is kept)",
            file=out,
        )
        return CHANGE_FAILED
    return OK


def _sharing(arguments: argparse.Namespace) -> Sharing | None:
    """The sharing asked (None: no sharing flag, the versions' sharing left as it is)."""
    if arguments.organization and not ORGANIZATION.fullmatch(arguments.organization):
        raise UsageError(
            f"--organization {arguments.organization!r}: expected an organization id, o-xxxxxxxxxx"
        )
    for account in arguments.account:
        if not ACCOUNT.fullmatch(account):
            raise UsageError(f"--account {account!r}: expected a 12-digit account id")
    if not (arguments.public or arguments.organization or arguments.account or arguments.private):
        return None
    return Sharing(arguments.public, arguments.organization, tuple(dict.fromkeys(arguments.account)))


def _check_ssm_prefix(clients: Clients, regions: list[str], prefix: str, version: str) -> None:
    """Refuse a prefix that would give a parameter name SSM refuses, in any of ``regions``."""
    longest = max(regions, key=len)  # the longest ARN before the name
    arn_before = f"arn:{clients.partition}:ssm:{longest}:{clients.account}:parameter"
    names = parameter_names(prefix, version)
    for problem in filter(None, (name_problem(name, arn_before) for name in names)):
        raise UsageError(
            f"--ssm-prefix {prefix!r}: {problem} (SSM's rules for parameter names: the parameters would "
            f"be {' and '.join(names)}); such as /platform/lambdawarmer"
        )


def lambda_regions(clients: Clients, asked: str | None) -> list[str]:
    """The regions to publish in: those asked, each checked to offer Lambda, or all of them."""
    offered = clients.regions("lambda", clients.partition)
    if not asked:
        return offered
    regions = list(dict.fromkeys(region.strip() for region in asked.split(",") if region.strip()))
    unknown = [region for region in regions if region not in offered]
    if unknown or not regions:
        raise UsageError(
            f"--regions: {', '.join(unknown) or 'none given'} not a region of {clients.partition} that "
            f"offers Lambda; those are: {', '.join(offered)}"
        )
    return regions
