"""The Lambda Runtime API of one execution environment, as awslambdaric calls it.

``GET /next`` blocks until the environment is given an invocation; responses, invocation errors and
init errors are handed to the environment. ``/next`` never answers with an error status (that
crashes the native client): an environment is stopped by ending its process while ``/next`` waits.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .environment import Environment

PREFIX = "/2018-06-01/runtime"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    environment: Environment

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the runtime's process was ended mid-request: nothing to report


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # without it each round trip waits ~40 ms for a delayed ACK
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path != f"{PREFIX}/invocation/next":
            self._reply(404, b'{"errorType":"NotFound"}')
            return
        invocation = self.server.environment.next_invocation()
        self._reply(200, invocation.event, invocation.runtime_headers())

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        environment = self.server.environment
        parts = self.path[len(PREFIX) :].strip("/").split("/")
        if parts == ["init", "error"]:
            environment.init_failed(_error(body, self.headers.get("Lambda-Runtime-Function-Error-Type")))
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] == "response":
            environment.responded(parts[1], body, error=None)
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] == "error":
            environment.responded(parts[1], body, error=_error(body, None))
        else:
            self._reply(404, b'{"errorType":"NotFound"}')
            return
        self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})


def _error(body: bytes, error_type: str | None) -> dict[str, Any]:
    try:
        error = json.loads(body)
    except ValueError:
        error = {}
    if not isinstance(error, dict):
        error = {}
    return {"errorType": error.get("errorType") or error_type or "Unknown", **error}


class RuntimeApi:
    """A Runtime API endpoint on 127.0.0.1 for one environment."""

    def __init__(self, environment: Environment) -> None:
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.environment = environment
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
