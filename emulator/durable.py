"""Durable functions as Lambda runs them, without the durable service: each invocation starts a
new durable execution, the function gets the envelope (its input in the ``EXECUTION`` operation),
and a synchronous caller gets the execution's result.

Only executions that end in their first invocation are run (a ping's do): the emulator has no
checkpoint service, so an execution that checkpoints or waits (``PENDING``) ends as an error that
says so. Lambda invokes a durable function only by a qualified ARN (a version or an alias;
the Invoke API refuses the rest).
"""

from __future__ import annotations

import json
import uuid

from .environment import Invocation
from .function import FunctionSpec


def start_execution(function: FunctionSpec, version: str, payload: bytes) -> bytes:
    """What the function is handed for an invocation with ``payload``: a new execution's first page."""
    execution_id = uuid.uuid4().hex
    arn = f"{function.arn}:{version}/durable-execution/{uuid.uuid4().hex[:12]}/{execution_id}"
    execution = {
        "Id": execution_id,
        "Type": "EXECUTION",
        "Status": "STARTED",
        "ExecutionDetails": {"InputPayload": payload.decode("utf-8", "replace")},
    }
    started = {
        "DurableExecutionArn": arn,
        "CheckpointToken": uuid.uuid4().hex,
        "InitialExecutionState": {"Operations": [execution], "NextMarker": ""},
    }
    return json.dumps(started).encode()


def end_execution(invocation: Invocation) -> None:
    """Turn the function's answer (the execution's outcome) into what the caller gets."""
    if invocation.status != "success":
        return
    try:
        outcome = json.loads(invocation.payload)
        status = outcome["Status"]
    except (ValueError, TypeError, KeyError):
        invocation.status = "error"
        invocation.payload = _error("Runtime.InvalidDurableOutput", "not a durable execution's outcome")
        return
    if status == "SUCCEEDED":
        result = outcome.get("Result")
        invocation.payload = result.encode() if isinstance(result, str) else b"null"
    elif status == "FAILED":
        error = outcome.get("Error") or {}
        invocation.status = "error"
        invocation.payload = _error(error.get("ErrorType", "Error"), error.get("ErrorMessage", ""))
    else:
        invocation.status = "error"
        invocation.payload = _error("Emulator.DurableServiceMissing", f"the execution is {status}")


def _error(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()
