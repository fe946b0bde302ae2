"""boto3 clients with bounded timeouts and no retries, imported only when first needed.

``import boto3`` costs about 100 ms, the very cold start we exist to remove, so nothing imports it
until a fan-out or the PutMetricData mode asks for a client. Endpoints, region and credentials come
from the standard AWS configuration (``AWS_ENDPOINT_URL_LAMBDA`` and friends work unchanged).
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_CONNECT_TIMEOUT_MS = 3_000


def bounded_client(service: str, timeout_ms: int, pool_size: int) -> Any:
    """A client for ``service`` whose every call gives up after ``timeout_ms`` and is never retried."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=min(timeout_ms, MAX_CONNECT_TIMEOUT_MS) / 1000,
        read_timeout=timeout_ms / 1000,
        retries={"total_max_attempts": 1},
        max_pool_connections=pool_size,
    )
    return boto3.session.Session().client(service, config=config)


class LazyClient:
    """One bounded client per execution environment, made (and boto3 imported) on first use."""

    __slots__ = ("_client", "_lock", "_pool_size", "_service", "_timeout_ms")

    def __init__(self, service: str, timeout_ms: int, pool_size: int) -> None:
        self._service = service
        self._timeout_ms = timeout_ms
        self._pool_size = pool_size
        self._client: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        """The client; thread-safe, so concurrent first uses still make only one."""
        with self._lock:
            if self._client is None:
                self._client = bounded_client(self._service, self._timeout_ms, self._pool_size)
            return self._client


def error_reason(error: BaseException) -> str:
    """A short, readable reason for a failed AWS call: the service's error code when there is one."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = response["Error"].get("Code", "Error")
        message = response["Error"].get("Message", "")
        reason = f"{code}: {message}" if message else str(code)
    else:
        reason = f"{type(error).__name__}: {error}"
    return reason[:300]
