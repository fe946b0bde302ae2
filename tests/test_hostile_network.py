"""Every AWS call the layer makes ends by its deadline and holds a bounded answer, whatever the server.

A server on 127.0.0.1 that trickles its answer (a byte every 50 ms, each read well under the socket
timeout) or sends an endless chunked body, against each call path: Lambda Invoke (the fan-out),
CloudWatch GetMetricData (auto) and PutMetricData (metrics), CodeDeploy (the deploy hook) and the
container credentials endpoint. Each server stops by itself after :data:`SERVE_S`. The bounds
asserted are contracts (the call ends long before the server would let it), not timings.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from emulator import LambdaEmulator
from lambdawarmer.aws import (
    CLOUDWATCH,
    CODEDEPLOY,
    LAMBDA,
    AwsClient,
    AwsError,
    CredentialSource,
    cloudwatch_call,
    codedeploy_call,
)

from .conftest import layered_spec, write_function

SERVE_S = 30.0
"""How long a hostile server goes on at most (the calls must end far sooner)."""
TIMEOUT_MS = 1_000
BOUND_S = 6.0
"""Where a call with a 1 s deadline must have ended, with room for a loaded machine (without the
deadline, a trickle holds it for the whole :data:`SERVE_S`)."""


class Hostile:
    """Accepts connections on 127.0.0.1 and answers each as ``mode`` says, from its own threads."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = int(self.listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.stop_at = time.monotonic() + SERVE_S
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while time.monotonic() < self.stop_at:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                if self.mode == "trickle":
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                    while time.monotonic() < self.stop_at:
                        connection.sendall(b"X")  # a header line that never ends, a byte at a time
                        time.sleep(0.05)
                else:  # an endless chunked body
                    connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    chunk = b"%x\r\n%s\r\n" % (65536, b"{" * 65536)
                    while time.monotonic() < self.stop_at:
                        connection.sendall(chunk)
            except OSError:
                return

    def close(self) -> None:
        self.stop_at = 0.0
        self.listener.close()


@pytest.fixture(params=["trickle", "endless"])
def hostile(request: pytest.FixtureRequest) -> Iterator[Hostile]:
    server = Hostile(request.param)
    yield server
    server.close()


def _lambda(url: str) -> None:
    AwsClient(LAMBDA, TIMEOUT_MS, 1).call("POST", "/2015-03-31/functions/orders/invocations", body=b"{}")


def _get_metric_data(url: str) -> None:
    cloudwatch_call(AwsClient(CLOUDWATCH, TIMEOUT_MS, 1), "GetMetricData", {"MetricDataQueries": []})


def _put_metric_data(url: str) -> None:
    cloudwatch_call(
        AwsClient(CLOUDWATCH, TIMEOUT_MS, 1), "PutMetricData", {"Namespace": "n", "MetricData": []}
    )


def _codedeploy(url: str) -> None:
    codedeploy_call(AwsClient(CODEDEPLOY, TIMEOUT_MS, 1), "PutLifecycleEventHookExecutionStatus", {})


def _credentials(url: str) -> None:
    CredentialSource().get(TIMEOUT_MS / 1000)


CALLS: dict[str, Callable[[str], None]] = {
    "fan-out invoke": _lambda,
    "auto's GetMetricData": _get_metric_data,
    "PutMetricData": _put_metric_data,
    "deploy hook's CodeDeploy": _codedeploy,
    "container credentials": _credentials,
}


@pytest.mark.parametrize("path", list(CALLS))
def test_each_call_ends_by_its_deadline_with_bounded_memory(
    hostile: Hostile, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for service in ("LAMBDA", "CLOUDWATCH", "CODEDEPLOY"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", hostile.url)
    if path == "container credentials":
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{hostile.url}/credentials")
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(AwsError) as failed:
        CALLS[path](hostile.url)
    elapsed_s = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed_s < BOUND_S, (path, hostile.mode, elapsed_s)
    assert peak < 16 * 1024 * 1024, (path, hostile.mode, peak)  # Invoke's 6 MB read at most, then refused
    if hostile.mode == "endless" and path != "container credentials":
        assert failed.value.code in ("ResponseTooLarge", "ReadTimeoutError"), failed.value
    elif hostile.mode == "trickle" and path != "container credentials":
        assert failed.value.code == "ReadTimeoutError", failed.value
    else:
        assert failed.value.code == "CredentialRetrievalError", failed.value


def test_a_fan_out_into_a_trickling_lambda_api_answers_the_ping_in_time(
    start_emulator: Callable[..., LambdaEmulator], tmp_path: Path, layer_zip: Path
) -> None:
    """At 128 MB and Lambda's default 3 s: the ping is answered (invokes failed, said in the report),
    no Sandbox.Timedout, and the next real request is served."""
    server = Hostile("trickle")
    code = write_function(tmp_path / "code", "def handler(event, context):\n    return 'real work'\n")
    spec = layered_spec(code, layer_zip, AWS_ENDPOINT_URL_LAMBDA=server.url)
    spec.memory_mb, spec.timeout_s = 128, 3.0
    emulator = start_emulator(spec)
    try:
        answer = emulator.invoke({"warmer": True, "concurrency": 3})
        report = json.loads(answer.payload)
        assert (answer.status, report["warmed"]) == ("success", True), answer.payload
        assert report["invocations_failed"] + report["invocations_not_sent"] == 2, report
        assert emulator.invoke({"order": 1}).payload == b'"real work"'
    finally:
        server.close()


def test_a_forked_worker_keeps_its_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    """awslambdaric's multi-concurrent mode forks workers: the watchdog thread is not inherited, so
    each worker starts its own, and a call there still ends by its deadline."""
    import os

    server = Hostile("trickle")
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", server.url)
    with contextlib.suppress(AwsError):
        _lambda(server.url)  # the parent's watchdog thread exists before the fork
    child = os.fork()
    if child == 0:  # the worker
        started = time.monotonic()
        try:
            _lambda(server.url)
        except AwsError as error:
            os._exit(0 if error.code == "ReadTimeoutError" and time.monotonic() - started < BOUND_S else 1)
        os._exit(2)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            done, status = os.waitpid(child, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(child, 9)
            os.waitpid(child, 0)
            pytest.fail("the forked worker's call outlived its deadline")
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        server.close()


def test_the_watchdog_outlives_a_call_released_as_its_deadline_passes() -> None:
    """A socket seen due is read once, and shut as read: a call released between two reads of it
    killed the watchdog thread (TypeError), and no later deadline was kept. (Releasing now takes the
    watchdog's lock, which closes that window too; the test sets the two reads apart by hand.)"""
    import heapq
    import socket

    from lambdawarmer.aws.watchdog import Watchdog, Watched

    class ReleasedMeanwhile(Watched):
        """Due now; its call releases it right after the watchdog first looks."""

        __slots__ = ("_looks", "_sock")

        def __init__(self, sock: socket.socket) -> None:
            self._looks = 0
            super().__init__(sock, time.monotonic())

        @property  # type: ignore[override]
        def sock(self) -> socket.socket | None:
            self._looks += 1
            return self._sock if self._looks == 1 else None

        @sock.setter
        def sock(self, value: socket.socket | None) -> None:
            self._sock = value

    watchdog = Watchdog()
    released, other = socket.socketpair(), socket.socketpair()
    try:
        with watchdog._wake:  # the race, set up: nothing real releases at that very instant
            heapq.heappush(watchdog._due, (time.monotonic(), -1, ReleasedMeanwhile(released[0])))
        watchdog.watch(other[0], time.monotonic() + 0.05)
        other[0].settimeout(10)
        assert other[0].recv(1) == b""  # shut down at its deadline, not the 10 s timeout
    finally:
        for sock in (*released, *other):
            sock.close()
