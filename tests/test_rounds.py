"""Warm-up rounds: top-up rounds, round metrics and ``"concurrency": "auto"``.

In process against a real Invoke API on 127.0.0.1 and moto's CloudWatch server; end to end through
the emulator with invokes reaching it unevenly.
"""

from __future__ import annotations

import datetime
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from emulator import LambdaEmulator
from emulator.http import FastHandler, LoopbackEndpoint
from lambdawarmer import load_config, warmer
from lambdawarmer.protocol import FANOUT_KEY

from .conftest import (
    FUNCTION,
    FUNCTION_ARN,
    InvokeCall,
    ScriptedInvokeApi,
    error_answer,
    lambda_client,
    layered_spec,
    make_context,
    settled,
    write_function,
)
from .control_plane import emptied

StartApi = Callable[[Callable[[InvokeCall], tuple[int, dict[str, str], bytes]]], ScriptedInvokeApi]
Start = Callable[..., LambdaEmulator]
Answer = tuple[int, dict[str, str], bytes]


def handler(event: Any, context: Any) -> str:
    return "real work"


def answer(call: InvokeCall, instance_id: str, held_at: int, cold: bool = False) -> Answer:
    data = call.payload[FANOUT_KEY]
    body = {
        "warmed": True,
        "instance_id": instance_id,
        "cold": cold,
        "index": data["index"],
        "held_at": held_at,
    }
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


class ShortFirstRound:
    """An Invoke API whose first round reuses one instance (arrivals 400 ms apart); later rounds don't."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.holds: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, call: InvokeCall) -> Answer:
        data = call.payload[FANOUT_KEY]
        with self._lock:
            self.holds.append(data["hold_ms"])
            round_number = (len(self.holds) - 1) // (self.total - 1) + 1
        base = 1_800_000_000_000
        if round_number == 1:
            return answer(call, "reused", base + 400 * (data["index"] % 2))
        return answer(call, "reused" if data["index"] == 2 else f"instance-{data['index']}", base)


TOKEN = "a-token-for-the-top-up-rounds"
OWNERS_PING = {"warmer": True, "token": TOKEN}
"""A top-up round is sent only for a ping carrying the token (the owner's)."""


def test_a_short_round_is_topped_up_with_a_longer_hold(invoke_api: StartApi) -> None:
    script = ShortFirstRound(total=5)
    invoke_api(script)
    report = warmer(delay=50, token=TOKEN)(handler)({**OWNERS_PING, "concurrency": 5}, make_context())
    assert report["instances_warmed"] == 5
    assert report["invocations_sent"] == 8
    first, second = report["rounds"]
    assert (first["instances_warmed"], second["instances_warmed"]) == (2, 5)
    assert first["arrival_spread_ms"] == 400
    assert second["hold_ms"] >= 50 + 2 * 400  # twice what the short round measured
    assert set(script.holds[4:]) == {second["hold_ms"]}


def test_a_tokenless_ping_gets_one_round_only(invoke_api: StartApi, caplog: pytest.LogCaptureFixture) -> None:
    """Anyone who can invoke the function can send a tokenless ping: N - 1 invocations at most."""
    api = invoke_api(ShortFirstRound(total=5))
    report = warmer(delay=50)(handler)({"warmer": True, "concurrency": 5}, make_context())
    assert (len(report["rounds"]), report["invocations_sent"], len(api.calls)) == (1, 4, 4)
    assert "a top-up round is sent only for pings carrying WARMER_TOKEN" in caplog.text


def test_no_top_up_when_failures_explain_the_shortfall(invoke_api: StartApi) -> None:
    def respond(call: InvokeCall) -> Answer:
        index = call.payload[FANOUT_KEY]["index"]
        if index == 2:
            return error_answer(429, "TooManyRequestsException", "Rate Exceeded.")
        return answer(call, f"instance-{index}", 1_800_000_000_000)

    api = invoke_api(respond)
    report = warmer(handler)({"warmer": True, "concurrency": 4}, make_context())
    assert (report["instances_warmed"], report["invocations_failed"], len(report["rounds"])) == (3, 1, 1)
    assert len(api.calls) == 3


def test_the_top_up_can_be_turned_off(invoke_api: StartApi) -> None:
    invoke_api(ShortFirstRound(total=4))
    report = warmer(top_up=False)(handler)({"warmer": True, "concurrency": 4}, make_context())
    assert len(report["rounds"]) == 1
    assert report["instances_warmed"] == 2


def test_no_top_up_past_the_deadline(invoke_api: StartApi, caplog: pytest.LogCaptureFixture) -> None:
    invoke_api(ShortFirstRound(total=4))
    started = time.monotonic()
    report = warmer(delay=800, token=TOKEN)(handler)(
        {**OWNERS_PING, "concurrency": 4}, make_context(remaining_ms=2_500)
    )
    assert time.monotonic() - started < 2.5
    assert len(report["rounds"]) == 1
    assert "no time left for a top-up round" in caplog.text


# -- round metrics ---------------------------------------------------------------------------------


def emf_rounds(text: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]
    return [line for line in lines if "InstancesRequested" in line]


def test_each_ping_writes_one_record_of_round_metrics(
    invoke_api: StartApi, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke_api(ShortFirstRound(total=4))
    wrapped = warmer(send_metric=True, top_up=False)(handler)
    wrapped({"warmer": True, "concurrency": 4}, make_context(arn=f"{FUNCTION_ARN}:live"))
    (record,) = emf_rounds(capsys.readouterr().out)
    assert (record["InstancesRequested"], record["InstancesWarmed"], record["InvokesFailed"]) == (4, 2, 0)
    assert (record["FunctionName"], record["Resource"]) == (FUNCTION, f"{FUNCTION}:live")
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["FunctionName"], ["FunctionName", "Resource"]]
    assert [m["Name"] for m in directive["Metrics"]] == [
        "InstancesRequested",
        "InstancesWarmed",
        "InvokesFailed",
    ]


def test_round_metrics_through_put_metric_data(
    invoke_api: StartApi, cloudwatch_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke_api(lambda call: answer(call, f"i-{call.payload[FANOUT_KEY]['index']}", 1))
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", cloudwatch_endpoint)
    namespace = f"RoundTest{time.monotonic_ns()}"
    wrapped = warmer(send_metric=True, metrics_mode="put_metric_data", metrics_namespace=namespace)(handler)
    wrapped({"warmer": True, "concurrency": 3}, make_context())
    cloudwatch = boto3.client("cloudwatch", endpoint_url=cloudwatch_endpoint)
    wanted = {"InstancesRequested", "InstancesWarmed", "InvokesFailed"}

    def names() -> bool:
        return wanted <= {m["MetricName"] for m in cloudwatch.list_metrics(Namespace=namespace)["Metrics"]}

    assert settled(names, True)  # sent by the layer's own thread


# -- auto concurrency --------------------------------------------------------------------------------


@pytest.fixture
def cloudwatch(cloudwatch_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto's CloudWatch, emptied, with the function's boto3 pointed at it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", cloudwatch_endpoint)
    return emptied(cloudwatch_endpoint)


def minutes_ago(minutes: int) -> datetime.datetime:
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    return now - datetime.timedelta(minutes=minutes) + datetime.timedelta(seconds=10)


def seed(
    cloudwatch: Any, traffic: dict[int, int], pings: dict[int, int], qualifier: str | None = None
) -> None:
    """ConcurrentExecutions per minute (minutes ago -> value), and warm-up rounds in some minutes,
    which Lambda counts in ConcurrentExecutions too (the ping's N)."""
    dimensions = [{"Name": "FunctionName", "Value": FUNCTION}]
    if qualifier:
        dimensions.append({"Name": "Resource", "Value": f"{FUNCTION}:{qualifier}"})
    for minute, value in {**traffic, **pings}.items():
        datum = {
            "MetricName": "ConcurrentExecutions",
            "Dimensions": dimensions,
            "Timestamp": minutes_ago(minute),
        }
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[{**datum, "Value": value}])
    for minute, value in pings.items():
        datum = {
            "MetricName": "InstancesRequested",
            "Dimensions": dimensions,
            "Timestamp": minutes_ago(minute),
        }
        cloudwatch.put_metric_data(Namespace="LambdaWarmer", MetricData=[{**datum, "Value": value}])


def distinct(call: InvokeCall) -> Answer:
    return answer(call, f"instance-{call.payload[FANOUT_KEY]['index']}", 1_800_000_000_000)


AUTO = {"warmer": True, "concurrency": "auto"}


def test_autos_defaults_warm_the_days_peak_without_headroom(invoke_api: StartApi, cloudwatch: Any) -> None:
    """The defaults chosen on the Azure Functions trace (bench/traces.md): the last 24 hours' peak."""
    invoke_api(distinct)
    seed(cloudwatch, traffic={1300: 7, 600: 2, 10: 1}, pings={})
    report = warmer(handler)(AUTO, make_context())
    assert (report["concurrency"], report["auto"]["peak"], report["auto"]["window_minutes"]) == (7, 7.0, 1440)


def test_auto_warms_the_recent_peak_plus_headroom(invoke_api: StartApi, cloudwatch: Any) -> None:
    api = invoke_api(distinct)
    seed(cloudwatch, traffic={30: 2, 20: 5, 10: 9, 5: 4}, pings={})
    report = warmer(auto_headroom=20)(handler)(AUTO, make_context())
    assert report["concurrency"] == 11  # ceil(9 x 1.2)
    assert report["concurrency_source"] == "auto"
    assert report["auto"] == {
        "peak": 9.0,
        "window_minutes": 1440,
        "warm_up_minutes_excluded": 0,
        "fallback": None,
    }
    assert report["instances_warmed"] == 11
    assert len(api.calls) == 10


def test_auto_follows_traffic_down_and_is_not_ratcheted_by_its_own_pings(
    invoke_api: StartApi, cloudwatch: Any
) -> None:
    invoke_api(distinct)
    wrapped = warmer(auto_window=10, auto_headroom=0)(handler)
    rising = {12: 2, 9: 6, 7: 10, 3: 20}
    seed(cloudwatch, traffic=rising, pings={})
    assert wrapped(AUTO, make_context())["concurrency"] == 20
    # Traffic falls; the pings at 20 keep raising ConcurrentExecutions in their own minutes.
    seed(cloudwatch, traffic={2: 3, 1: 4}, pings={8: 20, 5: 20, 4: 20})
    report = wrapped(AUTO, make_context())
    assert report["auto"]["warm_up_minutes_excluded"] == 3
    assert report["concurrency"] == 20  # minute 3 (traffic 20) is still in the 10-minute window


def test_auto_falls_when_the_peak_leaves_the_window(invoke_api: StartApi, cloudwatch: Any) -> None:
    invoke_api(distinct)
    wrapped = warmer(auto_window=10, auto_headroom=0)(handler)
    seed(cloudwatch, traffic={15: 30, 12: 25, 6: 3, 2: 4}, pings={9: 30, 5: 30, 1: 30})
    report = wrapped(AUTO, make_context())
    assert report["concurrency"] == 4
    assert report["auto"]["peak"] == 4.0


def test_auto_reads_the_qualifier_it_was_invoked_through(invoke_api: StartApi, cloudwatch: Any) -> None:
    invoke_api(distinct)
    seed(cloudwatch, traffic={5: 50}, pings={})
    seed(cloudwatch, traffic={5: 3}, pings={}, qualifier="live")
    report = warmer(auto_headroom=0)(handler)(AUTO, make_context(arn=f"{FUNCTION_ARN}:live"))
    assert report["concurrency"] == 3


def test_auto_counts_only_what_lies_above_the_provisioned_level(
    invoke_api: StartApi, cloudwatch: Any
) -> None:
    """Requests go to provisioned environments first: a minute's on-demand peak is its
    ConcurrentExecutions less its ProvisionedConcurrentExecutions (never below 0)."""
    invoke_api(distinct)
    seed(cloudwatch, traffic={30: 12, 20: 9, 10: 4}, pings={}, qualifier="live")
    for minute, busy in {30: 10, 20: 3, 10: 4}.items():
        datum = {
            "MetricName": "ProvisionedConcurrentExecutions",
            "Dimensions": [
                {"Name": "FunctionName", "Value": FUNCTION},
                {"Name": "Resource", "Value": f"{FUNCTION}:live"},
            ],
            "Timestamp": minutes_ago(minute),
            "Value": busy,
        }
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[datum])
    report = warmer(auto_headroom=0)(handler)(AUTO, make_context(arn=f"{FUNCTION_ARN}:live"))
    assert (report["concurrency"], report["auto"]["peak"]) == (6, 6.0)  # minute 20: 9 busy, 3 provisioned


def test_auto_is_bounded(invoke_api: StartApi, cloudwatch: Any, cloudwatch_endpoint: str) -> None:
    invoke_api(distinct)
    seed(cloudwatch, traffic={5: 500}, pings={})
    assert warmer(auto_max=7)(handler)(AUTO, make_context())["concurrency"] == 7
    seed(emptied(cloudwatch_endpoint), traffic={5: 0}, pings={})
    assert warmer(auto_min=3)(handler)(AUTO, make_context())["concurrency"] == 3


def test_empty_metric_falls_back_with_the_reason(
    invoke_api: StartApi, cloudwatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    invoke_api(distinct)
    report = warmer(auto_fallback=2)(handler)(AUTO, make_context())
    assert report["concurrency"] == 2
    assert report["auto"]["fallback"].startswith("no ConcurrentExecutions data outside warm-up minutes")
    assert "auto concurrency: warming 2: no ConcurrentExecutions data" in caplog.text


class DeniedCloudWatch(FastHandler):
    """CloudWatch refusing the call, as it does without cloudwatch:GetMetricData (rpc-v2-cbor's error)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.reply(403, b"", {"x-amzn-query-error": "AccessDenied;Sender", "smithy-protocol": "rpc-v2-cbor"})


def test_denied_metric_falls_back_with_the_reason(
    invoke_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke_api(distinct)
    denied = LoopbackEndpoint(DeniedCloudWatch)
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", denied.url)
        report = warmer(handler)(AUTO, make_context())
    finally:
        denied.close()
    assert report["warmed"] is True
    assert report["concurrency"] == 1
    assert report["auto"]["fallback"] == "GetMetricData failed: AccessDenied"


def test_a_silent_cloudwatch_costs_at_most_its_timeouts(
    invoke_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke_api(distinct)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts, never answers
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        report = warmer(auto_fallback=2)(handler)(AUTO, make_context())
        elapsed = time.monotonic() - started
    assert elapsed < 5
    assert report["concurrency"] == 2
    assert "GetMetricData failed" in report["auto"]["fallback"]


def test_auto_with_little_time_left_does_not_call(
    invoke_api: StartApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke_api(distinct)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:9")
    report = warmer(handler)(AUTO, make_context(remaining_ms=800))
    assert report["auto"]["fallback"].startswith("not enough of the function's time left to read the metric")
    assert "300 ms needed" in report["auto"]["fallback"]


def test_auto_writes_its_round_metrics_even_with_metrics_off(
    invoke_api: StartApi, cloudwatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke_api(distinct)
    seed(cloudwatch, traffic={3: 2}, pings={})
    warmer(auto_headroom=0)(handler)(AUTO, make_context())
    (record,) = emf_rounds(capsys.readouterr().out)
    assert (record["InstancesRequested"], record["InstancesWarmed"]) == (2, 2)


# -- end to end: invokes that reach Lambda unevenly -----------------------------------------------


@pytest.mark.e2e
def test_jittered_invokes_end_n_of_n_every_time(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    """Each synchronous invoke waits a random 0-400 ms before it is routed: N=8 ends 8 of 8, always.

    The first ping of a fresh function is helped by the cold starts (each keeps its environment busy);
    the pings after it meet warm, idle environments: without the top-up they end 4 or 5 of 8 here."""
    code = write_function(tmp_path / "code", "def handler(event, context):\n    return 'real work'\n")
    results = []
    for _ in range(3):
        emulator = start_emulator(layered_spec(code, layer_zip, WARMER_TOKEN=TOKEN), route_jitter_ms=400)
        client = lambda_client(emulator)
        for _ in range(3):
            body = client.invoke(FunctionName="orders", Payload=json.dumps({**OWNERS_PING, "concurrency": 8}))
            report = json.loads(body["Payload"].read())
            results.append((report["instances_warmed"], [r["hold_ms"] for r in report["rounds"]]))
        emulator.close()
    assert [warmed for warmed, _ in results] == [8] * len(results), results


def test_a_ping_for_one_instance_writes_its_round_metrics_too(capsys: pytest.CaptureFixture[str]) -> None:
    report = warmer(send_metric=True)(handler)({"warmer": True, "concurrency": 1}, make_context())
    assert "fanout_ms" not in report
    (record,) = emf_rounds(capsys.readouterr().out)
    assert (record["InstancesRequested"], record["InstancesWarmed"], record["InvokesFailed"]) == (1, 1, 0)


def test_autos_decision_alone_leaves_warm_up_minutes_out_and_keeps_its_bounds() -> None:
    """auto.decide: the same decision ``choose`` makes after its read, fed any per-minute peaks."""
    from lambdawarmer.auto import decide

    config = load_config({}, environ={"WARMER_AUTO_HEADROOM": "50", "WARMER_AUTO_MAX": "10"})
    choice = decide(config, {60: 4.0, 120: 9.0, 180: 2.0}, warm_up={120})
    assert (choice.instances, choice.peak, choice.excluded_minutes, choice.fallback) == (6, 4.0, 1, None)
    assert decide(config, {60: 30.0}, set()).instances == 10  # the ceiling
    fallback = decide(load_config({}, environ={"WARMER_AUTO_FALLBACK": "3"}), {60: 5.0}, {60})
    assert (fallback.instances, fallback.excluded_minutes) == (3, 1)
    reason = "no ConcurrentExecutions data outside warm-up minutes in the last 1440 minutes"
    assert fallback.fallback == reason
