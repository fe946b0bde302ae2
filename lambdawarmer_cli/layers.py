"""The lambdawarmer layer's versions: which one ``enable`` attaches, checked, published when asked.

``enable`` attaches only a version it was told to trust: ``--layer-arn`` (checked to exist, in
the function's region), ``--publish ZIP`` (a zip checked to be lambdawarmer's layer; the newest
version is reused only when its content is the same bytes), or, on a function that has one, the
version already attached. It never takes "the newest ``lambdawarmer`` layer in the account", which
anyone allowed ``lambda:PublishLayerVersion`` could have published.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_NAME, WRAPPER_PATH

from .clients import error_code
from .names import LAYER_NAME

if TYPE_CHECKING:
    from .clients import Clients

LAYER_ARN_PARTS = 8
"""``arn:partition:lambda:region:account:layer:NAME:VERSION``."""


class LayerError(ValueError):
    """A layer that cannot be attached (the message says why)."""


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


def check_layer_arn(clients: Clients, arn: str) -> str:
    """``arn`` when it is a layer version in this region that can be read; raises :class:`LayerError`."""
    parts = arn.split(":")
    if len(parts) != LAYER_ARN_PARTS or parts[0] != "arn" or parts[2:6:3] != ["lambda", "layer"]:
        raise LayerError(f"--layer-arn {arn!r}: expected arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION")
    if not parts[7].isdigit():
        raise LayerError(f"--layer-arn {arn!r}: the version must be a number (a layer version, not a layer)")
    if parts[3] != clients.region:
        raise LayerError(
            f"--layer-arn {arn!r} is in {parts[3]}: a function takes layers of its own region "
            f"({clients.region})"
        )
    layer = ":".join(parts[:7])
    try:
        clients.lambda_.get_layer_version(LayerName=layer, VersionNumber=int(parts[7]))
    except Exception as error:
        raise LayerError(f"--layer-arn {arn!r} cannot be read: {error_code(error)}") from None
    return arn


def read_layer_zip(path: str) -> bytes:
    """The bytes of a lambdawarmer layer zip; raises :class:`LayerError` for a missing file, a file
    that is not a zip, or a zip without the wrapper at its root."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise LayerError(f"--publish {path}: {error.strerror or error}") from None
    try:
        with zipfile.ZipFile(Path(path)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise LayerError(
            f"--publish {path}: not a zip file (./build.sh makes dist/lambdawarmer-layer.zip)"
        ) from None
    if WRAPPER_NAME not in names:
        raise LayerError(
            f"--publish {path}: not a lambdawarmer layer ({WRAPPER_NAME} is not at its root); "
            "./build.sh makes dist/lambdawarmer-layer.zip"
        )
    return data


def publish_layer_version(clients: Clients, data: bytes) -> str:
    """The layer version holding ``data``: the newest of ours if it already does, else a new one."""
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


def newest_layer_version(clients: Clients) -> str | None:
    """The ARN of the newest version of the lambdawarmer layer here, if there is one (``status``
    says when a newer one exists; ``enable`` never attaches it unasked)."""
    versions = clients.lambda_.list_layer_versions(LayerName=LAYER_NAME).get("LayerVersions", [])
    return str(versions[0]["LayerVersionArn"]) if versions else None
