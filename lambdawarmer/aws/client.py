"""Signed calls to one service on kept-alive connections, and one such client per environment."""

from __future__ import annotations

import select
import threading
import time

from .connections import CallFailed, Request, connect, exchange, split_url
from .credentials import CREDENTIALS_TIMEOUT_S, CredentialSource
from .endpoints import endpoint_url, region
from .errors import AwsError, service_error
from .sigv4 import authorization

TYPE_CHECKING = False
if TYPE_CHECKING:
    import http.client
    from collections.abc import Mapping

    from .endpoints import Service


MAX_IDLE_S = 340.0
"""A kept-alive connection idle longer is not reused: NAT gateways and Lambda's network drop idle
flows after 350 s without a word, and a request sent into one would wait out its whole timeout."""


class Response:
    """What a call got back: status, headers (lower-case names) and body; ``sent_at``: when the
    request left (``time.monotonic()``), its connection ready (a new one's TLS handshake done)."""

    __slots__ = ("body", "headers", "sent_at", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes, sent_at: float) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.sent_at = sent_at


class _Idle:
    __slots__ = ("connection", "since")

    def __init__(self, connection: http.client.HTTPConnection) -> None:
        self.connection = connection
        self.since = time.monotonic()

    def usable(self) -> bool:
        """Still open and fresh: idle less than :data:`MAX_IDLE_S`, and not readable while idle
        (readable means closed by the service, or junk)."""
        sock = self.connection.sock
        return (
            sock is not None
            and time.monotonic() - self.since < MAX_IDLE_S
            and not select.select([sock], [], [], 0)[0]
        )


class AwsClient:
    """Signed calls to one service, on kept-alive connections; safe to use from many threads."""

    __slots__ = (
        "_credentials",
        "_idle",
        "_lock",
        "base_path",
        "handshakes_done",
        "host",
        "host_header",
        "pool_size",
        "port",
        "region",
        "scheme",
        "service",
        "timeout_s",
        "url",
    )

    def __init__(self, service: Service, timeout_ms: int, pool_size: int) -> None:
        self.service = service
        self.timeout_s = timeout_ms / 1000
        self.pool_size = pool_size
        self.region = region()
        self.url = endpoint_url(service, self.region)
        self.scheme, self.host, self.port, self.base_path = split_url(self.url)
        default_port = 443 if self.scheme == "https" else 80
        self.host_header = self.host if self.port == default_port else f"{self.host}:{self.port}"
        self._credentials = CredentialSource()
        self.handshakes_done = 0
        """New HTTPS connections opened so far (a TLS handshake each)."""
        self._idle: list[_Idle] = []
        self._lock = threading.Lock()

    def call(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        timeout_s: float | None = None,
    ) -> Response:
        """Send one signed request and read its whole answer within ``timeout_s`` (at most the
        client's timeout). A 2xx answer is returned; anything else raises :class:`AwsError`."""
        started = time.monotonic()
        limit_s = self.timeout_s if timeout_s is None else max(0.001, min(timeout_s, self.timeout_s))
        credentials = self._credentials.get(min(limit_s, CREDENTIALS_TIMEOUT_S))
        target = self.base_path + path + (f"?{query}" if query else "")
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        signed = {"host": self.host_header, "x-amz-date": amz_date, **(headers or {})}
        if credentials.token:
            signed["x-amz-security-token"] = credentials.token
        signed["Authorization"] = authorization(
            method=method,
            path=self.base_path + path,
            query=query,
            headers=signed,
            body=body,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            region=self.region,
            service=self.service.signing_name,
            amz_date=amz_date,
        )
        request = Request(method, target, signed, body)
        deadline = started + limit_s
        while True:
            connection, reused = self._take(deadline)
            sent_at = time.monotonic()
            try:
                status, answer_headers, answer_body, keep = exchange(
                    connection, request, deadline, self.service.max_answer_bytes
                )
            except CallFailed as failed:
                connection.close()
                if failed.kind == "reset" and reused:
                    continue  # the service closed that kept-alive connection: the request never reached it
                raise self._error(failed) from None
            except BaseException:
                connection.close()
                raise
            break
        if keep:
            self._give(connection)
        else:
            connection.close()
        if not 200 <= status < 300:
            raise service_error(status, answer_headers, answer_body)
        return Response(status, answer_headers, answer_body, sent_at)

    def handshakes_for(self, calls: int) -> int:
        """How many TLS handshakes ``calls`` made at once would cost: one per connection they open
        beyond the kept-alive ones still usable (those the service closed meanwhile, say while the
        environment was frozen, are dropped now); none over plain HTTP."""
        with self._lock:
            stale = [idle for idle in self._idle if not idle.usable()]
            for idle in stale:
                idle.connection.close()
            self._idle = [idle for idle in self._idle if idle not in stale]
            kept = len(self._idle)
        return max(0, calls - kept) if self.scheme == "https" else 0

    def _error(self, failed: CallFailed) -> AwsError:
        """``failed`` as botocore names it."""
        url = f'endpoint URL: "{self.url}"'
        if failed.kind == "timeout":
            return AwsError("ReadTimeoutError", f"Read timeout on {url}")
        if failed.kind == "connect":
            return AwsError("EndpointConnectionError", f"Could not connect to the {url} ({failed.why})")
        if failed.kind == "tls":
            return AwsError("SSLError", f"SSL validation failed for {url}: {failed.why}")
        if failed.kind == "too large":
            return AwsError("ResponseTooLarge", f"{failed.why} from {url}")
        return AwsError(
            "ConnectionClosedError", f"Connection was closed before we received a valid response from {url}."
        )

    def _take(self, deadline: float) -> tuple[http.client.HTTPConnection, bool]:
        """A kept-alive connection still open (and whether it was reused), else a new one."""
        with self._lock:
            while self._idle:
                idle = self._idle.pop()
                if idle.usable():
                    return idle.connection, True
                idle.connection.close()
        try:
            connection = connect(self.scheme, self.host, self.port, deadline)
        except CallFailed as failed:
            if failed.kind == "timeout":
                raise AwsError(
                    "ConnectTimeoutError", f'Connect timeout on endpoint URL: "{self.url}"'
                ) from None
            raise self._error(failed) from None
        if self.scheme == "https":
            with self._lock:
                self.handshakes_done += 1
        return connection, False

    def _give(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.pool_size:
                self._idle.append(_Idle(connection))
                return
        connection.close()


class LazyClient:
    """One :class:`AwsClient` per execution environment, made on first use (a bad region or
    endpoint setting then fails that call, never the function's init)."""

    __slots__ = ("_client", "_lock", "_pool_size", "_service", "_timeout_ms")

    def __init__(self, service: Service, timeout_ms: int, pool_size: int) -> None:
        self._service = service
        self._timeout_ms = timeout_ms
        self._pool_size = pool_size
        self._client: AwsClient | None = None
        self._lock = threading.Lock()

    def get(self) -> AwsClient:
        """The client; thread-safe, so concurrent first uses still make only one."""
        with self._lock:
            if self._client is None:
                self._client = AwsClient(self._service, self._timeout_ms, self._pool_size)
            return self._client
