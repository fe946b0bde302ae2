"""Durable functions: a ping never starts or runs the workflow; it ends the durable execution it
started at once, SUCCEEDED, with the report as its result. With the real durable SDK: under its own
local test runner (the decorator), and in the emulator under the layer and the real awslambdaric."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_durable_execution_sdk_python
import botocore.exceptions
import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.lambda_service import InvocationStatus
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

import lambdawarmer
from emulator import FunctionSpec, LambdaEmulator
from lambdawarmer.protocol.durable import execution_input, execution_result

from .conftest import lambda_client, write_function

Start = Callable[..., LambdaEmulator]

WORKFLOW = """
from aws_durable_execution_sdk_python import durable_execution

@durable_execution
def handler(event, context):
    print("WORKFLOW RAN", flush=True)
    return {"did": event}
"""


def test_a_ping_ends_the_durable_execution_without_running_the_workflow() -> None:
    ran: list[Any] = []

    @lambdawarmer.warmer
    @durable_execution
    def handler(event: Any, context: DurableContext) -> dict[str, Any]:
        ran.append(event)
        doubled = context.step(lambda _: event["n"] * 2, name="double")
        return {"doubled": doubled}

    with DurableFunctionTestRunner(handler=handler) as runner:
        pinged = runner.run(input=json.dumps({"warmer": True}), execution_timeout=30)
        real = runner.run(input=json.dumps({"n": 21}), execution_timeout=30)
    assert pinged.status is InvocationStatus.SUCCEEDED
    report = json.loads(pinged.result)  # type: ignore[arg-type]
    assert (report["warmed"], report["source"], report["concurrency"]) == (True, "schedule", 1)
    assert pinged.operations == []  # nothing checkpointed
    assert real.status is InvocationStatus.SUCCEEDED
    assert json.loads(real.result) == {"doubled": 42}  # type: ignore[arg-type]
    assert [event["n"] for event in ran] == [21]  # the workflow ran for the real input only


def test_the_payload_is_read_from_the_execution_operation_only() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:orders:1/durable-execution/n/abc"
    execution = {"Id": "abc", "Type": "EXECUTION", "ExecutionDetails": {"InputPayload": '{"warmer": true}'}}
    step = {"Id": "s1", "Type": "STEP", "ExecutionDetails": {"InputPayload": '{"warmer": true}'}}
    envelope = {
        "DurableExecutionArn": arn,
        "CheckpointToken": "t",
        "InitialExecutionState": {"Operations": []},
    }
    assert execution_input({**envelope, "InitialExecutionState": {"Operations": [step, execution]}}) == {
        "warmer": True
    }
    assert execution_input({**envelope, "InitialExecutionState": {"Operations": [step]}}) is None
    renamed = {**execution, "Id": "other"}  # an id that is not the ARN's: the only execution operation
    assert execution_input({**envelope, "InitialExecutionState": {"Operations": [step, renamed]}}) == {
        "warmer": True
    }
    two = [renamed, {**renamed, "ExecutionDetails": {"InputPayload": "{}"}}]
    assert execution_input({**envelope, "InitialExecutionState": {"Operations": two}}) is None
    for broken in ({}, {"DurableExecutionArn": 7}, {**envelope, "InitialExecutionState": None}, "text", None):
        assert execution_input(broken) is None
    assert execution_result({"warmed": True}) == {"Status": "SUCCEEDED", "Result": '{"warmed":true}'}


@pytest.fixture
def durable_code(tmp_path: Path) -> Path:
    """A durable function's deployment package: its code and the durable SDK beside it."""
    code = write_function(tmp_path / "code", WORKFLOW)
    sdk = Path(aws_durable_execution_sdk_python.__file__).parent
    shutil.copytree(sdk, code / sdk.name, ignore=shutil.ignore_patterns("__pycache__"))
    return code


@pytest.mark.e2e
def test_under_the_layer_a_durable_function_is_warmed_n_of_n_and_its_workflow_never_runs(
    start_emulator: Start, durable_code: Path, layer_zip: Path
) -> None:
    function = FunctionSpec(
        name="orders",
        code=durable_code,
        handler="app.handler",
        layers=[layer_zip],
        environment={"AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper"},
        memory_mb=512,
        timeout_s=30,
        versions=["1"],
        aliases={"live": "1"},
        durable=True,
    )
    emulator = start_emulator(function)
    client = lambda_client(emulator)
    with pytest.raises(botocore.exceptions.ClientError, match="qualified ARN"):
        client.invoke(FunctionName="orders", Payload=b"{}")

    answer = client.invoke(FunctionName="orders:live", Payload=json.dumps({"warmer": True, "concurrency": 3}))
    report = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer
    assert (report["instances_warmed"], report["invocations_failed"]) == (3, 0)
    assert len({invocation.environment_id for invocation in emulator.invocations}) == 3
    assert all(b"DurableExecutionArn" in invocation.event for invocation in emulator.invocations)
    assert "WORKFLOW RAN" not in emulator.output()

    real = client.invoke(FunctionName="orders:live", Payload=json.dumps({"order": 7}))
    assert json.loads(real["Payload"].read()) == {"did": {"order": 7}}
    assert emulator.output().count("WORKFLOW RAN") == 1
