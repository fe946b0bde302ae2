"""A failed AWS call, named as botocore names it: its error, code and reason; the error an answer carries."""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


class AwsError(Exception):
    """A call that failed: ``code`` is what botocore names it (the service's error code, or
    ``EndpointConnectionError``, ``ConnectTimeoutError``, ``ReadTimeoutError``...), ``status`` the
    HTTP status when an answer came."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status


def error_code(error: BaseException) -> str:
    """The AWS error code of a failed call (``AccessDeniedException``...), else the exception's type name."""
    return error.code if isinstance(error, AwsError) else type(error).__name__


def error_reason(error: BaseException) -> str:
    """A short, readable reason for a failed call: ``Code: message``, at most 300 characters."""
    return (str(error) if isinstance(error, AwsError) else f"{type(error).__name__}: {error}")[:300]


def service_error(status: int, headers: Mapping[str, str], body: bytes) -> AwsError:
    """The error an answer of ``status`` carries, named as botocore names it."""
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    code = (
        headers.get("x-amzn-query-error", "").split(";")[0]  # CloudWatch's JSON protocol: the query code
        or headers.get("x-amzn-errortype", "").split(":")[0]
        or str(data.get("__type") or data.get("code") or data.get("Code") or "").rsplit("#", 1)[-1]
    )
    message = data.get("message") or data.get("Message") or ""
    if not code and body.lstrip().startswith(b"<"):  # an XML error (the query protocol's)
        found = {tag: re.search(rf"<{tag}>([^<]*)</{tag}>".encode(), body) for tag in ("Code", "Message")}
        code = found["Code"].group(1).decode(errors="replace") if found["Code"] else ""
        message = found["Message"].group(1).decode(errors="replace") if found["Message"] else ""
    if not code:
        code = str(status)
        message = message or body[:100].decode(errors="replace")
    return AwsError(code, str(message), status)
