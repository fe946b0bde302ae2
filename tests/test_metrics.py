"""ColdStart/WarmStart metrics: EMF lines field by field, PutMetricData against moto's server."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import boto3
import pytest

from lambdawarmer import warmer
from lambdawarmer.protocol import FANOUT_KEY

from .conftest import make_context, settled


def handler(event: Any, context: Any) -> str:
    return "ok"


def emf_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]


def test_emf_line_per_invocation_field_by_field(capsys: pytest.CaptureFixture[str]) -> None:
    wrapped = warmer(send_metric=True, delay=0)(handler)
    before = int(time.time() * 1000)
    wrapped({"order": 1}, make_context())
    wrapped({"order": 2}, make_context())
    wrapped({FANOUT_KEY: {"index": 2, "total": 2, "correlation_id": "c"}}, make_context())
    lines = emf_lines(capsys.readouterr().out)
    assert len(lines) == 3
    for line in lines:
        assert set(line) == {"_aws", "FunctionName", "Invocation", "ColdStart", "WarmStart"}
        assert set(line["_aws"]) == {"Timestamp", "CloudWatchMetrics"}
        assert before <= line["_aws"]["Timestamp"] <= int(time.time() * 1000)
        assert line["_aws"]["CloudWatchMetrics"] == [
            {
                "Namespace": "LambdaWarmer",
                "Dimensions": [["FunctionName"], ["FunctionName", "Invocation"]],
                "Metrics": [{"Name": "ColdStart", "Unit": "Count"}, {"Name": "WarmStart", "Unit": "Count"}],
            }
        ]
        assert line["FunctionName"] == "orders"
    assert [(x["Invocation"], x["ColdStart"], x["WarmStart"]) for x in lines] == [
        ("request", 1, 0),
        ("request", 0, 1),
        ("warmup", 0, 1),
    ]


def test_emf_namespace_and_awkward_function_names_are_encoded(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", 'odd"name%s\\')
    warmer(send_metric=True, metrics_namespace="Team/Warm")(handler)({}, make_context())
    (line,) = emf_lines(capsys.readouterr().out)
    assert line["FunctionName"] == 'odd"name%s\\'
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Team/Warm"


def test_no_metric_lines_when_metrics_are_off(capsys: pytest.CaptureFixture[str]) -> None:
    warmer(handler)({}, make_context())
    assert emf_lines(capsys.readouterr().out) == []


def read_back(endpoint: str, dimensions: list[dict[str, str]]) -> dict[str, float]:
    cloudwatch = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1")
    sums = {}
    for name in ("ColdStart", "WarmStart"):
        stats = cloudwatch.get_metric_statistics(
            Namespace="LambdaWarmer",
            MetricName=name,
            Dimensions=dimensions,
            StartTime=time.time() - 600,
            EndTime=time.time() + 600,
            Period=60,
            Statistics=["Sum"],
        )
        sums[name] = sum(point["Sum"] for point in stats["Datapoints"])
    return sums


def test_put_metric_data_mode_sends_both_dimension_sets(
    cloudwatch_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", cloudwatch_endpoint)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "metered")
    wrapped = warmer(send_metric=True, metrics_mode="put_metric_data", delay=0)(handler)
    for event in ({"order": 1}, {"order": 2}, {"order": 3}, {FANOUT_KEY: {"index": 2, "total": 2}}):
        wrapped(event, make_context())
    function = {"Name": "FunctionName", "Value": "metered"}
    cloudwatch = boto3.client("cloudwatch", endpoint_url=cloudwatch_endpoint, region_name="us-east-1")

    def listed() -> set[tuple[str, tuple[tuple[str, str], ...]]]:
        found = cloudwatch.list_metrics(Namespace="LambdaWarmer", Dimensions=[function])["Metrics"]
        return {
            (m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]))) for m in found
        }

    wanted = {
        (name, dimensions)
        for name in ("ColdStart", "WarmStart")
        for dimensions in (
            (("FunctionName", "metered"),),
            (("FunctionName", "metered"), ("Invocation", "request")),
            (("FunctionName", "metered"), ("Invocation", "warmup")),
        )
    }
    assert settled(listed, wanted) == wanted
    # (moto sums every dimension set that contains the one asked for, so read back the full sets)
    requests = [function, {"Name": "Invocation", "Value": "request"}]
    expected = {"ColdStart": 1, "WarmStart": 2}
    assert settled(lambda: read_back(cloudwatch_endpoint, requests), expected) == expected
    pings = read_back(cloudwatch_endpoint, [function, {"Name": "Invocation", "Value": "warmup"}])
    assert pings == {"ColdStart": 0, "WarmStart": 1}


def test_put_metric_data_failure_never_fails_the_request(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", f"http://127.0.0.1:{port}")
    wrapped = warmer(send_metric=True, metrics_mode="put_metric_data")(handler)
    assert wrapped({"order": 1}, make_context()) == "ok"
    failed = lambda: any("PutMetricData failed" in r.getMessage() for r in caplog.records)  # noqa: E731
    assert settled(failed, True)  # logged by the sender, after the request


def test_put_metric_data_sender_that_cannot_start_never_fails_a_request(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # No real way to exhaust threads here: the start itself is made to fail, as Python does when the
    # process may start no more threads.
    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:9")
    wrapped = warmer(send_metric=True, metrics_mode="put_metric_data", delay=0)(handler)
    for order in range(3):
        assert wrapped({"order": order}, make_context()) == "ok"
    assert wrapped({FANOUT_KEY: {"index": 2, "total": 2}}, make_context()) is not None
    said = [r.getMessage() for r in caplog.records if "metrics are off" in r.getMessage()]
    assert len(said) == 1
    assert "can't start new thread" in said[0]
