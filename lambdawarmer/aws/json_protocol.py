"""The AWS JSON protocol: one operation of CloudWatch or CodeDeploy, its answer parsed."""

from __future__ import annotations

import json

from .errors import AwsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from .client import AwsClient


CLOUDWATCH_TARGET = "GraniteServiceVersion20100801"
CODEDEPLOY_TARGET = "CodeDeploy_20141006"


def json_call(
    client: AwsClient,
    target: str,
    request: Mapping[str, object],
    *,
    json_version: str = "1.1",
    query_compatible: bool = False,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """One operation of a service speaking the AWS JSON protocol (``X-Amz-Target: Prefix.Operation``):
    the answer, parsed."""
    headers = {"Content-Type": f"application/x-amz-json-{json_version}", "X-Amz-Target": target}
    if query_compatible:
        headers["x-amzn-query-mode"] = "true"
    response = client.call(
        "POST",
        "/",
        headers=headers,
        body=json.dumps(request, separators=(",", ":")).encode(),
        timeout_s=timeout_s,
    )
    try:
        answer = json.loads(response.body or b"{}")
    except ValueError:
        raise AwsError("ResponseParserError", f"{target}: the answer is not JSON") from None
    return answer if isinstance(answer, dict) else {}


def cloudwatch_call(
    client: AwsClient, operation: str, request: Mapping[str, object], timeout_s: float | None = None
) -> dict[str, Any]:
    """One CloudWatch operation in its JSON protocol (awsJson1_0, query-compatible): the answer."""
    return json_call(
        client,
        f"{CLOUDWATCH_TARGET}.{operation}",
        request,
        json_version="1.0",
        query_compatible=True,
        timeout_s=timeout_s,
    )


def codedeploy_call(
    client: AwsClient, operation: str, request: Mapping[str, object], timeout_s: float | None = None
) -> dict[str, Any]:
    """One CodeDeploy operation (awsJson1_1): the answer."""
    return json_call(client, f"{CODEDEPLOY_TARGET}.{operation}", request, timeout_s=timeout_s)
