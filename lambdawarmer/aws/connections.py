"""Connections with an absolute deadline: connect, TLS, send and a bounded answer, by one instant."""

from __future__ import annotations

import http.client
import os
import re
import time

from .errors import AwsError
from .watchdog import WATCHDOG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ssl import SSLContext


MAX_CONNECT_TIMEOUT_S = 3.0


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an ``http(s)://host[:port][/path]`` URL."""
    scheme, separator, rest = url.partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in ("http", "https"):
        raise AwsError("InvalidEndpoint", f"not an http(s) URL: {url!r}")
    authority, slash, path = rest.partition("/")
    found = re.fullmatch(r"(\[[^\]]*\]|[^:]*)(?::(\d+))?", authority)
    if found is None or not found.group(1):
        raise AwsError("InvalidEndpoint", f"no host in the URL {url!r}")
    port = int(found.group(2)) if found.group(2) else 443 if scheme == "https" else 80
    return scheme, found.group(1), port, (slash + path).rstrip("/")


_tls: list[SSLContext] = []


def tls_context() -> SSLContext:
    """One TLS context per process (loading the trust store costs ~10 ms, 0.15 s at 128 MB)."""
    if not _tls:
        import ssl

        _tls.append(ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or None))
    return _tls[0]


class CallFailed(Exception):
    """A connection or an exchange that failed: ``kind`` is ``timeout`` (the deadline passed),
    ``connect``, ``tls``, ``reset`` (closed before any answer), ``closed`` (broken during the
    answer) or ``too large``; ``why`` says it in words (never with a body)."""

    def __init__(self, kind: str, why: str) -> None:
        super().__init__(why)
        self.kind = kind
        self.why = why


def connect(scheme: str, host: str, port: int, deadline: float) -> http.client.HTTPConnection:
    """A connection to ``host``, connected (and its TLS handshake done) by ``deadline``
    (``time.monotonic()``), in at most :data:`MAX_CONNECT_TIMEOUT_S`; raises :class:`CallFailed`."""
    bare_host = host.strip("[]")
    remaining_s = min(MAX_CONNECT_TIMEOUT_S, deadline - time.monotonic())
    if remaining_s <= 0:
        raise CallFailed("timeout", "no time left to connect")
    connection = http.client.HTTPConnection(bare_host, port, timeout=remaining_s)
    try:
        connection.connect()
    except TimeoutError:
        raise CallFailed("timeout", "connect timed out") from None
    except OSError as error:
        raise CallFailed("connect", f"could not connect: {error.strerror or error}") from None
    if scheme == "https":
        watched = WATCHDOG.watch(connection.sock, min(deadline, time.monotonic() + MAX_CONNECT_TIMEOUT_S))
        try:
            tls = tls_context().wrap_socket(
                connection.sock, server_hostname=bare_host, do_handshake_on_connect=False
            )
            connection.sock = watched.sock = tls
            if watched.cut:  # cut while the plain socket was being wrapped: nothing shut the TLS one
                raise TimeoutError
            tls.do_handshake()
        except OSError as error:
            connection.close()
            if watched.cut or isinstance(error, TimeoutError):
                raise CallFailed("timeout", "the TLS handshake timed out") from None
            raise CallFailed("tls", f"TLS failed: {getattr(error, 'reason', None) or error}") from None
        finally:
            WATCHDOG.release(watched)
    return connection


def exchange(
    connection: http.client.HTTPConnection, request: Request, deadline: float, max_bytes: int
) -> tuple[int, dict[str, str], bytes, bool]:
    """(status, headers, body, whether the connection may be kept) of ``request``: all of it by
    ``deadline``, whatever the server does (the watchdog cuts the socket then), and no body longer
    than ``max_bytes`` held; raises :class:`CallFailed`."""
    if deadline - time.monotonic() <= 0 or connection.sock is None:
        raise CallFailed("timeout", "no time left")
    connection.sock.settimeout(deadline - time.monotonic())
    watched = WATCHDOG.watch(connection.sock, deadline)
    answered = False
    try:
        connection.request(request.method, request.target, body=request.body, headers=request.headers)
        answer = connection.getresponse()
        answered = True
        length = answer.getheader("content-length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise CallFailed("too large", f"an answer of {length} bytes, over the {max_bytes} read")
        chunks, size = [], 0
        while chunk := answer.read1(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise CallFailed("too large", f"an answer longer than the {max_bytes} bytes read")
            chunks.append(chunk)
        answer.close()  # all of it read: the connection may send the next request
    except (OSError, http.client.HTTPException) as error:
        if watched.cut or isinstance(error, TimeoutError):
            raise CallFailed("timeout", "timed out") from None
        if not answered and isinstance(
            error, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
        ):
            raise CallFailed("reset", "closed before any answer") from None  # RemoteDisconnected too
        raise CallFailed("closed", "the connection broke") from None
    finally:
        WATCHDOG.release(watched)
    if watched.cut:  # the cut can also look like an answer that ended early
        raise CallFailed("timeout", "timed out")
    headers = {name.lower(): value for name, value in answer.getheaders()}
    return answer.status, headers, b"".join(chunks), not answer.will_close


class Request:
    __slots__ = ("body", "headers", "method", "target")

    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
