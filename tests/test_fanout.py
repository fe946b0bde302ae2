"""The fan-out against a real HTTP endpoint on 127.0.0.1 speaking the Lambda Invoke API."""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from lambdawarmer import load_config, warmer
from lambdawarmer.function_ref import FunctionRef, invoked_function
from lambdawarmer.protocol import FANOUT_KEY
from lambdawarmer.warmup import Warmer

from .conftest import FUNCTION_ARN, InvokeCall, ScriptedInvokeApi, error_answer, make_context, report_answer

StartApi = Callable[[Callable[[InvokeCall], tuple[int, dict[str, str], bytes]]], ScriptedInvokeApi]


def handler(event: Any, context: Any) -> str:
    return "real work"


def distinct_instances(call: InvokeCall) -> tuple[int, dict[str, str], bytes]:
    return report_answer(call, f"instance-{call.payload[FANOUT_KEY]['index']}")


def test_all_invokes_are_in_flight_together_and_target_the_alias(invoke_api: StartApi) -> None:
    together = threading.Barrier(9, timeout=10)

    def respond(call: InvokeCall) -> tuple[int, dict[str, str], bytes]:
        together.wait()  # answers only once all nine are in flight at the same time
        return distinct_instances(call)

    api = invoke_api(respond)
    context = make_context(arn=f"{FUNCTION_ARN}:live", request_id="origin-1")
    report = warmer(handler)({"warmer": True, "concurrency": 10}, context)

    assert api.max_in_flight == 9
    assert len(api.calls) == 9
    assert {(c.function, c.qualifier, c.invocation_type) for c in api.calls} == {
        (FUNCTION_ARN, "live", "RequestResponse")
    }
    assert sorted(c.payload[FANOUT_KEY]["index"] for c in api.calls) == list(range(2, 11))
    assert {(c.payload[FANOUT_KEY]["total"], c.payload[FANOUT_KEY]["correlation_id"]) for c in api.calls} == {
        (10, "origin-1")
    }
    assert set(api.calls[0].payload) == {FANOUT_KEY}  # no flag, no concurrency field: cannot fan out again
    assert report["invocations_sent"] == 9
    assert report["invocations_failed"] == 0
    assert report["failures"] == []
    assert report["instances_warmed"] == 10
    assert report["instances_cold"] == 10
    assert report["correlation_id"] == "origin-1"
    assert report["fanout_ms"] > 0


@pytest.mark.parametrize(
    ("memory", "send_ms", "throttled_ms"),
    [("1769", 0.4, 0), ("3008", 0.4, 0), ("128", 5.53, 92.8), ("512", 1.38, 71.1)],
)
def test_instances_hold_the_delay_plus_the_time_the_round_takes_to_leave(
    invoke_api: StartApi, monkeypatch: pytest.MonkeyPatch, memory: str, send_ms: float, throttled_ms: float
) -> None:
    """First round: the time between two sends is estimated from the CPU share (memory size), and
    below a whole vCPU the round may wait out the throttled rest of one 100 ms quota period."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory)
    api = invoke_api(distinct_instances)
    report = warmer(delay=100)(handler)({"warmer": True, "concurrency": 6}, make_context())
    expected = 100 + round(send_ms * 4 + throttled_ms)  # 5 invokes: 4 gaps from the first to the last
    holds = {c.payload[FANOUT_KEY]["hold_ms"] for c in api.calls}
    assert holds == {report["hold_ms"]}  # one hold for all: the order they leave in is not known
    assert report["hold_ms"] == pytest.approx(expected, abs=1)
    assert report["send_spread_ms"] >= 0


def test_later_rounds_hold_for_the_measured_spread(
    invoke_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
    api = invoke_api(distinct_instances)
    wrapped = warmer(delay=100)(handler)
    from lambdawarmer.timing import expected_send_spread_ms

    wrapped({"warmer": True, "concurrency": 11}, make_context())
    second = wrapped({"warmer": True, "concurrency": 11}, make_context())
    # the first round started the sending threads: it taught nothing about a round that does not
    assert second["hold_ms"] == 100 + round(expected_send_spread_ms(None, 11, 128))
    third = wrapped({"warmer": True, "concurrency": 11}, make_context())
    measured_gap = second["send_spread_ms"] / 9
    # the measured spread has the CPU quota's throttling in it: the model's gap is not added again
    assert third["hold_ms"] == pytest.approx(100 + max(0.5, 1.5 * measured_gap) * 9, abs=1)
    assert {c.payload[FANOUT_KEY]["hold_ms"] for c in api.calls[20:]} == {third["hold_ms"]}


def test_a_round_that_opens_https_connections_is_held_for_their_handshakes_and_only_that_round(
    invoke_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each new HTTPS connection costs a handshake at the function's CPU share before its invoke
    leaves: the first round is held for them, a round on the kept-alive connections is not (the
    model's spread, not the first round's handshake-filled one), and a round after the service
    closed the idle connections (as while the environment was frozen) opens and holds for them again."""
    from lambdawarmer.timing import expected_send_spread_ms, handshake_ms_for

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")

    def holding(call: InvokeCall) -> tuple[int, dict[str, str], bytes]:
        time.sleep(call.payload[FANOUT_KEY]["hold_ms"] / 1000)  # as an instance does: all in flight at once
        return distinct_instances(call)

    invoke_api(holding, tls=True, idle_timeout_s=3.0)
    wrapped = warmer(delay=100)(handler)
    kept_alive_ms = expected_send_spread_ms(None, 11, 128)
    first = wrapped({"warmer": True, "concurrency": 11}, make_context())
    assert first["instances_warmed"] == 11, first
    assert first["rounds"][0]["tls_handshakes"] == 10
    assert first["hold_ms"] == 100 + round(kept_alive_ms + 10 * handshake_ms_for(128))
    second = wrapped({"warmer": True, "concurrency": 11}, make_context())
    assert second["instances_warmed"] == 11, second
    assert second["rounds"][0]["tls_handshakes"] == 0
    assert second["hold_ms"] == 100 + round(kept_alive_ms)  # the first round's spread taught nothing
    time.sleep(3.5)  # the server closes the idle connections
    third = wrapped({"warmer": True, "concurrency": 11}, make_context())
    assert third["instances_warmed"] == 11, third
    assert third["rounds"][0]["tls_handshakes"] == 10
    # sized from the kept-alive round's measured sends, plus the handshakes this round opens
    learned_ms = max(0.5, 1.5 * second["send_spread_ms"] / 9) * 9
    assert third["hold_ms"] == pytest.approx(100 + learned_ms + 10 * handshake_ms_for(128), abs=1)


def test_a_kept_alive_round_is_held_from_kept_alive_arrivals_only(invoke_api: StartApi) -> None:
    """The first round starts the sending threads (and opens connections): its instances' arrivals
    are spread by that, which a round on the threads and connections kept does not meet. The next
    round is held for the model's spread, not for the first one's arrivals; a kept-alive round's own
    arrival spread is what the round after it is held for."""
    from lambdawarmer.timing import expected_send_spread_ms

    gaps = [60, 20, 20]  # ms between two instances' arrivals, ping by ping (10 invokes each)
    calls = itertools.count()

    def arriving(call: InvokeCall) -> tuple[int, dict[str, str], bytes]:
        index = call.payload[FANOUT_KEY]["index"]
        gap = gaps[next(calls) // 10]
        status, headers, body = report_answer(call, f"instance-{index}", cold=False)
        answer = {**json.loads(body), "held_at": 1_000_000 + index * gap}
        return status, headers, json.dumps(answer).encode()

    invoke_api(arriving)
    wrapped = warmer(delay=100)(handler)
    wrapped({"warmer": True, "concurrency": 11}, make_context(request_id="first"))
    second = wrapped({"warmer": True, "concurrency": 11}, make_context(request_id="second"))
    assert second["hold_ms"] == 100 + round(expected_send_spread_ms(None, 11, 1769)), second
    third = wrapped({"warmer": True, "concurrency": 11}, make_context(request_id="third"))
    learned_ms = max(0.5, 1.5 * second["send_spread_ms"] / 9) * 9
    assert third["hold_ms"] == pytest.approx(100 + max(learned_ms, 1.5 * 9 * 20), abs=1), third


def test_a_round_that_opens_connections_learns_from_one_that_did_though_a_top_up_followed(
    invoke_api: StartApi,
) -> None:
    """As on Lambda, the service closes the idle connections between pings: every first round opens
    them, and its top-up reuses them. The first round's arrivals (60 ms apart) teach the next first
    round, not only the top-up's kind: the next ping is held for them, one round (a top-up every ping
    otherwise, twice the invokes)."""
    token = "the-owners-token-0123"

    def arriving(call: InvokeCall) -> tuple[int, dict[str, str], bytes]:
        data = call.payload[FANOUT_KEY]
        time.sleep(0.2)  # all in flight at once, as instances holding
        index = data["index"]
        too_short = data["hold_ms"] - 100 < 9 * 60  # the last invoke then meets instance 2 again
        answered = "instance-2" if too_short and index == 11 else f"instance-{index}"
        status, headers, body = report_answer(call, answered, cold=False)
        answer = {**json.loads(body), "held_at": 1_000_000 + index * 60}
        return status, headers, json.dumps(answer).encode()

    invoke_api(arriving, tls=True, idle_timeout_s=0.5)
    wrapped = warmer(delay=100, token=token)(handler)
    ping = {"warmer": True, "concurrency": 11, "token": token}
    first = wrapped(ping, make_context(request_id="first"))
    assert [r["tls_handshakes"] > 0 for r in first["rounds"]] == [True, False], first["rounds"]
    time.sleep(1.0)  # the service closes the idle connections
    second = wrapped(ping, make_context(request_id="second"))
    assert len(second["rounds"]) == 1, second["rounds"]
    assert second["rounds"][0]["tls_handshakes"] == 10
    assert second["instances_warmed"] == 11
    assert second["hold_ms"] - 100 >= 9 * 60  # held at least for the arrivals it learned


def test_the_hold_never_exceeds_what_receivers_accept(invoke_api: StartApi) -> None:
    from lambdawarmer.timing import MAX_EXTRA_HOLD_MS

    most = 100 + MAX_EXTRA_HOLD_MS
    api = invoke_api(distinct_instances)
    engine = Warmer(load_config({"delay": 100}))
    wrapped = engine.wrap(handler)
    wrapped({"warmer": True, "concurrency": 3}, make_context())
    assert engine._originator is not None
    engine._originator.send_ms = 15_000.0  # as after a pathological round: a 15 s spread expected
    report = wrapped({"warmer": True, "concurrency": 3}, make_context(remaining_ms=60_000))
    assert report["hold_ms"] == most
    assert {c.payload[FANOUT_KEY]["hold_ms"] for c in api.calls[2:]} == {most}


@pytest.mark.parametrize(
    ("arn", "version", "expected"),
    [
        (f"{FUNCTION_ARN}:live", "$LATEST", FunctionRef(FUNCTION_ARN, "live")),
        (f"{FUNCTION_ARN}:12", "12", FunctionRef(FUNCTION_ARN, "12")),
        (FUNCTION_ARN, "$LATEST", FunctionRef(FUNCTION_ARN, "$LATEST")),
        (
            "arn:aws-cn:lambda:cn-north-1:1:function:f:blue",
            "3",
            FunctionRef("arn:aws-cn:lambda:cn-north-1:1:function:f", "blue"),
        ),
        ("", "7", FunctionRef("orders", "7")),
        ("not-an-arn", "7", FunctionRef("orders", "7")),
    ],
)
def test_target_is_what_the_function_was_invoked_as(
    arn: str, version: str, expected: FunctionRef, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", version)
    assert invoked_function(make_context(arn=arn)) == expected


def test_unqualified_invocation_falls_back_to_name_and_version(
    invoke_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "7")
    api = invoke_api(distinct_instances)
    warmer(handler)({"warmer": True, "concurrency": 2}, make_context(arn=""))
    assert [(c.function, c.qualifier) for c in api.calls] == [("orders", "7")]


def test_the_cap_bounds_the_fan_out_whatever_the_event_asks(
    invoke_api: StartApi, caplog: pytest.LogCaptureFixture
) -> None:
    api = invoke_api(distinct_instances)
    report = warmer(max_concurrency=5)(handler)({"warmer": True, "concurrency": 10**9}, make_context())
    assert len(api.calls) == 4
    assert report["concurrency"] == 5
    assert report["instances_warmed"] == 5
    assert any("above the cap; warming 5 instances" in r.getMessage() for r in caplog.records)


def test_an_instance_that_answers_twice_is_counted_once(
    invoke_api: StartApi, caplog: pytest.LogCaptureFixture
) -> None:
    invoke_api(lambda call: report_answer(call, "same-instance", cold=False))
    token = "the-owners-token-for-a-top-up"  # a top-up round only for the owner's pings
    report = warmer(token=token)(handler)({"warmer": True, "concurrency": 4, "token": token}, make_context())
    assert report["invocations_failed"] == 0
    assert report["instances_warmed"] == 2
    assert report["instances_cold"] == 1  # only this instance, on its first invocation
    assert [r["instances_warmed"] for r in report["rounds"]] == [2, 2]  # the top-up could not help here
    assert any(
        "2 of 4 instances warmed after 2 round(s)" in r.getMessage()
        and "raise WARMER_DELAY" in r.getMessage()
        for r in caplog.records
    )


def mixed_failures(call: InvokeCall) -> tuple[int, dict[str, str], bytes]:
    index = call.payload[FANOUT_KEY]["index"]
    if index == 2:
        return error_answer(429, "TooManyRequestsException", "Rate Exceeded.")
    if index == 3:
        return error_answer(403, "AccessDeniedException", "not authorized to perform: lambda:InvokeFunction")
    if index == 4:
        return error_answer(500, "ServiceException", "internal")
    if index == 5:
        headers = {"X-Amz-Function-Error": "Unhandled", "Content-Type": "application/json"}
        return 200, headers, b'{"errorMessage": "boom", "errorType": "ValueError"}'
    if index == 6:
        return 200, {"Content-Type": "application/json"}, b'"hello from a function without lambdawarmer"'
    return distinct_instances(call)


def test_failed_invokes_are_counted_with_their_reasons_never_raised(
    invoke_api: StartApi, caplog: pytest.LogCaptureFixture
) -> None:
    invoke_api(mixed_failures)
    report = warmer(handler)({"warmer": True, "concurrency": 7}, make_context())
    assert report["invocations_sent"] == 6
    assert report["invocations_failed"] == 5
    reasons = {failure["index"]: failure["reason"] for failure in report["failures"]}
    assert reasons[2].startswith("TooManyRequestsException: Rate Exceeded")
    assert reasons[3].startswith("AccessDeniedException: not authorized")
    assert reasons[4].startswith("ServiceException")
    assert reasons[5] == "the function failed: ValueError: boom"
    assert reasons[6].startswith("not a JSON object: 'hello from a function without lambdawarmer'")
    assert report["instances_warmed"] == 2
    assert sum("fan-out invoke" in r.getMessage() for r in caplog.records) == 5


def test_unreachable_endpoint_fails_fast_and_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    report = warmer(handler)({"warmer": True, "concurrency": 3}, make_context())
    assert time.monotonic() - started < 5
    assert report["invocations_failed"] == 2
    assert all("EndpointConnectionError" in f["reason"] for f in report["failures"])


def test_slow_endpoint_is_cut_off_by_the_invoke_timeout(invoke_api: StartApi) -> None:
    release = threading.Event()
    invoke_api(lambda call: (release.wait(10), distinct_instances(call))[1])
    started = time.monotonic()
    wrapped = warmer(invoke_timeout=300, delay=50)(handler)
    report = wrapped({"warmer": True, "concurrency": 3}, make_context())
    elapsed = time.monotonic() - started
    release.set()
    assert elapsed < 3
    assert report["invocations_failed"] == 2
    for failure in report["failures"]:
        assert "ReadTimeoutError: no answer within 300 ms (WARMER_INVOKE_TIMEOUT)" in failure["reason"]
        assert f"holds {report['hold_ms']} ms" in failure["reason"]


def test_fan_out_ends_before_the_functions_time_runs_out(invoke_api: StartApi) -> None:
    """The contract: the answer comes before the deadline the runtime gives, whatever the API does."""
    release = threading.Event()
    invoke_api(lambda call: (release.wait(10), distinct_instances(call))[1])
    context = make_context(remaining_ms=1000)
    report = warmer(handler)({"warmer": True, "concurrency": 50}, context)
    left_ms = context.get_remaining_time_in_millis()
    release.set()
    assert left_ms > 0
    assert report["invocations_sent"] + report["invocations_not_sent"] == 49
    assert report["invocations_failed"] == report["invocations_sent"]
    assert {f["reason"] for f in report["failures"]} <= {"no answer before the function's time ran out"}
    if report["invocations_not_sent"]:
        assert report["not_sent_reason"].startswith("not sent: ")


def test_a_ping_after_failures_leaves_real_requests_alone(invoke_api: StartApi) -> None:
    invoke_api(lambda call: error_answer(429, "TooManyRequestsException", "Rate Exceeded."))
    wrapped = warmer(handler)
    assert wrapped({"warmer": True, "concurrency": 3}, make_context())["invocations_failed"] == 2
    assert wrapped({"order": 1}, make_context()) == "real work"


def run_isolated(code: str, endpoint: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter (nothing imported yet) and return the JSON it prints."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "orders",
        "AWS_ENDPOINT_URL_LAMBDA": endpoint,
        "PATH": "/usr/bin:/bin",
    }
    output = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(output.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_no_sdk_ever_and_the_client_is_loaded_by_the_first_fan_out_and_kept_alive(
    invoke_api: StartApi,
) -> None:
    api = invoke_api(distinct_instances)
    result = run_isolated(
        f"""
        import json, sys, time
        import lambdawarmer.warmup
        from awslambdaric.lambda_context import LambdaContext
        context = LambdaContext("r", None, None, int(time.time() * 1000) + 30000, "{FUNCTION_ARN}")
        engine = lambdawarmer.warmup.Warmer(lambdawarmer.load_config())
        wrapped = engine.wrap(lambda event, context: "ok")
        loaded = lambda: "lambdawarmer.aws" in sys.modules or "http.client" in sys.modules
        steps = {{"import": loaded()}}
        wrapped({{"order": 1}}, context)
        wrapped({{"warmer": True, "concurrency": 1}}, context)
        steps["no fan-out"] = loaded()
        wrapped({{"warmer": True, "concurrency": 3}}, context)
        steps["fan-out"] = loaded()
        client = engine._originator._fanout.client.get()
        wrapped({{"warmer": True, "concurrency": 3}}, context)
        steps["same client"] = engine._originator._fanout.client.get() is client
        steps["sdk"] = sorted(name for name in ("boto3", "botocore") if name in sys.modules)
        print(json.dumps(steps))
        """,
        api.url,
    )
    assert result == {"import": False, "no fan-out": False, "fan-out": True, "same client": True, "sdk": []}
    assert len(api.calls) == 4
    # Two invokes a round: together the two pings open at most two connections (a loaded machine may
    # send the first round's two over one, one after the other; the second round reuses what was kept).
    ports = {call.client_port for call in api.calls}
    assert len(ports) <= 2, "the second ping reuses the first one's kept-alive connections"


def test_the_report_tells_provisioned_environments_from_on_demand_ones(
    invoke_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda sets AWS_LAMBDA_INITIALIZATION_TYPE in each environment; requests (pings included) go to
    Provisioned Concurrency's environments first."""
    from lambdawarmer.instance import ExecutionEnvironment

    def first_two_provisioned(call: InvokeCall) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = distinct_instances(call)
        index = call.payload[FANOUT_KEY]["index"]
        kind = "provisioned-concurrency" if index <= 2 else "on-demand"
        return status, headers, json.dumps({**json.loads(body), "initialization": kind}).encode()

    invoke_api(first_two_provisioned)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    engine = Warmer(load_config(), ExecutionEnvironment())
    report = engine.wrap(handler)({"warmer": True, "concurrency": 4}, make_context())
    assert report["initialization"] == "provisioned-concurrency"
    assert (report["instances_warmed"], report["instances_provisioned"]) == (4, 2)
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE")
    alone = Warmer(load_config(), ExecutionEnvironment()).wrap(handler)({"warmer": True}, make_context())
    assert alone["initialization"] == "on-demand"


def test_a_tree_instance_that_cannot_start_a_thread_is_warmed_and_later_pings_are_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A function at its thread limit (its own threads): the instance's load of what relaying
    needs cannot start in a thread of its own; the ping is still answered, warmed, and the next
    ones (an originator's too) load what they need themselves."""
    from lambdawarmer.protocol import TreePlace, fanout_payload

    token = "owners-token-0123456789abcdef"
    wrapped = warmer(delay=0, token=token)(handler)
    start = threading.Thread.start

    def at_the_limit(thread: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", at_the_limit)
    place = TreePlace(int(time.time() * 1000), 2, 2, 1, 2**41)
    leaf = json.loads(fanout_payload(2, 3, "c", 0, token, tree=place))
    assert wrapped(leaf, make_context())["warmed"] is True
    monkeypatch.setattr(threading.Thread, "start", start)
    assert wrapped(leaf, make_context(request_id="again"))["warmed"] is True
    report = wrapped({"warmer": True, "concurrency": 1, "token": token}, make_context(request_id="scheduled"))
    assert report["warmed"] is True, report
    assert "error" not in report, report
