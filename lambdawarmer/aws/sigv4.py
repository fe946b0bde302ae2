"""AWS Signature Version 4: the ``Authorization`` header of one request, as botocore computes it.

The canonical request is the method, the path (its already-encoded segments encoded once more, dot
segments and doubled slashes removed: every AWS service but S3 wants that), the query string sorted
by name then value, the headers (lower-case names, values trimmed with inner runs of spaces folded)
and the hex SHA-256 of the body. tests/test_sigv4.py checks every signature against botocore's.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_HEADERS = frozenset(
    # What botocore leaves out of a signature: headers proxies and clients may change on the way.
    (
        "authorization",
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    )
)


def canonical_path(path: str) -> str:
    """``path`` (as sent, percent-encoded) as the canonical request has it."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    normalised = ("/" if path.startswith("/") else "") + "/".join(segments)
    if path.endswith("/") and segments:
        normalised += "/"
    return quote(normalised or "/", safe="/~")


def canonical_query(query: str) -> str:
    """``query`` (as sent, percent-encoded) sorted by name, then value."""
    if not query:
        return ""
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&"))
    return "&".join(f"{name}={value}" for name, value in pairs)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def authorization(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    access_key: str,
    secret_key: str,
    region: str,
    service: str,
    amz_date: str,
) -> str:
    """The ``Authorization`` header for a request sending exactly ``headers`` (``host``,
    ``x-amz-date`` and any ``x-amz-security-token`` among them) and ``body``. ``amz_date`` is the
    ``x-amz-date`` value, ``YYYYMMDDTHHMMSSZ``."""
    signed: dict[str, list[str]] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower not in UNSIGNED_HEADERS:
            signed.setdefault(lower, []).append(" ".join(value.split()))
    names = sorted(signed)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        (
            method.upper(),
            canonical_path(path),
            canonical_query(query),
            "".join(f"{name}:{','.join(signed[name])}\n" for name in names),
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        (ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest())
    )
    key = _hmac(("AWS4" + secret_key).encode(), amz_date[:8])
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
