"""The emulator's own behaviour: routing, cold/warm accounting, throttling, async queue, timeouts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator import FunctionSpec, LambdaEmulator
from emulator.invoke_api import split_name

from .conftest import lambda_client, layered_spec, write_function

ROOT = Path(__file__).resolve().parent.parent
Start = Callable[..., LambdaEmulator]

FUNCTION = """
import json, os, time

def handler(event, context):
    event = event if isinstance(event, dict) else {}
    print(f"handled {context.aws_request_id}")
    if event.get("sleep_ms"):
        time.sleep(event["sleep_ms"] / 1000)
    if event.get("fail"):
        raise ValueError(event["fail"])
    if event.get("exit"):
        os._exit(event["exit"])
    names = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
             "AWS_REGION", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_EXECUTION_ENV", "_HANDLER", "LAMBDA_TASK_ROOT")
    return {
        "env": {name: os.environ.get(name) for name in names},
        "arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "pid": os.getpid(),
    }
"""


@pytest.fixture
def function(tmp_path: Path) -> FunctionSpec:
    return FunctionSpec(
        name="probe",
        code=write_function(tmp_path / "code", FUNCTION),
        handler="app.handler",
        timeout_s=2,
        versions=["1", "2"],
        aliases={"live": "2"},
    )


def invoke(client: Any, event: Any, **arguments: Any) -> tuple[str | None, Any]:
    answer = client.invoke(
        FunctionName=arguments.pop("name", "probe"), Payload=json.dumps(event), **arguments
    )
    body = answer["Payload"].read()
    return answer.get("FunctionError"), json.loads(body) if body else None


def test_sequential_invocations_reuse_one_warm_environment(
    start_emulator: Start, function: FunctionSpec
) -> None:
    emulator = start_emulator(function)
    client = lambda_client(emulator)
    pids = {invoke(client, {})[1]["pid"] for _ in range(4)}
    assert len(pids) == 1
    assert [i.cold for i in emulator.invocations] == [True, False, False, False]
    assert len(emulator.all_environments) == 1


def test_concurrent_invocations_each_get_an_environment_then_reuse_them(
    start_emulator: Start, function: FunctionSpec
) -> None:
    emulator = start_emulator(function)
    client = lambda_client(emulator)
    with ThreadPoolExecutor(3) as pool:
        first = list(pool.map(lambda _: invoke(client, {"sleep_ms": 400}), range(3)))
        second = list(pool.map(lambda _: invoke(client, {"sleep_ms": 400}), range(3)))
    assert len({body["pid"] for _, body in first}) == 3
    assert {body["pid"] for _, body in second} == {body["pid"] for _, body in first}
    assert [i.cold for i in emulator.invocations].count(True) == 3
    assert emulator.summary()["environments_started"] == 3


def test_past_the_concurrency_limit_invocations_are_throttled(
    start_emulator: Start, function: FunctionSpec
) -> None:
    emulator = start_emulator(function, concurrency=2)
    client = lambda_client(emulator)

    def attempt(_: int) -> str:
        try:
            invoke(client, {"sleep_ms": 800})
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return "ok"

    with ThreadPoolExecutor(3) as pool:
        outcomes = sorted(pool.map(attempt, range(3)))
    assert outcomes == ["TooManyRequestsException", "ok", "ok"]
    assert emulator.summary()["by_status"]["throttled"] == 1


def test_event_invocations_are_queued_and_run(start_emulator: Start, function: FunctionSpec) -> None:
    emulator = start_emulator(function)
    client = lambda_client(emulator)
    started = time.monotonic()
    answer = client.invoke(FunctionName="probe", InvocationType="Event", Payload=b'{"sleep_ms": 1500}')
    assert answer["StatusCode"] == 202
    assert time.monotonic() - started < 1.2  # answered before the function (1.5 s) could have run
    assert emulator.wait_for_async()
    assert [i.status for i in emulator.invocations] == ["success"]
    assert sum("handled" in line for line in emulator.output()) == 1


def test_failed_event_invocations_are_retried_twice(start_emulator: Start, function: FunctionSpec) -> None:
    emulator = start_emulator(function)
    lambda_client(emulator).invoke(FunctionName="probe", InvocationType="Event", Payload=b'{"fail": "no"}')
    assert emulator.wait_for_async()
    assert [(i.invocation_type, i.status) for i in emulator.invocations] == [("Event", "error")] * 3


def test_dry_run_checks_without_running(start_emulator: Start, function: FunctionSpec) -> None:
    emulator = start_emulator(function)
    answer = lambda_client(emulator).invoke(FunctionName="probe", InvocationType="DryRun")
    assert answer["StatusCode"] == 204
    assert emulator.all_environments == []


def test_the_function_timeout_is_enforced_and_the_environment_discarded(
    start_emulator: Start, function: FunctionSpec
) -> None:
    function.timeout_s = 1
    emulator = start_emulator(function)
    client = lambda_client(emulator)
    first_pid = invoke(client, {})[1]["pid"]
    error, body = invoke(client, {"sleep_ms": 3000})
    assert error == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    _, after = invoke(client, {})
    assert after["pid"] != first_pid
    assert [i.cold for i in emulator.invocations] == [True, False, True]


def test_deadline_and_lambda_environment_reach_the_function(
    start_emulator: Start, function: FunctionSpec
) -> None:
    emulator = start_emulator(function)
    _, body = invoke(lambda_client(emulator), {})
    assert 1000 < body["remaining_ms"] <= 2000
    assert body["env"] == {
        "AWS_LAMBDA_FUNCTION_NAME": "probe",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/probe",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
        "_HANDLER": "app.handler",
        "LAMBDA_TASK_ROOT": str(Path(function.code).resolve()),
    }


@pytest.mark.parametrize(
    ("name", "qualifier", "version", "arn_suffix"),
    [
        ("probe", None, "$LATEST", ""),
        ("probe:live", None, "2", ":live"),
        ("probe", "live", "2", ":live"),
        ("probe", "1", "1", ":1"),
        ("arn:aws:lambda:us-east-1:123456789012:function:probe:live", None, "2", ":live"),
        ("123456789012:function:probe", "1", "1", ":1"),
    ],
)
def test_qualified_names_and_arns_route_to_their_version(
    start_emulator: Start,
    function: FunctionSpec,
    name: str,
    qualifier: str | None,
    version: str,
    arn_suffix: str,
) -> None:
    emulator = start_emulator(function)
    arguments = {"Qualifier": qualifier} if qualifier else {}
    answer = lambda_client(emulator).invoke(FunctionName=name, Payload=b"{}", **arguments)
    body = json.loads(answer["Payload"].read())
    assert answer["ExecutedVersion"] == version
    assert body["env"]["AWS_LAMBDA_FUNCTION_VERSION"] == version
    assert body["arn"] == function.arn + arn_suffix


def test_each_version_has_its_own_environments(start_emulator: Start, function: FunctionSpec) -> None:
    emulator = start_emulator(function)
    client = lambda_client(emulator)
    pids = [invoke(client, {}, Qualifier=q)[1]["pid"] for q in ("1", "2", "live", "1")]
    assert pids[0] != pids[1]
    assert pids[1] == pids[2]  # live is version 2
    assert pids[3] == pids[0]


@pytest.mark.parametrize(
    "name", ["other", "probe:nope", "arn:aws:lambda:us-east-1:123456789012:function:other"]
)
def test_unknown_functions_and_qualifiers_are_not_found(
    start_emulator: Start, function: FunctionSpec, name: str
) -> None:
    emulator = start_emulator(function)
    with pytest.raises(ClientError) as raised:
        lambda_client(emulator).invoke(FunctionName=name, Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_payload_that_is_not_json_is_refused(start_emulator: Start, function: FunctionSpec) -> None:
    emulator = start_emulator(function)
    with pytest.raises(ClientError) as raised:
        lambda_client(emulator).invoke(FunctionName="probe", Payload=b"{not json")
    assert raised.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_split_name_reads_every_form_lambda_accepts() -> None:
    assert split_name("f") == ("f", None)
    assert split_name("f:live") == ("f", "live")
    assert split_name("1:function:f") == ("f", None)
    assert split_name("1:function:f:2") == ("f", "2")
    assert split_name("arn:aws:lambda:r:1:function:f") == ("f", None)
    assert split_name("arn:aws:lambda:r:1:function:f:$LATEST") == ("f", "$LATEST")


def test_a_process_that_exits_mid_invocation_is_an_exit_error(
    start_emulator: Start, function: FunctionSpec
) -> None:
    emulator = start_emulator(function)
    client = lambda_client(emulator)
    error, body = invoke(client, {"exit": 3})
    assert error == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Runtime exited with error: exit status 3")
    assert invoke(client, {})[0] is None  # a new environment serves the next one


@pytest.mark.parametrize(
    ("make_wrapper", "status", "said"),
    [(None, 127, "does not exist"), ("chmod 644", 126, "is not an executable")],
)
def test_bootstrap_checks_the_exec_wrapper(
    start_emulator: Start,
    function: FunctionSpec,
    tmp_path: Path,
    make_wrapper: str | None,
    status: int,
    said: str,
) -> None:
    wrapper = tmp_path / "wrapper.sh"
    if make_wrapper:
        wrapper.write_text('#!/bin/sh\nexec "$@"\n')
        wrapper.chmod(0o644)
    function.environment["AWS_LAMBDA_EXEC_WRAPPER"] = str(wrapper)
    emulator = start_emulator(function)
    error, body = invoke(lambda_client(emulator), {})
    assert error == "Unhandled"
    assert body["errorMessage"].endswith(f"exit status {status}")
    assert f"{wrapper}: {said}" in emulator.output()


def test_an_init_error_is_returned_to_the_caller(start_emulator: Start, function: FunctionSpec) -> None:
    function.handler = "nowhere.handler"
    emulator = start_emulator(function)
    error, body = invoke(lambda_client(emulator), {})
    assert error == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'nowhere': No module named 'nowhere'"


def test_latency_setting_models_the_invoke_round_trip(start_emulator: Start, function: FunctionSpec) -> None:
    emulator = start_emulator(function, latency_ms=300)
    client = lambda_client(emulator)
    invoke(client, {})
    started = time.monotonic()
    invoke(client, {})
    assert time.monotonic() - started >= 0.3


def test_layers_are_unpacked_in_order_at_opt(start_emulator: Start, tmp_path: Path) -> None:
    import zipfile

    layers = []
    for number, text in enumerate(["first", "second"]):
        path = tmp_path / f"layer{number}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("python/shared.py", f"WHO = {text!r}\n")
            archive.writestr(f"python/only_{text}.py", "")
        layers.append(path)
    code = write_function(
        tmp_path / "code",
        """
        import shared, only_first, only_second
        def handler(event, context):
            return {"who": shared.WHO, "where": shared.__file__}
        """,
    )
    emulator = start_emulator(FunctionSpec(name="probe", code=code, handler="app.handler", layers=layers))
    _, body = invoke(lambda_client(emulator), {})
    assert body["who"] == "second"
    if emulator.mount_opt:
        assert body["where"] == "/opt/python/shared.py"


def test_command_line_serves_a_function_until_terminated(tmp_path: Path, function: FunctionSpec) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "serve",
            str(function.code),
            "--handler",
            "app.handler",
            "--name",
            "probe",
            "--alias",
            "live=1",
            "--version",
            "1",
            "--http",  # its HTTPS (the default) is the next test's
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.split(" at ")[1].strip()
        emulator = type("Served", (), {"url": url})()
        _, body = invoke(lambda_client(emulator), {}, Qualifier="live")  # type: ignore[arg-type]
        assert body["env"]["AWS_LAMBDA_FUNCTION_VERSION"] == "1"
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0]
    assert process.returncode == 0
    assert '"invocations": 1' in output
    assert "handled" in output


def test_environment_processes_end_with_the_emulator(function: FunctionSpec) -> None:
    emulator = LambdaEmulator(function)
    emulator.invoke({})
    pids = [environment.pid for environment in emulator.all_environments]
    assert all(pids)
    emulator.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # type: ignore[arg-type]


def test_route_jitter_delays_each_synchronous_invoke_before_routing(
    start_emulator: Start, function: FunctionSpec
) -> None:
    emulator = start_emulator(function, route_jitter_ms=300)
    client = lambda_client(emulator)
    for _ in range(12):  # one warm environment after the first: the wait is the jitter
        invoke(client, {})
    waits = [i.started_at - i.received_at for i in emulator.invocations[1:] if i.started_at is not None]
    assert max(waits) <= 0.3 + 0.2  # the jitter, plus routing on a busy machine
    assert max(waits) - min(waits) >= 0.05  # uneven, not a fixed delay


def test_idle_environments_can_be_reclaimed(start_emulator: Start, function: FunctionSpec) -> None:
    emulator = start_emulator(function)
    client = lambda_client(emulator)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: invoke(client, {"sleep_ms": 300}), range(2)))
    assert emulator.reclaim_idle(time.monotonic()) == 2
    invoke(client, {})
    assert emulator.invocations[-1].cold
    assert len(emulator.all_environments) == 3


@pytest.mark.e2e
@pytest.mark.parametrize("keep_alive", [False, True])
def test_idle_connections_are_closed_between_pings_unless_kept_alive(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, keep_alive: bool
) -> None:
    """As the service closes a frozen function's idle connections long before the next scheduled
    ping, the emulator closes every idle one once no request is in flight: each ping then opens its
    connections anew (a TLS handshake each). ``keep_alive``: the steady state, connections reused."""
    code = write_function(tmp_path / "code", "def handler(event, context):\n    return 'real work'\n")
    emulator = start_emulator(layered_spec(code, layer_zip), keep_alive=keep_alive)
    client = lambda_client(emulator)
    rounds = []
    for _ in range(2):
        answer = client.invoke(FunctionName="orders", Payload=json.dumps({"warmer": True, "concurrency": 3}))
        rounds.append(json.loads(answer["Payload"].read())["rounds"][0])
    second = rounds[1]
    assert second["invocations_sent"] == 2, rounds
    if keep_alive:
        assert second["tls_handshakes"] < second["invocations_sent"], rounds  # one at least reused
    else:
        assert second["tls_handshakes"] == second["invocations_sent"], rounds  # every connection new


def test_a_driver_never_reuses_a_connection_the_emulator_may_close_between_pings() -> None:
    """The emulator closes idle connections once no request is in flight; a driver that reused one
    could send just as it is closed and lose the request (no retry: a CI run lost a bench ping so).
    So the driver's client asks for each connection to close once answered, and the endpoint says
    it will: every request arrives on a connection of its own."""
    from emulator.client import invoke_client
    from emulator.http import FastHandler, LoopbackEndpoint

    peers: list[int] = []

    class Recorder(FastHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            peers.append(self.client_address[1])
            self.reply(200, b'"ok"', {"Content-Type": "application/json"})

    endpoint = LoopbackEndpoint(Recorder, close_when_quiet=True)
    try:
        client = invoke_client(endpoint.url)
        answers = [client.invoke(FunctionName="orders", Payload=b"{}") for _ in range(3)]
    finally:
        endpoint.close()
    assert [a["ResponseMetadata"]["HTTPHeaders"]["connection"] for a in answers] == ["close"] * 3
    assert len(set(peers)) == 3, peers  # a new connection each time
