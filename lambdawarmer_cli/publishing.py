"""Publishing the layer zip to many regions, as the established layers do: one version per region
with the same number everywhere, shared as asked, its ARN in SSM parameters, and a manifest.

Idempotent: a region that already holds a version with this zip's content (``CodeSha256``) keeps
it, so a run that failed in one region is resumed by running it again. Aligned: the regions still
to publish get the highest version number among them, a version published below it being deleted
and published again until the counter reaches it (Datadog's way: Lambda never reuses a number); a
region that already holds the zip under another number keeps it, and the manifest says so.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH

from .clients import error_reason
from .layer_sharing import Sharing, converge
from .names import LAYER_NAME

LICENSE = "MIT"
MAX_ALIGN_STEPS = 25
"""Versions published and deleted at most, in one region, to reach the aligned number."""
KNOWN_VERSIONS = 20
"""How many of a region's newest versions are read for one that holds this zip already."""


@dataclass(frozen=True)
class Zip:
    """The layer zip to publish, what it says of itself (its version, runtimes and architectures:
    the build's ``lambdawarmer-layer.json``), and its digests (hex, and Lambda's ``CodeSha256``)."""

    data: bytes
    metadata: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def code_sha256(self) -> str:
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()

    @property
    def description(self) -> str:
        return (
            f"lambdawarmer {self.version} (sha256 {self.sha256}): set {EXEC_WRAPPER_VARIABLE}={WRAPPER_PATH}"
        )


@dataclass
class Outcome:
    """What publishing did in each region: the version (its ARN) and what its sharing became, or why
    it failed."""

    arns: dict[str, str] = field(default_factory=dict)
    reused: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    sharing: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def existing_version(client: Any, layer: Zip) -> tuple[int, str] | None:
    """The version of ours in this region holding ``layer``'s content, if one does (number, ARN): its
    ``CodeSha256`` read for each version but those whose description (when listed) names another sha256."""
    versions = client.list_layer_versions(LayerName=LAYER_NAME).get("LayerVersions", [])
    for version in versions[:KNOWN_VERSIONS]:
        description = version.get("Description", "")
        if "(sha256 " in description and layer.sha256 not in description:
            continue  # published by publish, with other content: no need to read it
        found = client.get_layer_version(LayerName=LAYER_NAME, VersionNumber=version["Version"])
        if found.get("Content", {}).get("CodeSha256") == layer.code_sha256:
            return int(version["Version"]), str(version["LayerVersionArn"])
    return None


def publish_once(client: Any, layer: Zip) -> tuple[int, str]:
    published = client.publish_layer_version(
        LayerName=LAYER_NAME,
        Description=layer.description,
        Content={"ZipFile": layer.data},
        CompatibleRuntimes=list(layer.metadata["compatible_runtimes"]),
        CompatibleArchitectures=list(layer.metadata["compatible_architectures"]),
        LicenseInfo=LICENSE,
    )
    return int(published["Version"]), str(published["LayerVersionArn"])


def publish_at_least(client: Any, layer: Zip, number: int) -> tuple[int, str]:
    """A new version holding ``layer``, numbered ``number`` or above (a lower one is deleted and
    published again: each publish takes the next number)."""
    version, arn = publish_once(client, layer)
    for _ in range(MAX_ALIGN_STEPS):
        if version >= number:
            break
        client.delete_layer_version(LayerName=LAYER_NAME, VersionNumber=version)
        version, arn = publish_once(client, layer)
    return version, arn


def parameter_names(prefix: str, version: str) -> tuple[str, str]:
    """The SSM parameters that name a release's version: ``<prefix>/<version>``, ``<prefix>/latest``."""
    return f"{prefix}/{version}", f"{prefix}/latest"


def write_parameters(client: Any, prefix: str, version: str, arn: str) -> None:
    """Each of :func:`parameter_names`: the ARN of this release's version here."""
    for name in parameter_names(prefix, version):
        client.put_parameter(Name=name, Value=arn, Type="String", Overwrite=True)


def publish(
    clients: dict[str, Any], ssm: dict[str, Any], layer: Zip, sharing: Sharing | None, prefix: str | None
) -> Outcome:
    """Publish ``layer`` in every region of ``clients`` (region -> Lambda client; ``ssm``: region ->
    SSM client), aligned, shared exactly as ``sharing`` says (None: as it is) and named in SSM; every
    region's outcome, failures included (a region that failed is not among those done)."""
    run = _Run(clients, layer)
    missing = run.find()
    for region in missing:  # first, each where its counter is
        run.attempt(region, lambda client: publish_once(client, layer))
    target = max(run.numbers.values(), default=0)
    for region in missing:  # then each brought up to the highest
        if region in run.numbers and run.numbers[region] < target:
            below = run.numbers[region]

            def again(client: Any, below: int = below) -> tuple[int, str]:
                client.delete_layer_version(LayerName=LAYER_NAME, VersionNumber=below)
                return publish_at_least(client, layer, target)

            run.attempt(region, again)
    for region, arn in list(run.outcome.arns.items()):
        try:
            converged = converge(clients[region], LAYER_NAME, run.numbers[region], sharing)
            run.outcome.notes += [f"{region}: {other}" for other in converged.others]
            if prefix:
                write_parameters(ssm[region], prefix, layer.version, arn)
        except Exception as error:
            run.outcome.failed[region] = f"{error_reason(error)} (while sharing or naming {arn})"
            del run.outcome.arns[region], run.numbers[region]
            continue
        run.outcome.sharing[region] = converged.summary()
    if len(set(run.numbers.values())) > 1:
        shown = ", ".join(f"{region} {number}" for region, number in sorted(run.numbers.items()))
        run.outcome.notes.append(
            f"the version numbers differ ({shown}): a region that held this zip already keeps its "
            f"number, and one more than {MAX_ALIGN_STEPS} behind is left where it is"
        )
    return run.outcome


class _Run:
    """One publishing run: each region's version number and ARN, or why it failed."""

    def __init__(self, clients: dict[str, Any], layer: Zip) -> None:
        self.clients = clients
        self.layer = layer
        self.numbers: dict[str, int] = {}
        self.outcome = Outcome()

    def find(self) -> list[str]:
        """Record the regions that hold this zip already; the others, still to publish."""
        missing = []
        for region, client in self.clients.items():
            try:
                found = existing_version(client, self.layer)
            except Exception as error:
                self.outcome.failed[region] = error_reason(error)
                continue
            if found is None:
                missing.append(region)
            else:
                self.numbers[region], self.outcome.arns[region] = found
                self.outcome.reused.add(region)
        return missing

    def attempt(self, region: str, publishing: Callable[[Any], tuple[int, str]]) -> None:
        """Record what ``publishing`` gives in ``region``, or why it failed."""
        try:
            self.numbers[region], self.outcome.arns[region] = publishing(self.clients[region])
        except Exception as error:
            self.outcome.failed[region] = error_reason(error)
            self.numbers.pop(region, None)
            self.outcome.arns.pop(region, None)


def manifest(layer: Zip, outcome: Outcome) -> dict[str, Any]:
    """What was published where: the release, the zip's digests, each region's ARN."""
    return {
        "layer": LAYER_NAME,
        "version": layer.version,
        "sha256": layer.sha256,
        "code_sha256": layer.code_sha256,
        "regions": dict(sorted(outcome.arns.items())),
    }


def manifest_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
