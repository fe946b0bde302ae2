"""The lambdawarmer layer's versions in an account: which to attach, published when asked."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH

from .names import LAYER_NAME

if TYPE_CHECKING:
    from .clients import Clients

LAYER_ARN_PARTS = 8
"""``arn:partition:lambda:region:account:layer:NAME:VERSION``."""


def layer_name(arn: str) -> str:
    """The NAME in a layer version's ARN (the ARN itself when it is not one)."""
    parts = arn.split(":")
    return parts[6] if len(parts) == LAYER_ARN_PARTS and parts[5] == "layer" else arn


def is_ours(arn: str) -> bool:
    return layer_name(arn) == LAYER_NAME


def wanted_layers(current: list[str], ours: str) -> list[str]:
    """Ours in place of an older version of ours (or last), every other layer kept in its order."""
    name = layer_name(ours)
    if any(layer_name(arn) == name for arn in current):
        layers = [ours if layer_name(arn) == name else arn for arn in current]
        return list(dict.fromkeys(layers))
    return [*current, ours]


def newest_layer_version(clients: Clients) -> str | None:
    """The ARN of the newest version of the lambdawarmer layer here, if there is one."""
    versions = clients.lambda_.list_layer_versions(LayerName=LAYER_NAME).get("LayerVersions", [])
    return str(versions[0]["LayerVersionArn"]) if versions else None


def publish_layer_version(clients: Clients, zip_path: str) -> str:
    """The layer version holding ``zip_path``: the newest of ours if it already does, else a new one."""
    data = Path(zip_path).read_bytes()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    versions = clients.lambda_.list_layer_versions(LayerName=LAYER_NAME).get("LayerVersions", [])
    if versions:
        newest = clients.lambda_.get_layer_version(LayerName=LAYER_NAME, VersionNumber=versions[0]["Version"])
        if newest.get("Content", {}).get("CodeSha256") == digest:
            return str(versions[0]["LayerVersionArn"])
    published = clients.lambda_.publish_layer_version(
        LayerName=LAYER_NAME,
        Description=f"lambdawarmer: set {EXEC_WRAPPER_VARIABLE}={WRAPPER_PATH}",
        Content={"ZipFile": data},
        CompatibleArchitectures=["x86_64", "arm64"],
    )
    return str(published["LayerVersionArn"])
