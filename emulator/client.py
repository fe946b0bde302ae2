"""A boto3 lambda client for an emulator's Invoke API: local credentials, no retries, room for bursts,
a new connection per request."""

from __future__ import annotations

from typing import Any

from .signatures import ACCESS_KEY, SECRET_KEY
from .tls import ca_bundle

REGION = "us-east-1"


def invoke_client(url: str, read_timeout: float = 120.0, pool_size: int = 64) -> Any:
    """boto3's lambda client pointed at ``url`` (imported here: the emulator itself does not need boto3),
    trusting the emulator's certificate when ``url`` is HTTPS.

    Each request asks the endpoint to close its connection once answered: the emulator closes idle
    connections between pings (see ``emulator.http.QuietCloser``), and a client that reused one could
    send its next request just as it is closed, a race that loses the request where no retry is made
    (a CI run lost a bench ping to it: SSLError, EOF). A driver's own connections are not what
    is measured; the function's are."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "lambda",
        endpoint_url=url,
        verify=str(ca_bundle()) if url.startswith("https:") else None,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(
            retries={"total_max_attempts": 1}, read_timeout=read_timeout, max_pool_connections=pool_size
        ),
    )
    client.meta.events.register("before-send.lambda", _close_after_answer)
    return client


def _close_after_answer(request: Any, **_: Any) -> None:
    request.headers["Connection"] = "close"
