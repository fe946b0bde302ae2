"""Reliability and security: fuzzed input, injected faults, sustained load, no amplification.

A warmer runs inside every request: it must never be why a request fails, never lose or duplicate
a response, and never turn one event into more invocations than the owner configured.
"""

from __future__ import annotations

import json
import os
import random
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import Fault, LambdaEmulator
from lambdawarmer import WarmerConfigError, load_config, warmer
from lambdawarmer.protocol import FANOUT_KEY, PLUGIN_SOURCE
from lambdawarmer.settings import SETTINGS

from . import contracts
from .conftest import (
    ScriptedInvokeApi,
    lambda_client,
    layered_spec,
    make_context,
    report_answer,
    settled,
    write_function,
)

Start = Callable[..., LambdaEmulator]
FULL_LOAD = bool(os.environ.get("LAMBDAWARMER_LOAD_FULL"))  # read before the fixtures clear the environment
WRAPPER_ENV = {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper"}

# -- 1. property tests -------------------------------------------------------------------------

SPECIAL_KEYS = st.sampled_from(
    [
        "warmer",
        "concurrency",
        "w",
        "n",
        FANOUT_KEY,
        "__WARMER_INVOCATION__",
        "__WARMER_CONCURRENCY__",
        "source",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.just(PLUGIN_SOURCE)
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(SPECIAL_KEYS | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=12,
)
PINGISH = st.fixed_dictionaries(
    {"warmer": st.just(True)}, optional={"concurrency": JSON | st.integers(-3, 12), FANOUT_KEY: JSON}
)
FIELD_NAMES = st.sampled_from(
    ["warmer", "concurrency", "w", "n", FANOUT_KEY, "__WARMER_INVOCATION__", "source"]
)


class Boom(Exception):
    pass


def is_ping(event: Any, flag: str) -> bool:
    """The documented rule, written independently of lambdawarmer.protocol."""
    if not isinstance(event, dict):
        return False
    return (
        isinstance(event.get(FANOUT_KEY), dict)
        or event.get(flag) is True
        or event.get("source") == PLUGIN_SOURCE
    )


@pytest.fixture(scope="module")
def answering_api() -> Iterator[ScriptedInvokeApi]:
    api = ScriptedInvokeApi(lambda call: report_answer(call, f"i-{call.payload[FANOUT_KEY]['index']}"))
    yield api
    api.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    event=JSON | PINGISH,
    flag=FIELD_NAMES,
    concurrency_field=FIELD_NAMES,
    max_concurrency=st.integers(1, 4),
    send_metric=st.booleans(),
    raises=st.booleans(),
)
def test_any_json_event_gives_the_report_or_exactly_the_handlers_outcome(
    answering_api: ScriptedInvokeApi,
    monkeypatch: pytest.MonkeyPatch,
    event: Any,
    flag: str,
    concurrency_field: str,
    max_concurrency: int,
    send_metric: bool,
    raises: bool,
) -> None:
    if flag == concurrency_field:
        concurrency_field += "_n"
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", answering_api.url)
    calls: list[Any] = []
    result_object, error = object(), Boom("handler's own")

    def handler(received: Any, context: Any) -> Any:
        calls.append(received)
        if raises:
            raise error
        return result_object

    settings = {"delay": 0, "max_concurrency": max_concurrency, "send_metric": send_metric}
    wrapped = warmer(flag=flag, concurrency=concurrency_field, **settings)(handler)
    if raises and not is_ping(event, flag):
        with pytest.raises(Boom) as raised:
            wrapped(event, make_context())
        assert raised.value is error
        assert calls == [event]
        return
    result = wrapped(event, make_context())
    if is_ping(event, flag):
        assert calls == []
        assert result["warmed"] is True
        assert 0 <= result["concurrency"] <= max_concurrency
        assert result.get("invocations_sent", 0) <= max_concurrency - 1
        json.dumps(result)
    else:
        assert result is result_object
        assert calls == [event]
        assert calls[0] is event


@settings(max_examples=400, deadline=None)
@given(variable=st.sampled_from([s.env for s in SETTINGS.values()]), value=st.text(max_size=40))
def test_any_string_for_any_setting_is_valid_or_the_documented_error(variable: str, value: str) -> None:
    try:
        config = load_config(environ={variable: value})
    except WarmerConfigError as error:
        message = str(error)
        assert message.startswith("invalid setting")
        assert variable in message or "two different event fields" in message
        assert "expected" in message or "two different event fields" in message
        return
    assert isinstance(config.as_dict(), dict)


# -- 2. injected faults ------------------------------------------------------------------------

PLAIN = """
import time

def handler(event, context):
    print(f"HANDLED {event.get('id') if isinstance(event, dict) else event}")
    if isinstance(event, dict):
        time.sleep(event.get("work_s", 0))
    return {"id": event.get("id") if isinstance(event, dict) else None}
"""


@pytest.fixture
def code(tmp_path: Path) -> Path:
    return write_function(tmp_path / "code", PLAIN)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fanned_out(fault: Fault | Callable[[int], Fault | None]) -> Callable[[bytes], Fault | None]:
    """Inject ``fault`` into fanned-out invokes only (by index when it is a function of it)."""

    def rule(body: bytes) -> Fault | None:
        if FANOUT_KEY.encode() not in body:
            return None
        return fault(json.loads(body)[FANOUT_KEY]["index"]) if callable(fault) else fault

    return rule


def ping_and_request(emulator: LambdaEmulator, concurrency: int) -> tuple[dict[str, Any], float]:
    """A ping, then a request: the ping's report and how long the ping ran, from its start (its
    environment's init, which a loaded machine stretches, left out)."""
    client = lambda_client(emulator)
    before = len(emulator.invocations)
    answer = client.invoke(
        FunctionName="orders", Payload=json.dumps({"warmer": True, "concurrency": concurrency})
    )
    pinged = emulator.invocations[before]
    assert pinged.started_at is not None
    assert pinged.finished_at is not None
    elapsed = pinged.finished_at - pinged.started_at
    assert answer.get("FunctionError") is None
    report = json.loads(answer["Payload"].read())
    after = client.invoke(FunctionName="orders", Payload=b'{"id": "after"}')
    assert after.get("FunctionError") is None
    assert json.loads(after["Payload"].read()) == {"id": "after"}
    return report, elapsed


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault.throttle(), "TooManyRequestsException: Rate Exceeded."),
        (Fault.deny(), "AccessDeniedException: User is not authorized"),
        (Fault.server_error(), "ServiceException"),
        (Fault.hang(3), "ReadTimeout"),
    ],
    ids=["429", "403", "500", "hang"],
)
def test_invoke_api_faults_are_counted_and_the_next_request_is_served(
    start_emulator: Start, code: Path, layer_zip: Path, fault: Fault, reason: str
) -> None:
    emulator = start_emulator(
        layered_spec(code, layer_zip, WARMER_INVOKE_TIMEOUT="500"), faults=fanned_out(fault)
    )
    report, elapsed = ping_and_request(emulator, 4)
    assert elapsed < 2.5  # one bounded round: the 0.5 s invoke timeout at most, never the 3 s hang
    assert (report["invocations_sent"], report["invocations_failed"], report["instances_warmed"]) == (3, 3, 1)
    # each one failed with the fault's reason, or, on a machine too busy to connect within the
    # 0.5 s invoke timeout, with that timeout's: counted and explained either way
    assert all(
        reason in failure["reason"] or "ConnectTimeoutError" in failure["reason"]
        for failure in report["failures"]
    ), report["failures"]


def test_refused_connections_are_counted(start_emulator: Start, code: Path, layer_zip: Path) -> None:
    emulator = start_emulator(
        layered_spec(code, layer_zip),
        extra_env={"AWS_ENDPOINT_URL_LAMBDA": f"http://127.0.0.1:{closed_port()}"},
    )
    report, elapsed = ping_and_request(emulator, 4)
    assert elapsed < 2.5  # refused at once, never retried for long
    assert report["invocations_failed"] == 3
    assert all("EndpointConnectionError" in failure["reason"] for failure in report["failures"])


def test_a_mix_of_faults_each_with_its_reason(start_emulator: Start, code: Path, layer_zip: Path) -> None:
    plan = {2: Fault.throttle(), 3: Fault.deny(), 4: Fault.server_error(), 5: Fault.hang(3)}
    emulator = start_emulator(
        layered_spec(code, layer_zip, WARMER_INVOKE_TIMEOUT="2000"), faults=fanned_out(plan.get)
    )
    report, _ = ping_and_request(emulator, 7)
    reasons = {failure["index"]: failure["reason"] for failure in report["failures"]}
    assert sorted(reasons) == [2, 3, 4, 5]
    assert reasons[2].startswith("TooManyRequestsException")
    assert reasons[3].startswith("AccessDeniedException")
    assert reasons[4].startswith("ServiceException")
    assert "ReadTimeout" in reasons[5]
    assert report["instances_warmed"] == 3  # itself, 6 and 7


def test_short_remaining_time_bounds_a_large_fan_out(
    start_emulator: Start, code: Path, layer_zip: Path
) -> None:
    """1 s left and N = 60 against a fan-out that hangs: answered in time (no Sandbox.Timedout), the
    environment kept, every invoke late or left unsent, each with its reason."""
    function = layered_spec(code, layer_zip)
    function.timeout_s = 1
    emulator = start_emulator(function, faults=fanned_out(Fault.hang(5)))
    client = lambda_client(emulator)
    client.invoke(FunctionName="orders", Payload=b'{"id": "warm it first"}')
    answer = client.invoke(FunctionName="orders", Payload=json.dumps({"warmer": True, "concurrency": 60}))
    report = json.loads(answer["Payload"].read())
    assert answer.get("FunctionError") is None, report
    ping = emulator.invocations[1]
    assert ping.status == "success"
    assert ping.finished_at is not None
    assert ping.finished_at <= ping.deadline_at
    assert report["invocations_sent"] + report["invocations_not_sent"] == 59
    assert report["invocations_failed"] == report["invocations_sent"]
    assert {f["reason"] for f in report["failures"]} <= {"no answer before the function's time ran out"}
    if report["invocations_not_sent"]:
        assert report["not_sent_reason"].startswith("not sent: ")
    after = client.invoke(FunctionName="orders", Payload=b'{"id": "after"}')
    assert json.loads(after["Payload"].read()) == {"id": "after"}
    assert emulator.invocations[-1].environment_id == ping.environment_id


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield int(listener.getsockname()[1])
    listener.close()


@pytest.mark.parametrize("cloudwatch", ["refused", "silent"])
def test_cloudwatch_unreachable_never_fails_a_request(
    start_emulator: Start, code: Path, layer_zip: Path, blackhole: int, cloudwatch: str
) -> None:
    port = closed_port() if cloudwatch == "refused" else blackhole
    environment = {
        "WARMER_SEND_METRIC": "true",
        "WARMER_METRICS_MODE": "put_metric_data",
        "AWS_ENDPOINT_URL_CLOUDWATCH": f"http://127.0.0.1:{port}",
    }
    spec = layered_spec(code, layer_zip, **environment)
    spec.memory_mb, spec.timeout_s = 128, 2.0
    emulator = start_emulator(spec)
    client = lambda_client(emulator)
    for number in range(4):  # at 128 MB, 2 s: a half-second handler each time
        answer = client.invoke(FunctionName="orders", Payload=json.dumps({"id": number, "work_s": 0.5}))
        assert answer.get("FunctionError") is None, answer["Payload"].read()
        assert json.loads(answer["Payload"].read())["id"] == number
    assert {i.status for i in emulator.invocations} == {"success"}  # no Sandbox.Timedout
    failed = lambda: any("PutMetricData failed" in line for line in emulator.output())  # noqa: E731
    assert settled(failed, True)  # logged by the layer's sender thread, off every request's path


# -- 3. sustained load -------------------------------------------------------------------------


@pytest.mark.load
def test_sustained_load_loses_and_duplicates_nothing(
    start_emulator: Start, code: Path, layer_zip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """5,000 invocations with LAMBDAWARMER_LOAD_FULL=1; a shorter run of the same by default."""
    total = 5000 if FULL_LOAD else 600
    clients, max_n = 6, 10
    # room for twice what the clients can have in flight: the concurrency limit is not what this
    # test is about (a ping failed an invoke once in CI, at exactly the clients' most; which
    # failure it was, the assertion below now shows)
    emulator = start_emulator(layered_spec(code, layer_zip), concurrency=2 * clients * max_n)
    rng = random.Random(20261126)
    plan: list[dict[str, Any]] = [
        {"warmer": True, "concurrency": rng.randint(1, max_n)} if rng.random() < 0.2 else {"id": f"r{n}"}
        for n in range(total)
    ]
    client = lambda_client(emulator)

    def send(event: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        answer = client.invoke(FunctionName="orders", Payload=json.dumps(event))
        return event, (answer.get("FunctionError"), json.loads(answer["Payload"].read()))

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(send, plan))
    elapsed = time.monotonic() - started

    real = [(event, body) for event, (error, body) in answers if "id" in event]
    pings = [(event, body) for event, (error, body) in answers if "warmer" in event]
    assert all(error is None for _, (error, _) in answers)
    assert all(body == {"id": event["id"]} for event, body in real)
    handled = Counter(line.split(" ", 1)[1] for line in emulator.output() if line.startswith("HANDLED "))
    assert handled == Counter(event["id"] for event, _ in real)  # each real request exactly once
    failed = [body for _, body in pings if body["warmed"] is not True or body.get("invocations_failed", 0)]
    assert failed == [], failed
    for event, body in pings:
        if event["concurrency"] > 1:
            contracts.accounted(body, event["concurrency"])
    # How many distinct instances each warmed is the bench's measure: the load can spread a round's
    # sends further than its first hold estimate (the report then says so, and a top-up round
    # follows). A top-up round may reach environments that served the other clients, so the
    # distinct instances of a ping are bounded by the invocations it made, not by N.
    assert all(
        1 <= body.get("instances_warmed", 1) <= body.get("invocations_sent", 0) + 1 for _, body in pings
    )
    short = sum(body.get("instances_warmed", 1) < event["concurrency"] for event, body in pings)
    assert not [e for e in emulator.environments if e.state == "busy"]
    summary = emulator.summary()
    assert summary["by_status"] == {"success": summary["invocations"]}
    with capsys.disabled():
        print(
            f"\n  load: {len(plan)} client invocations ({len(real)} real, {len(pings)} pings), "
            f"{summary['invocations']} invocations in all, {summary['environments_started']} environments, "
            f"{summary['cold_starts']} cold starts, 0 errors, {short} rounds short of N, {elapsed:.1f} s"
        )


# -- 4. security -------------------------------------------------------------------------------


def test_no_event_can_exceed_the_cap(start_emulator: Start, code: Path, layer_zip: Path) -> None:
    emulator = start_emulator(layered_spec(code, layer_zip, WARMER_MAX_CONCURRENCY="5"))
    report, _ = ping_and_request(emulator, 10**9)
    assert report["concurrency"] == 5
    assert len(emulator.api_requests) == 1 + 4 + 1  # the ping, its 4 invokes, the request after


def test_a_ping_invokes_nothing_but_its_own_function(
    start_emulator: Start, code: Path, layer_zip: Path
) -> None:
    emulator = start_emulator(layered_spec(code, layer_zip))
    event = {
        "warmer": True,
        "concurrency": 3,
        "FunctionName": "payments",
        "function": "arn:aws:lambda:us-east-1:123456789012:function:payments",
        "Qualifier": "prod",
        "target": "payments:prod",
    }
    lambda_client(emulator).invoke(FunctionName="orders", Payload=json.dumps(event))
    assert (
        emulator.api_requests == [("orders", None)] + [(emulator.function.arn.split(":")[-1], "$LATEST")] * 2
    )


@pytest.mark.parametrize(
    "crafted",
    [
        {FANOUT_KEY: {"index": 1, "total": 50}, "warmer": True, "concurrency": 50},
        {FANOUT_KEY: {}, "warmer": True, "concurrency": 50},
        {"warmer": True, "concurrency": 50, "__WARMER_INVOCATION__": 1, "__WARMER_CONCURRENCY__": 50},
        {"source": PLUGIN_SOURCE, "warmer": "yes", "concurrency": 50},
    ],
)
def test_crafted_fanned_out_payloads_start_no_round(
    start_emulator: Start, code: Path, layer_zip: Path, crafted: dict[str, Any]
) -> None:
    emulator = start_emulator(layered_spec(code, layer_zip, WARMER_DELAY="0"))
    answer = lambda_client(emulator).invoke(FunctionName="orders", Payload=json.dumps(crafted))
    assert json.loads(answer["Payload"].read())["warmed"] is True
    assert len(emulator.api_requests) == 1
    assert not [line for line in emulator.output() if line.startswith("HANDLED")]


def test_logged_values_from_events_stay_small(start_emulator: Start, code: Path, layer_zip: Path) -> None:
    emulator = start_emulator(layered_spec(code, layer_zip, WARMER_DELAY="0"))
    client = lambda_client(emulator)
    huge = "x" * 200_000
    for event in (
        {"warmer": True, "concurrency": huge},
        {FANOUT_KEY: {"index": 2, "total": 3, "correlation_id": huge}},
        {"warmer": True, "__WARMER_INVOCATION__": 2, "__WARMER_CORRELATIONID__": huge},
    ):
        assert json.loads(client.invoke(FunctionName="orders", Payload=json.dumps(event))["Payload"].read())[
            "warmed"
        ]
    assert max(len(line) for line in emulator.output()) < 2000
