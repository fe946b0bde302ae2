"""Where a warm-up schedule sends its ping: the function itself (Scheduler's Lambda target), or, for
a function that isolates tenants, Scheduler's universal target calling Lambda's Invoke with a tenant
id (the Lambda target names none, and Lambda refuses an untenanted invoke of such a function).

The universal target ``arn:<partition>:scheduler:::aws-sdk:lambda:invoke`` takes the API's request
as its input: ``{"FunctionName", "InvocationType", "TenantId", "Payload"}``, the ping as the payload's
text; its role needs ``lambda:InvokeFunction`` on the function, as the Lambda target's does.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from lambdawarmer.settings import parse_tenants

from .deployed import Deployed

INVOKE_ACTION = "aws-sdk:lambda:invoke"


def universal_invoke_arn(function_arn: str) -> str:
    """Scheduler's universal target for Lambda's Invoke, in the function's partition."""
    return f"arn:{function_arn.split(':')[1]}:scheduler:::{INVOKE_ACTION}"


def ping_target(deployed: Deployed, ping: str, tenants: dict[str, int] | None) -> tuple[str, str]:
    """The schedule's target ARN and input for ``ping`` (its JSON text); with ``tenants``, the invoke
    names the first of them (its environment warms them all)."""
    if not tenants:
        return deployed.target_arn, ping
    request = {
        "FunctionName": deployed.target_arn,
        "InvocationType": "Event",
        "TenantId": next(iter(tenants)),
        "Payload": ping,
    }
    return universal_invoke_arn(deployed.arn), json.dumps(request, separators=(",", ":"))


def scheduled_ping(target: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """What a schedule's ``Target`` invokes, the tenant it names, and the ping's text (None when it
    has none): either kind of target."""
    arn, text = target.get("Arn"), target.get("Input")
    if not (isinstance(arn, str) and arn.endswith(f":::{INVOKE_ACTION}")):
        return arn, None, text
    try:
        request = json.loads(text or "null")
    except ValueError:
        return None, None, None
    if not isinstance(request, dict):
        return None, None, None
    payload = request.get("Payload")
    if payload is not None and not isinstance(payload, str):  # given as JSON itself, not as its text
        payload = json.dumps(payload)
    return request.get("FunctionName"), request.get("TenantId"), payload


def tenants_argument(text: str) -> dict[str, int]:
    """``--tenants acme=3,globex=2``, checked as the layer checks ``WARMER_TENANTS``."""
    try:
        return parse_tenants(text)
    except ValueError as wrong:
        raise argparse.ArgumentTypeError(f"expected {wrong}") from None
