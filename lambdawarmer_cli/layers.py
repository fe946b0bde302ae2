"""The lambdawarmer layer's versions: which one ``enable`` attaches, checked, published when asked.

``enable`` attaches only a version it was told to trust: one named by ``--layer-arn``,
``--layer-parameter`` or ``--manifest``, in the function's region, whose content is a release this
lambdawarmer lists, the sha256 the user gives, or signed by the Signer profile the user names
(``--trust-layer``: unchecked); ``--publish ZIP`` (a zip checked to be lambdawarmer's layer; the newest
version is reused only when its content is the same bytes), or, on a function that has one, the
version already attached. It never takes "the newest ``lambdawarmer`` layer in the account", which
anyone allowed ``lambda:PublishLayerVersion`` could have published.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, LAYER_METADATA, WRAPPER_NAME, WRAPPER_PATH

from .clients import error_code
from .names import LAYER_NAME
from .release_digests import release_of, released

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


@dataclass(frozen=True)
class Trusted:
    """What a named layer version's content is checked against: Lambda's ``CodeSha256`` (base64)
    the user named (``--layer-sha256``), the Signer profile version that must have signed it
    (``--signing-profile-version-arn``), else the releases this lambdawarmer lists
    (release_digests.json), unless ``unchecked`` (``--trust-layer``). ``manifest``: the content a
    manifest names, which the version must hold but which proves nothing by itself (a manifest can
    name any layer with its own digest)."""

    sha256: str | None = None
    signing_profile: str | None = None
    manifest: str | None = None
    unchecked: bool = False


def check_layer_arn(clients: Clients, arn: str, trusted: Trusted) -> str:
    """``arn`` when it is a layer version in this region that can be read and whose content passes
    every check of ``trusted``; raises :class:`LayerError` saying which it is not."""
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
        version = clients.lambda_.get_layer_version(LayerName=layer, VersionNumber=int(parts[7]))
    except Exception as error:
        raise LayerError(f"--layer-arn {arn!r} cannot be read: {error_code(error)}") from None
    content = version.get("Content", {})
    found = content.get("CodeSha256")
    for named, by in ((trusted.manifest, "its manifest"), (trusted.sha256, "--layer-sha256")):
        if named is not None and found != named:
            raise LayerError(
                f"{arn} does not hold the content named by {by} (its CodeSha256 is {found}, {named} "
                "was expected): anyone allowed to publish a layer version can name it lambdawarmer"
            )
    signer = content.get("SigningProfileVersionArn")
    if trusted.signing_profile is not None and signer != trusted.signing_profile:
        raise LayerError(
            f"{arn} is not signed by {trusted.signing_profile} "
            f"({f'signed by {signer}' if signer else 'it is not signed'})"
        )
    if trusted.sha256 or trusted.signing_profile or trusted.unchecked or release_of(str(found)):
        return arn
    listed = ", ".join(released()) or "none"
    raise LayerError(
        f"{arn}: its content (CodeSha256 {found}) is no lambdawarmer release this command knows "
        f"(releases listed: {listed}){' although its manifest names it' if trusted.manifest else ''}; "
        "give the release zip's sha256 (--layer-sha256), the Signer profile that signed it "
        "(--signing-profile-version-arn), or accept it unchecked with --trust-layer"
    )


def signing_profile_version_arn(value: str) -> str:
    """``value`` when it is a Signer profile version's ARN; raises :class:`LayerError`."""
    parts = value.split(":", 5)
    resource = parts[5].split("/") if len(parts) == 6 else []
    if (
        parts[:1] != ["arn"]
        or parts[2:3] != ["signer"]
        or len(resource) != 4
        or resource[:2] != ["", "signing-profiles"]
    ):
        raise LayerError(
            f"--signing-profile-version-arn {value!r}: expected "
            "arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME/VERSION (the profile version's ARN, "
            "as Signer's GetSigningProfile gives it)"
        )
    return value


def code_sha256(sha256_hex: str) -> str:
    """Lambda's ``CodeSha256`` (base64) of a zip whose sha256 is ``sha256_hex``; raises
    :class:`LayerError` for a value that is not one."""
    try:
        digest = bytes.fromhex(sha256_hex)
    except ValueError:
        digest = b""
    if len(digest) != hashlib.sha256().digest_size:
        raise LayerError(f"--layer-sha256 {sha256_hex!r}: expected the 64 hexadecimal digits of a sha256")
    return base64.b64encode(digest).decode()


def from_parameter(clients: Clients, name: str) -> str:
    """The layer version ARN an SSM parameter of this region holds (``lambdawarmer publish
    --ssm-prefix`` writes them); raises :class:`LayerError`."""
    try:
        return str(clients.ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except Exception as error:
        raise LayerError(f"--layer-parameter {name!r} cannot be read: {error_code(error)}") from None


def from_manifest(clients: Clients, path: str) -> tuple[str, str]:
    """The layer version ARN of this region in a manifest (``lambdawarmer publish`` writes it),
    and the content it names (``CodeSha256``); raises :class:`LayerError`."""
    try:
        document = json.loads(Path(path).read_text())
        arn, digest = document["regions"][clients.region], document["code_sha256"]
    except OSError as error:
        raise LayerError(f"--manifest {path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError):
        raise LayerError(
            f"--manifest {path}: no layer for {clients.region} in it (a manifest lambdawarmer publish wrote "
            "names a version for each region it published to)"
        ) from None
    return str(arn), str(digest)


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


def layer_metadata(data: bytes, path: str) -> dict[str, Any]:
    """What a layer zip built by 1.6.0 or later says of itself (:data:`LAYER_METADATA`); raises
    :class:`LayerError` when it says nothing."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            document = json.loads(archive.read(LAYER_METADATA))
    except (KeyError, ValueError):
        document = None
    if not isinstance(document, dict) or document.get("layer") != LAYER_NAME:
        raise LayerError(
            f"{path}: a lambdawarmer layer without its {LAYER_METADATA} (built before 1.6.0?): "
            "./build.sh makes one"
        )
    return document


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
