"""Checking a request's Signature Version 4 as an AWS service does, with botocore's own signer.

The emulator's Invoke API refuses what Lambda refuses (403, with Lambda's error types), so every
end-to-end test proves the layer's signing (lambdawarmer/aws/sigv4.py) against an implementation that is
not ours.
"""

from __future__ import annotations

import calendar
import hmac
import time
from collections.abc import Mapping

ACCESS_KEY = "emulator"
SECRET_KEY = "emulator"
"""The credentials the emulator gives its functions (with a session token) and accepts."""
MAX_SKEW_S = 5 * 60
"""How far a request's x-amz-date may be from the service's clock."""
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)


class SignatureError(Exception):
    """Why a request was refused: ``error_type`` as the service names it (HTTP 403)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def check_signature(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Mapping[str, str],
    service: str,
    region: str,
) -> str:
    """The access key that signed the request; raises :class:`SignatureError` when the signature
    is missing, made with an unknown key or a wrong secret, for another service, or too old.

    ``target`` is the path and query as sent, ``headers`` the headers as received (any case),
    ``secrets`` each known access key's secret.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    received = {name.lower(): value for name, value in headers.items()}
    header = received.get("authorization", "")
    if not header.startswith("AWS4-HMAC-SHA256 "):
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
    fields = dict(part.strip().partition("=")[::2] for part in header[len("AWS4-HMAC-SHA256 ") :].split(","))
    scope = fields.get("Credential", "").split("/")
    signed_names = fields.get("SignedHeaders", "").split(";")
    if len(scope) != 5 or scope[4] != "aws4_request" or "host" not in signed_names:
        raise SignatureError("IncompleteSignatureException", f"Authorization header is malformed: {header}")
    access_key, day, region_in_scope, scope_service, _ = scope
    if access_key not in secrets:
        raise SignatureError(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    if region_in_scope != region:
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{region_in_scope}'.",
        )
    if scope_service != service:
        raise SignatureError(
            "InvalidSignatureException", f"Credential should be scoped to correct service: '{service}'."
        )
    amz_date = received.get("x-amz-date", "")
    try:
        signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise SignatureError("IncompleteSignatureException", "x-amz-date is missing or malformed") from None
    if abs(time.time() - signed_at) > MAX_SKEW_S or day != amz_date[:8]:
        raise SignatureError("InvalidSignatureException", f"Signature expired: {amz_date} is out of range")
    missing = [name for name in signed_names if name not in received]
    if missing:
        raise SignatureError("InvalidSignatureException", f"signed headers not sent: {', '.join(missing)}")
    request = AWSRequest(
        method=method,
        url=f"http://{received['host']}{target}",
        data=body,
        headers={name: received[name] for name in signed_names},
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(access_key, secrets[access_key]), service, region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected, fields.get("Signature", "")):
        raise SignatureError("InvalidSignatureException", BAD_SIGNATURE)
    return access_key
