"""Durable functions: the ping inside a durable execution's envelope, and the answer that ends it.

Lambda does not hand a durable function the payload it was invoked with: every invocation starts
(or resumes) a durable execution, and the handler gets an envelope, ``{"DurableExecutionArn",
"CheckpointToken", "InitialExecutionState": {"Operations": [...]}}``, whose ``EXECUTION`` operation
(its id is the last part of the execution's ARN; else the only one of that type) carries the
payload as JSON text in ``ExecutionDetails.InputPayload``. The handler answers with the execution's outcome,
``{"Status": "SUCCEEDED", "Result": "<JSON text>"}``, and a synchronous caller gets the result.

So a ping to a durable function is read from inside the envelope and answered as the execution's
result: the execution ends at once, SUCCEEDED, its result the report; the workflow never runs and
nothing is checkpointed. (The durable SDK answers a handler that returns at once the same way.)
The SDK's local test runner hands the handler the envelope as an object with ``to_json_dict()``;
it is read the same way.
"""

from __future__ import annotations

import json

from .fields import ENVELOPE_FIELD

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

EXECUTION_OPERATION = "EXECUTION"
SUCCEEDED = "SUCCEEDED"


def execution_input(envelope: Any) -> object | None:
    """The payload the durable execution in ``envelope`` was started with (parsed JSON), or None
    when ``envelope`` is not a durable invocation or its payload is not on this page. Never raises."""
    try:
        if not isinstance(envelope, dict):
            envelope = envelope.to_json_dict()  # the durable SDK's test runner: an object
        execution_id = envelope[ENVELOPE_FIELD].rsplit("/", 1)[-1]
        executions = [
            operation
            for operation in envelope["InitialExecutionState"]["Operations"]
            if operation.get("Type") == EXECUTION_OPERATION
        ]
        # The one whose id ends the ARN (the SDK's reading), else the only execution operation.
        named = [operation for operation in executions if operation.get("Id") == execution_id]
        chosen = named or (executions if len(executions) == 1 else [])
        if not chosen:
            return None
        payload = chosen[0]["ExecutionDetails"]["InputPayload"]
        return json.loads(payload) if payload and payload.strip() else None
    except Exception:  # anything else is not ours to judge: the handler gets it untouched
        return None


def execution_result(result: object) -> dict[str, str]:
    """The answer that ends a durable execution at once, SUCCEEDED, with ``result``."""
    return {"Status": SUCCEEDED, "Result": json.dumps(result, separators=(",", ":"))}
