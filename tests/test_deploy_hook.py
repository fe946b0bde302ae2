"""Deploys without a cold-start storm: the new version warmed to what its alias needs, before traffic moves.

The function runs in the emulator with versions 1, 2 and 3 and alias ``live``; moto's server holds
CloudWatch; CodeDeploy's ``PutLifecycleEventHookExecutionStatus`` (which moto does not implement) is
recorded by a real HTTP endpoint on 127.0.0.1 that checks the call's shape and its signature. The hook
itself runs as a Lambda function in a second emulator, from the layer, as template.yaml deploys it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emulator import FunctionSpec, LambdaEmulator
from emulator.http import FastHandler, LoopbackEndpoint
from emulator.signatures import ACCESS_KEY, SECRET_KEY, SignatureError, check_signature

from .conftest import (
    OVERLAPPING_HANDLER,
    lambda_client,
    overlapping_requests,
    put_concurrent_executions,
    write_function,
)
from .control_plane import emptied

Start = Callable[..., LambdaEmulator]
TARGET = "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus"
VERSION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders:{}"
HOOK_EVENT = {"DeploymentId": "d-ABCDEF123", "LifecycleEventHookExecutionId": "hook-execution-1"}
SHARED = {"WARMER_AUTO_HEADROOM": "0", "WARMER_TOKEN": "a-token-for-the-deploy-hook"}
"""The function's settings the hook needs too (its ping format, auto's headroom)."""


class CodeDeployRecorder(FastHandler):
    """CodeDeploy's PutLifecycleEventHookExecutionStatus, as CodeDeploy checks it: shape and signature."""

    def do_POST(self) -> None:
        server: Any = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            check_signature(
                "POST",
                self.path,
                dict(self.headers.items()),
                body,
                secrets={ACCESS_KEY: SECRET_KEY},
                service="codedeploy",
                region="us-east-1",
            )
        except SignatureError as refused:
            self.reply(403, json.dumps({"__type": refused.error_type}).encode())
            return
        call = json.loads(body or b"{}")
        well_formed = (
            self.headers.get("X-Amz-Target") == TARGET
            and self.headers.get("Content-Type") == "application/x-amz-json-1.1"
            and set(call) == {"deploymentId", "lifecycleEventHookExecutionId", "status"}
            and call["status"] in ("Succeeded", "Failed")
        )
        if not well_formed:
            self.reply(400, b'{"__type":"InvalidLifecycleEventHookExecutionStatusException"}')
            return
        with server.lock:
            server.calls.append(call)
        if server.refuse:
            self.reply(500, b'{"__type":"InternalFailure"}')
            return
        answer = {"lifecycleEventHookExecutionId": call["lifecycleEventHookExecutionId"]}
        self.reply(200, json.dumps(answer).encode(), {"Content-Type": "application/x-amz-json-1.1"})


@pytest.fixture
def codedeploy() -> Any:
    endpoint = LoopbackEndpoint(CodeDeployRecorder, calls=[], lock=threading.Lock(), refuse=False)
    yield endpoint
    endpoint.close()


@pytest.fixture
def cloudwatch(cloudwatch_endpoint: str) -> Any:
    """moto's CloudWatch, emptied, holding what Lambda wrote: live's ConcurrentExecutions, 8 at its peak."""
    client = emptied(cloudwatch_endpoint)
    put_concurrent_executions(client, "orders", {4: 5.0, 3: 8.0, 2: 6.0}, alias="live")
    return client


def orders(start: Start, tmp_path: Path, layer_zip: Path, **options: Any) -> LambdaEmulator:
    code = write_function(tmp_path / "orders", OVERLAPPING_HANDLER)
    function = FunctionSpec(
        name="orders",
        code=code,
        handler="app.handler",
        layers=[layer_zip],
        environment={"AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper", **SHARED},
        timeout_s=10,
        versions=["1", "2", "3"],
        aliases={"live": "1"},
    )
    return start(function, **options)


def hook(
    start: Start,
    tmp_path: Path,
    layer_zip: Path,
    target: LambdaEmulator,
    cloudwatch_url: str,
    codedeploy_url: str,
    **variables: str,
) -> LambdaEmulator:
    """The hook function, as template.yaml deploys it: the layer's handler, no code of its own."""
    code = write_function(tmp_path / "hook", "# the handler is the layer's\n", module="index")
    function = FunctionSpec(
        name="CodeDeployHook_orders",
        code=code,
        handler="_lambdawarmer_layer.deploy_hook.handler",
        layers=[layer_zip],
        environment={
            "AWS_ENDPOINT_URL_LAMBDA": target.url,
            "AWS_ENDPOINT_URL_CLOUDWATCH": cloudwatch_url,
            "AWS_ENDPOINT_URL_CODEDEPLOY": codedeploy_url,
            "WARMER_HOOK_TARGET": VERSION_ARN.format(2),
            "WARMER_HOOK_ALIAS": "live",
            "WARMER_HOOK_CONCURRENCY": "2",
            **SHARED,
            **variables,
        },
        memory_mb=256,
        timeout_s=60,
    )
    return start(function)


def run_hook(emulator: LambdaEmulator, event: object = HOOK_EVENT) -> tuple[str | None, Any]:
    answer = lambda_client(emulator).invoke(FunctionName="CodeDeployHook_orders", Payload=json.dumps(event))
    return answer.get("FunctionError"), json.loads(answer["Payload"].read())


def environments_of(emulator: LambdaEmulator, version: str) -> int:
    return sum(environment.version == version for environment in emulator.all_environments)


def cold_among(emulator: LambdaEmulator, tmp_path: Path, name: str, parties: int = 8) -> int:
    """Cold starts among ``parties`` overlapping requests to ``live``."""
    before = len(emulator.invocations)
    answers = overlapping_requests(lambda_client(emulator), tmp_path / name, parties, Qualifier="live")
    assert not [a for a in answers if a["error"]], answers
    return sum(invocation.cold for invocation in emulator.invocations[before:])


@pytest.mark.e2e
def test_the_hook_warms_the_new_version_before_the_alias_moves_and_without_it_every_request_is_cold(
    start_emulator: Start,
    tmp_path: Path,
    layer_zip: Path,
    cloudwatch: Any,
    cloudwatch_endpoint: str,
    codedeploy: Any,
) -> None:
    target = orders(start_emulator, tmp_path, layer_zip)
    assert cold_among(target, tmp_path, "on-version-1") == 8  # live on version 1 serves 8 at once
    hook_function = hook(start_emulator, tmp_path, layer_zip, target, cloudwatch_endpoint, codedeploy.url)
    error, outcome = run_hook(hook_function)
    assert error is None, outcome
    assert (outcome["needed"], outcome["warmed"], outcome["status"]) == (8, 8, "Succeeded"), outcome
    assert "from live's peak of 8.0" in outcome["why"]
    assert codedeploy.server.calls == [
        {
            "deploymentId": "d-ABCDEF123",
            "lifecycleEventHookExecutionId": "hook-execution-1",
            "status": "Succeeded",
        }
    ]
    assert environments_of(target, "2") == 8
    target.function.aliases["live"] = "2"  # CodeDeploy moves the alias (AllAtOnce)
    assert cold_among(target, tmp_path, "on-version-2") == 0
    target.function.aliases["live"] = "3"  # the same deploy without the hook
    assert cold_among(target, tmp_path, "on-version-3") == 8


@pytest.mark.e2e
def test_fewer_than_needed_succeeds_by_default_and_fails_when_asked(
    start_emulator: Start,
    tmp_path: Path,
    layer_zip: Path,
    cloudwatch: Any,
    cloudwatch_endpoint: str,
    codedeploy: Any,
) -> None:
    """A concurrency limit of 5 lets only 5 of the 8 needed start: the shortfall is logged, the deploy goes
    on; with WARMER_HOOK_ON_SHORTFALL=fail the hook reports Failed."""
    target = orders(start_emulator, tmp_path, layer_zip, concurrency=5)
    for mode, status in (("succeed", "Succeeded"), ("fail", "Failed")):
        hook_function = hook(
            start_emulator,
            tmp_path / mode,
            layer_zip,
            target,
            cloudwatch_endpoint,
            codedeploy.url,
            WARMER_HOOK_ON_SHORTFALL=mode,
        )
        error, outcome = run_hook(hook_function)
        assert error is None, outcome
        assert (outcome["needed"], outcome["status"]) == (8, status), outcome
        assert outcome["warmed"] < 8
        assert any("environments of" in line and "warm" in line for line in hook_function.output())
    assert [call["status"] for call in codedeploy.server.calls] == ["Succeeded", "Failed"]


@pytest.mark.e2e
def test_an_alias_with_no_traffic_gets_the_schedules_n_and_says_so(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, cloudwatch_endpoint: str, codedeploy: Any
) -> None:
    emptied(cloudwatch_endpoint)
    target = orders(start_emulator, tmp_path, layer_zip)
    hook_function = hook(
        start_emulator,
        tmp_path,
        layer_zip,
        target,
        cloudwatch_endpoint,
        codedeploy.url,
        WARMER_HOOK_CONCURRENCY="3",
    )
    error, outcome = run_hook(hook_function)
    assert error is None, outcome
    assert (outcome["needed"], outcome["warmed"], outcome["status"]) == (3, 3, "Succeeded"), outcome
    assert "the schedule's N: live has no traffic to read" in outcome["why"]


@pytest.mark.e2e
def test_bad_input_and_a_status_that_cannot_be_reported(
    start_emulator: Start,
    tmp_path: Path,
    layer_zip: Path,
    cloudwatch: Any,
    cloudwatch_endpoint: str,
    codedeploy: Any,
) -> None:
    target = orders(start_emulator, tmp_path, layer_zip)
    hook_function = hook(
        start_emulator, tmp_path / "a", layer_zip, target, cloudwatch_endpoint, codedeploy.url
    )
    error, answer = run_hook(hook_function, {"DeploymentId": "d-1"})  # no hook execution id
    assert error == "Unhandled"
    assert "needs DeploymentId and LifecycleEventHookExecutionId" in answer["errorMessage"]
    assert codedeploy.server.calls == []  # nothing to report it against
    unknown = hook(
        start_emulator,
        tmp_path / "b",
        layer_zip,
        target,
        cloudwatch_endpoint,
        codedeploy.url,
        WARMER_HOOK_TARGET=VERSION_ARN.format(9),
    )
    error, outcome = run_hook(unknown)
    assert error is None, outcome
    assert outcome["status"] == "Succeeded"  # warming never blocks a deploy
    assert "ResourceNotFoundException" in outcome["error"]
    unversioned = hook(
        start_emulator,
        tmp_path / "c",
        layer_zip,
        target,
        cloudwatch_endpoint,
        codedeploy.url,
        WARMER_HOOK_TARGET="orders",
    )
    error, outcome = run_hook(unversioned)
    assert "WARMER_HOOK_TARGET='orders': expected the new version's ARN" in outcome["error"]
    codedeploy.server.refuse = True
    error, answer = run_hook(hook_function)
    assert error == "Unhandled"
    assert any(
        "could not report Succeeded for deployment d-ABCDEF123" in line for line in hook_function.output()
    )


def test_the_hook_honours_warmer_log_level() -> None:
    """WARMER_LOG_LEVEL sets the hook's logger as it sets the layer's, before anything is logged."""
    import logging

    from lambdawarmer import deploy_hook, logs

    from .conftest import make_context

    event = {"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "e-1"}
    with pytest.raises(Exception, match=r"ConnectionClosedError|EndpointConnectionError"):
        deploy_hook.run(event, make_context(), {"WARMER_LOG_LEVEL": "ERROR"})  # no CodeDeploy here
    assert logs.logger.level == logging.ERROR
