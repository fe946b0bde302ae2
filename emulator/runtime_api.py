"""The Lambda Runtime API of one execution environment, as awslambdaric calls it.

``GET /next`` blocks until the environment is given an invocation; responses, invocation errors and
init errors are handed to the environment. ``/next`` never answers with an error status (that
crashes the native client): an environment is stopped by ending its process while ``/next`` waits.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from .http import FastHandler, LoopbackEndpoint

PREFIX = "/2018-06-01/runtime"


class NextInvocation(Protocol):
    """What ``/next`` hands the runtime: the event and its headers."""

    event: bytes

    def runtime_headers(self) -> dict[str, str]: ...


class RuntimeSide(Protocol):
    """What the Runtime API needs of an execution environment (emulator.environment has it)."""

    def next_invocation(self) -> NextInvocation: ...

    def responded(self, request_id: str, body: bytes, error: dict[str, Any] | None) -> None: ...

    def init_failed(self, error: dict[str, Any]) -> None: ...


class _Handler(FastHandler):
    def _environment(self) -> RuntimeSide:
        return self.server.environment  # type: ignore[attr-defined, no-any-return]

    def do_GET(self) -> None:
        if self.path != f"{PREFIX}/invocation/next":
            self.reply(404, b'{"errorType":"NotFound"}')
            return
        invocation = self._environment().next_invocation()
        self.reply(200, invocation.event, invocation.runtime_headers())

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        environment = self._environment()
        parts = self.path[len(PREFIX) :].strip("/").split("/")
        if parts == ["init", "error"]:
            environment.init_failed(_error(body, self.headers.get("Lambda-Runtime-Function-Error-Type")))
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] == "response":
            environment.responded(parts[1], body, error=None)
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] == "error":
            environment.responded(parts[1], body, error=_error(body, None))
        else:
            self.reply(404, b'{"errorType":"NotFound"}')
            return
        self.reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})


def _error(body: bytes, error_type: str | None) -> dict[str, Any]:
    try:
        error = json.loads(body)
    except ValueError:
        error = {}
    if not isinstance(error, dict):
        error = {}
    return {"errorType": error.get("errorType") or error_type or "Unknown", **error}


def serve_runtime_api(environment: RuntimeSide) -> LoopbackEndpoint:
    """A Runtime API endpoint on 127.0.0.1 for ``environment``."""
    return LoopbackEndpoint(_Handler, environment=environment)
