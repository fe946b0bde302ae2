"""The sha256 of each released layer zip, shipped with the command line (release_digests.json).

A release's zip is the strict build of its tag (``layer/build_layer.py --strict``: byte for byte the
same on every machine with the same interpreters), so its digest is known before it is published:
the release lists it here (``python -m layer.release_digests record``) and its workflow refuses a
tag whose build differs. ``enable`` attaches a layer named by ARN, SSM parameter or manifest only
when its ``CodeSha256`` is one of these, unless the user names the digest or the signing profile.
A version not released yet is not listed: nothing proves its content.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

DIGESTS = Path(__file__).with_name("release_digests.json")
"""version -> the sha256 (hexadecimal) of that release's layer zip."""


def released() -> dict[str, str]:
    """Each released version and its zip's sha256 (hexadecimal), as this package lists them."""
    return {str(version): str(digest) for version, digest in json.loads(DIGESTS.read_text()).items()}


def release_of(code_sha256: str) -> str | None:
    """The released version whose zip has Lambda's ``CodeSha256`` (base64 of the sha256), if any."""
    for version, digest in released().items():
        if base64.b64encode(bytes.fromhex(digest)).decode() == code_sha256:
            return version
    return None
