"""moto's server on 127.0.0.1, as the lab, the tests and the benchmarks start it.

It is the AWS control plane and the CloudWatch they talk to (moto, in this process's threads).
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any


class MotoServer:
    """moto's server on a free port of 127.0.0.1, started when made: ``url``; :meth:`stop` (or
    ``with``) ends it."""

    def __init__(self) -> None:
        import moto.backends
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
        # moto's server lists its own package folder (about 180 stats) twice a request to find the
        # service: listed once instead, a call took 3.5 ms of CPU (client and server) where it took 5.0.
        modules = tuple(moto.backends.list_of_moto_modules())
        moto.backends.list_of_moto_modules = lambda: modules
        self._server: Any = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        # moto's backends are not thread-safe, as AWS is: a fleet's parallel calls met "dictionary
        # changed size during iteration" in IAM (a 500). It answers one request at a time (its
        # Python holds the GIL while it works anyway).
        wsgi: Any = self._server._server
        wsgi.app = _one_at_a_time(wsgi.app)
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> MotoServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def _one_at_a_time(app: Any) -> Any:
    """The WSGI ``app``, its requests handled one after another (each answer read whole first)."""
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with lock:
            answer = app(environ, start_response)
            try:
                return [b"".join(answer)]
            finally:
                if hasattr(answer, "close"):
                    answer.close()

    return serve
