"""The Lambda Invoke API on 127.0.0.1, as boto3's lambda client calls it (``AWS_ENDPOINT_URL_LAMBDA``).

``POST /2015-03-31/functions/{name}/invocations[?Qualifier=q]``, the name being a function name,
``name:qualifier``, a partial ARN or a full ARN; ``X-Amz-Invocation-Type`` RequestResponse (200),
Event (202) or DryRun (204). Function errors come back as 200 with ``X-Amz-Function-Error``;
throttling as 429 TooManyRequestsException; an unknown function or qualifier as 404. Every request
must carry a valid Signature Version 4 made with a key the emulator knows (emulator.signatures),
else it is refused with 403 as Lambda refuses it.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlparse

from .environment import Invocation
from .faults import FaultRule
from .function import FunctionSpec
from .http import FastHandler, LoopbackEndpoint
from .signatures import SignatureError, check_signature
from .tls import server_context

FUNCTION_ERRORS = {"error", "timeout", "init_error", "exit_error"}
MAX_PAYLOAD = 6 * 1024 * 1024


class LambdaService(Protocol):
    """What the Invoke API needs of the service behind it (emulator.service's LambdaEmulator has it)."""

    function: FunctionSpec
    credentials: dict[str, str]
    faults: FaultRule | None
    latency_ms: float
    lock: threading.Lock
    refused_requests: list[str]
    api_requests: list[tuple[str, str | None]]

    def invoke(
        self,
        event: object = None,
        qualifier: str | None = None,
        invocation_type: str = "RequestResponse",
        payload: bytes | None = None,
        client_context: str | None = None,
        *,
        tenant: str | None = None,
    ) -> Invocation: ...


class ApiError(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def split_name(name: str) -> tuple[str, str | None]:
    """(function name, qualifier in the name) from any of the forms Lambda accepts."""
    parts = name.split(":")
    if parts[0] == "arn" and len(parts) in (7, 8) and parts[5] == "function":
        return parts[6], (parts[7] if len(parts) == 8 else None)
    if len(parts) in (3, 4) and parts[1] == "function":
        return parts[2], (parts[3] if len(parts) == 4 else None)
    if len(parts) in (1, 2):
        return parts[0], (parts[1] if len(parts) == 2 else None)
    raise ApiError(400, "InvalidParameterValueException", f"invalid function name: {name}")


class _Handler(FastHandler):
    def do_POST(self) -> None:
        emulator: LambdaService = self.server.emulator  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(emulator.latency_ms / 2000)
        fault = emulator.faults(body) if emulator.faults else None
        try:
            if fault is not None:
                time.sleep(fault.hang_s)
                if fault.status is not None:
                    raise ApiError(fault.status, fault.error_type, fault.message)
            self._check_signature(emulator, body)
            status, headers, answer = self._invoke(emulator, body)
        except ApiError as error:
            status = error.status
            headers = {"x-amzn-ErrorType": error.error_type, "Content-Type": "application/json"}
            answer = json.dumps({"Type": "User", "message": error.message}).encode()
        time.sleep(emulator.latency_ms / 2000)
        self.reply(status, answer, headers)

    def _check_signature(self, emulator: LambdaService, body: bytes) -> None:
        """Refuse, as Lambda does (403), a request not signed with a key the emulator knows."""
        try:
            check_signature(
                "POST",
                self.path,
                dict(self.headers.items()),
                body,
                secrets=emulator.credentials,
                service="lambda",
                region=emulator.function.region,
            )
        except SignatureError as refused:
            with emulator.lock:
                emulator.refused_requests.append(refused.error_type)
            raise ApiError(403, refused.error_type, refused.message) from None

    def _tenant(self, emulator: LambdaService) -> str | None:
        """The tenant the invoke names: required by a function that isolates tenants, refused by
        one that does not (Lambda's error type for both is assumed: its documentation names none)."""
        tenant = self.headers.get("X-Amz-Tenant-Id")
        if emulator.function.tenant_isolation and not tenant:
            message = "The function isolates tenants: the invoke must name one (X-Amz-Tenant-Id)."
            raise ApiError(400, "InvalidParameterValueException", message)
        if tenant and not emulator.function.tenant_isolation:
            message = "The function does not isolate tenants: the invoke must name none."
            raise ApiError(400, "InvalidParameterValueException", message)
        return tenant

    def _invoke(self, emulator: LambdaService, body: bytes) -> tuple[int, dict[str, str], bytes]:
        url = urlparse(self.path)
        parts = url.path.split("/")
        if len(parts) != 5 or parts[1:3] != ["2015-03-31", "functions"] or parts[4] != "invocations":
            raise ApiError(404, "UnknownOperationException", f"unknown operation {url.path}")
        name, in_name = split_name(unquote(parts[3]))
        in_query = parse_qs(url.query).get("Qualifier", [None])[0]
        if in_name and in_query and in_name != in_query:
            raise ApiError(
                400,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified qualifier.",
            )
        qualifier = in_name or in_query
        if emulator.function.durable and qualifier is None:
            raise ApiError(
                400,
                "InvalidParameterValueException",
                "A durable function is invoked by a qualified ARN: name a version or an alias.",
            )
        with emulator.lock:
            emulator.api_requests.append((name, qualifier))
        if name != emulator.function.name:
            raise ApiError(
                404,
                "ResourceNotFoundException",
                f"Function not found: {emulator.function.arn[: -len(emulator.function.name)]}{name}",
            )
        if len(body) > MAX_PAYLOAD:
            raise ApiError(
                413,
                "RequestTooLargeException",
                "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
            )
        try:
            json.loads(body or b"{}")
        except ValueError as error:
            raise ApiError(
                400, "InvalidRequestContentException", f"Could not parse request body into json: {error}"
            ) from None
        invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise ApiError(
                400, "InvalidParameterValueException", f"invalid invocation type {invocation_type}"
            )
        tenant = self._tenant(emulator)
        invocation = emulator.invoke(
            qualifier=qualifier,
            invocation_type=invocation_type,
            payload=body or b"{}",
            client_context=self.headers.get("X-Amz-Client-Context"),
            tenant=tenant,
        )
        if invocation.status == "not_found":
            raise ApiError(404, "ResourceNotFoundException", f"Function not found: {invocation.invoked_arn}")
        if invocation.status == "throttled":
            raise ApiError(429, "TooManyRequestsException", "Rate Exceeded.")
        if invocation_type == "Event":
            return 202, {}, b""
        if invocation_type == "DryRun":
            return 204, {}, b""
        headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": invocation.version}
        if invocation.status in FUNCTION_ERRORS:
            headers["X-Amz-Function-Error"] = "Unhandled"
        return 200, headers, invocation.payload


def serve_invoke_api(
    emulator: LambdaService,
    port: int = 0,
    *,
    tls: bool = True,
    idle_timeout_s: float | None = None,
    close_when_quiet: bool = False,
) -> LoopbackEndpoint:
    """The Invoke API of ``emulator`` on 127.0.0.1: over HTTPS, as Lambda's is (the certificate of
    tls.py), unless ``tls`` is False; ``idle_timeout_s``: see :class:`LoopbackEndpoint`."""
    context = server_context() if tls else None
    return LoopbackEndpoint(
        _Handler,
        port,
        tls=context,
        idle_timeout_s=idle_timeout_s,
        close_when_quiet=close_when_quiet,
        emulator=emulator,
    )
