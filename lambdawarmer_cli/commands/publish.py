"""``lambdawarmer publish ZIP``: the layer zip in many regions, shared, named in SSM, a manifest.

    lambdawarmer publish dist/lambdawarmer-layer.zip --regions us-east-1,eu-west-1 \\
        --organization o-a1b2c3d4e5 --ssm-prefix /platform/lambdawarmer --manifest layers.json

Every region of the partition that offers Lambda by default. What happens in each region is
publishing.py's: the same content is never published twice, numbers are aligned, a failed region
is reported with the others done, and running the command again resumes it.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, TextIO

from ..clients import Clients
from ..exit_status import CHANGE_FAILED, OK, UsageError
from ..layers import LayerError, layer_metadata, read_layer_zip
from ..publishing import Sharing, Zip, manifest, manifest_text, publish

ORGANIZATION = re.compile(r"o-[a-z0-9]{10,32}")
ACCOUNT = re.compile(r"\d{12}")
SSM_PREFIX = re.compile(r"(/[A-Za-z0-9_.\-]+)+")
MANIFEST = "dist/lambdawarmer-layer.manifest.json"


def add_parser(commands: Any, aws: argparse.ArgumentParser) -> None:
    """The ``publish`` command's arguments (``aws``: profile, region)."""
    command = commands.add_parser(
        "publish", parents=[aws], help="publish the layer zip to many regions, shared, named in SSM"
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
    command.add_argument("--ssm-prefix", metavar="PATH", help="the ARN in <PATH>/<version> and <PATH>/latest")
    command.add_argument("--manifest", default=MANIFEST, help=f"the manifest's file (default {MANIFEST})")


def run(arguments: argparse.Namespace, out: TextIO) -> int:
    """Publish everywhere asked; print each region's outcome and the manifest."""
    sharing = _sharing(arguments)
    if arguments.ssm_prefix and not SSM_PREFIX.fullmatch(arguments.ssm_prefix):
        raise UsageError(
            f"--ssm-prefix {arguments.ssm_prefix!r}: expected a path such as /platform/lambdawarmer"
        )
    try:
        data = read_layer_zip(arguments.zip)
        layer = Zip(data, layer_metadata(data, arguments.zip))
    except LayerError as error:
        raise UsageError(str(error)) from None
    clients = Clients(arguments.profile, arguments.region)
    regions = _regions(clients, arguments.regions)
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


def _sharing(arguments: argparse.Namespace) -> Sharing:
    if arguments.organization and not ORGANIZATION.fullmatch(arguments.organization):
        raise UsageError(
            f"--organization {arguments.organization!r}: expected an organization id, o-xxxxxxxxxx"
        )
    for account in arguments.account:
        if not ACCOUNT.fullmatch(account):
            raise UsageError(f"--account {account!r}: expected a 12-digit account id")
    return Sharing(arguments.public, arguments.organization, tuple(dict.fromkeys(arguments.account)))


def _regions(clients: Clients, asked: str | None) -> list[str]:
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
