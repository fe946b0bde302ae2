"""What the emulator's endpoints share: a threaded HTTP(S) server on 127.0.0.1 that answers fast."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl


class QuietServer(ThreadingHTTPServer):
    """A threaded server that does not print the clients it lost (a client's timeout, a killed runtime)."""

    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class QuietCloser:
    """Closes every idle kept-alive connection once no request is in flight: between two pings, as
    the service closes a frozen function's idle connections long before the next one comes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: set[Any] = set()
        self._in_flight = 0

    def busy(self, connection: Any) -> None:
        with self._lock:
            self._idle.discard(connection)
            self._in_flight += 1

    def done(self, kept: Any | None) -> None:
        """A request answered; ``kept``: its connection, kept alive, idle from now on (counted idle
        in the same step: counted after, it could miss the close of a ping that ended meanwhile,
        and the next ping would reuse it)."""
        with self._lock:
            if kept is not None:
                self._idle.add(kept)
            self._in_flight -= 1
            if self._in_flight:
                return
            idle, self._idle = self._idle, set()
        for connection in idle:
            with contextlib.suppress(OSError, ValueError):
                if select.select([connection], [], [], 0)[0]:
                    continue  # a request is arriving on it: not idle (closing it would lose that request)
                connection.shutdown(socket.SHUT_RDWR)


class FastHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no Nagle delay (without it each round trip waits ~40 ms), no access log."""

    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        """One request; after it, a kept-alive connection is idle (see :class:`QuietCloser`)."""
        self._in_flight = False
        try:
            super().handle_one_request()
        finally:
            if self._in_flight:
                kept = None if self.close_connection else self.connection
                self.server.quiet_closer.done(kept)  # type: ignore[attr-defined]

    def parse_request(self) -> bool:
        """A request came (its line read): in flight until answered."""
        closer: QuietCloser | None = getattr(self.server, "quiet_closer", None)
        if closer is not None:
            closer.busy(self.connection)
            self._in_flight = True
        return super().parse_request()

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        """Answer; a client that asked to close is told so (it then never reuses the connection)."""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class LoopbackEndpoint:
    """Serves ``handler`` on 127.0.0.1 (``port`` 0: any free one) from a background thread: over
    TLS with ``tls`` (each connection's handshake in its own thread, on its first read), and closing
    a kept-alive connection idle ``idle_timeout_s`` (as a service closes one while a function is
    frozen), or with ``close_when_quiet`` every idle one as soon as no request is in flight;
    without either, kept-alive connections stay open."""

    def __init__(
        self,
        handler: type[FastHandler],
        port: int = 0,
        *,
        tls: ssl.SSLContext | None = None,
        idle_timeout_s: float | None = None,
        close_when_quiet: bool = False,
        **attributes: Any,
    ) -> None:
        if idle_timeout_s is not None:
            handler = type(handler.__name__, (handler,), {"timeout": idle_timeout_s})
        self.server = QuietServer(("127.0.0.1", port), handler)
        if close_when_quiet:
            self.server.quiet_closer = QuietCloser()  # type: ignore[attr-defined]
        for name, value in attributes.items():
            setattr(self.server, name, value)
        if tls is not None:
            self.server.socket = tls.wrap_socket(
                self.server.socket, server_side=True, do_handshake_on_connect=False
            )
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
