"""Shared fixtures: AWS settings that never reach AWS, Lambda contexts, a scripted Invoke API."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from awslambdaric.lambda_context import LambdaContext

from emulator import FunctionSpec, LambdaEmulator, runtime_python
from emulator.client import invoke_client
from emulator.http import FastHandler, LoopbackEndpoint
from emulator.moto_server import MotoServer
from emulator.packages import InstallFailed
from emulator.tls import ca_bundle, server_context
from lambdawarmer import logs
from lambdawarmer.instance import ENVIRONMENT
from layer.runtimes import SUPPORTED_RUNTIMES

from .control_plane import aws, configured, invocations_to, lambda_router  # noqa: F401  (fixtures for every test module)
from .runtime_matrix import (  # noqa: F401  (hooks: the runtimes here, a missing one skipped)
    pytest_configure,
    pytest_report_header,
    pytest_runtest_call,
    pytest_runtest_setup,
    pytest_unconfigure,
)
from .scheduling import pytest_collection_modifyitems  # noqa: F401  (hook: long tests first)

FUNCTION = "orders"
ACCOUNT = "123456789012"
REGION = "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}"


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a Lambda-like environment; no WARMER_* from the caller's shell."""
    for name in list(os.environ):
        if name.startswith(("WARMER_", "AWS_", "LAMBDAWARMER_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never AWS, whatever a test forgets
    # Lambda's API is HTTPS only, and so is the emulator's by default: this process (boto3 and the
    # runtime's own client alike) trusts its certificate as a function under it does.
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca_bundle()))
    ENVIRONMENT.reset()
    # The logger's level is set once per process (by the first warmer): each test is a new process here.
    logs._applied.clear()
    logs.logger.setLevel(logging.NOTSET)


def make_context(
    arn: str = FUNCTION_ARN, remaining_ms: int = 30_000, request_id: str = "req-1"
) -> LambdaContext:
    """A real awslambdaric LambdaContext, as the runtime builds it for an invocation."""
    deadline_ms = int(time.time() * 1000) + remaining_ms
    return LambdaContext(request_id, None, None, deadline_ms, arn)


class InvokeCall:
    """One request the scripted Invoke API received."""

    def __init__(
        self, function: str, qualifier: str | None, invocation_type: str, payload: Any, client_port: int = 0
    ) -> None:
        self.function = function
        self.qualifier = qualifier
        self.invocation_type = invocation_type
        self.payload = payload
        self.client_port = client_port  # the caller's port: one per connection it used


class ScriptedInvokeApi:
    """A real HTTP server on 127.0.0.1 speaking the Lambda Invoke API, answering as ``respond`` says
    (over HTTPS with the emulator's certificate with ``tls``; ``idle_timeout_s``: it closes
    kept-alive connections idle that long).

    ``respond(call)`` returns (status, headers, body). Records every call and the most calls it had
    in flight at once.
    """

    def __init__(
        self,
        respond: Callable[[InvokeCall], tuple[int, dict[str, str], bytes]],
        *,
        tls: bool = False,
        idle_timeout_s: float | None = None,
    ) -> None:
        self.respond = respond
        self.calls: list[InvokeCall] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        api = self

        class Handler(FastHandler):
            def do_POST(self) -> None:
                url = urlparse(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                call = InvokeCall(
                    unquote(url.path.split("/")[3]),
                    parse_qs(url.query).get("Qualifier", [None])[0],
                    self.headers.get("X-Amz-Invocation-Type", "RequestResponse"),
                    json.loads(body) if body else None,
                    self.client_address[1],
                )
                with api._lock:
                    api.calls.append(call)
                    api.in_flight += 1
                    api.max_in_flight = max(api.max_in_flight, api.in_flight)
                try:
                    status, headers, answer = api.respond(call)
                finally:
                    with api._lock:
                        api.in_flight -= 1
                self.reply(status, answer, headers)

        context = server_context() if tls else None
        self.endpoint = LoopbackEndpoint(Handler, tls=context, idle_timeout_s=idle_timeout_s)
        self.url = self.endpoint.url

    def close(self) -> None:
        self.endpoint.close()


@pytest.fixture
def invoke_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ScriptedInvokeApi]]:
    """Start a scripted Invoke API and point boto3's lambda client at it."""
    started: list[ScriptedInvokeApi] = []

    def start(
        respond: Callable[[InvokeCall], tuple[int, dict[str, str], bytes]], **options: Any
    ) -> ScriptedInvokeApi:
        api = ScriptedInvokeApi(respond, **options)
        started.append(api)
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", api.url)
        return api

    yield start
    for api in started:
        api.close()


def report_answer(call: InvokeCall, instance_id: str, cold: bool = True) -> tuple[int, dict[str, str], bytes]:
    """What a warmed instance answers to a fanned-out ping."""
    data = call.payload["__lambdawarmer__"]
    body = {"warmed": True, "instance_id": instance_id, "cold": cold, "index": data["index"]}
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def error_answer(status: int, error_type: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """An Invoke API error, as Lambda sends it."""
    headers = {"x-amzn-ErrorType": error_type, "Content-Type": "application/json"}
    return status, headers, json.dumps({"Type": "User", "message": message}).encode()


@pytest.fixture(autouse=True)
def one_cpu_share_test_at_a_time(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """A test marked ``cpu_shares`` runs while no other one does, in any of the run's workers (a lock
    in the run's temporary folder, which the workers share): each such test starts tens of
    environments, each held to its CPU share, and two at once oversubscribe two cores by themselves."""
    if request.node.get_closest_marker("cpu_shares") is None:
        yield
        return
    with open(tmp_path_factory.getbasetemp().parent / "cpu-shares.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


@pytest.fixture(scope="session")
def cloudwatch_endpoint() -> Iterator[str]:
    """moto's server on 127.0.0.1, standing in for CloudWatch."""
    with MotoServer() as server:
        yield server.url


@pytest.fixture(scope="session")
def sam_cli() -> Path:
    """``sam``, in .venvs/sam beside the emulator's runtimes (tests/installs.py: ./test.sh starts its
    install in the background, a test worker asking for it waits for that, or installs it)."""
    from . import installs

    try:
        return installs.sam_cli()
    except InstallFailed as failed:
        pytest.fail(str(failed))


def put_concurrent_executions(
    cloudwatch: Any,
    function: str,
    peaks: dict[int, float],
    alias: str | None = None,
    metric: str = "ConcurrentExecutions",
) -> None:
    """What Lambda writes for a function (or ``function:alias``): ``metric`` (``ConcurrentExecutions``,
    or ``ProvisionedConcurrentExecutions``) of ``peaks[m]`` in the minute ``m`` minutes before the
    current one."""
    import datetime

    dimensions = [{"Name": "FunctionName", "Value": function}]
    if alias:
        dimensions.append({"Name": "Resource", "Value": f"{function}:{alias}"})
    stamp = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": dimensions,
                "Timestamp": stamp - datetime.timedelta(minutes=minutes) + datetime.timedelta(seconds=5),
                "Value": value,
                "Unit": "Count",
            }
            for minutes, value in peaks.items()
        ],
    )


# -- the emulator ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def layer_zip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layer, built from this checkout as ./build.sh builds it: bytecode for the runtimes here,
    source for the others. Built once a run: the test workers share it (the first builds it)."""
    import fcntl

    from layer.build_layer import write_zip

    run = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):
        run = run.parent  # the run's own folder, holding each worker's
    path = run / "dist" / "lambdawarmer-layer.zip"
    path.parent.mkdir(exist_ok=True)
    with open(run / "dist.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            write_zip(path)  # written whole or not at all
    return path


@pytest.fixture(params=SUPPORTED_RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """A test taking it runs on each supported runtime found here; a missing one is skipped, saying so
    (tests/runtime_matrix.py)."""
    name = str(request.param)
    runtime_python(name)
    return name


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., LambdaEmulator]]:
    """Start emulators (Invoke API served) that are closed after the test."""
    started: list[LambdaEmulator] = []

    def start(
        function: FunctionSpec, *, tls: bool = True, keep_alive: bool = False, **options: Any
    ) -> LambdaEmulator:
        # The Invoke API also accepts the test environment's key (aws_environment), which the
        # command line signs with. HTTPS by default, as Lambda's API is, idle connections closed
        # between pings (keep_alive: kept, the steady state).
        options.setdefault("credentials", {"testing": "testing"})
        emulator = LambdaEmulator(function, **options)
        started.append(emulator)
        emulator.serve(tls=tls, keep_alive=keep_alive)
        return emulator

    yield start
    for emulator in started:
        emulator.close()


def lambda_client(emulator: LambdaEmulator) -> Any:
    """boto3's lambda client pointed at an emulator, no retries."""
    return invoke_client(emulator.url)


def layered_spec(code: Path, layer_zip: Path, **environment: str) -> FunctionSpec:
    """Function ``orders`` from ``code``, with the layer and its wrapper, and ``environment`` besides."""
    return FunctionSpec(
        name="orders",
        code=code,
        handler="app.handler",
        layers=[layer_zip],
        environment={"AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper", **environment},
        timeout_s=30,
    )


OVERLAPPING_HANDLER = """
import os, time

def handler(event, context):
    # Requests meant to overlap wait here until all of them have arrived (or 20 s): each leaves
    # a file in the shared folder and polls for the others', at a small CPU cost.
    if isinstance(event, dict) and "barrier" in event:
        folder = event["barrier"]
        open(os.path.join(folder, context.aws_request_id), "w").close()
        give_up = time.monotonic() + 20
        while len(os.listdir(folder)) < event["parties"] and time.monotonic() < give_up:
            time.sleep(0.01)
    return {"handled": event}
"""
"""A function whose requests holding ``{"barrier": folder, "parties": n}`` are answered only once all
n have arrived: n such requests sent at once are in n environments at once, whatever the machine's load."""


def overlapping_requests(client: Any, folder: Path, parties: int, **invoke: Any) -> list[dict[str, Any]]:
    """Send ``parties`` requests to :data:`OVERLAPPING_HANDLER` at once; their answers."""
    from concurrent.futures import ThreadPoolExecutor

    folder.mkdir(parents=True, exist_ok=True)
    event = json.dumps({"barrier": str(folder), "parties": parties})
    with ThreadPoolExecutor(parties) as pool:
        answers = list(
            pool.map(lambda _: client.invoke(FunctionName="orders", Payload=event, **invoke), range(parties))
        )
    return [{"error": a.get("FunctionError"), "body": json.loads(a["Payload"].read())} for a in answers]


def write_function(directory: Path, source: str, module: str = "app") -> Path:
    """A function's code folder holding ``source`` as ``<module>.py``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{module}.py").write_text(textwrap.dedent(source))
    return directory


def settled(probe: Callable[[], Any], expected: Any, timeout_s: float = 10.0) -> Any:
    """``probe()``'s value once it equals ``expected``, or its last one after ``timeout_s`` (for what
    a background thread sends: PutMetricData leaves from the layer's own thread)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
