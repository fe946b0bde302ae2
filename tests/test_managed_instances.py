"""Lambda Managed Instances under the layer: awslambdaric 4's multi-concurrent mode forks
``AWS_LAMBDA_MAX_CONCURRENCY`` workers in one environment, each loading the handler (and so the
layer) on its own. Every worker works; no request is a cold start (the environment is started
ahead of demand); a ping is answered at once, with no fan-out and no hold, and says why."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from emulator import FunctionSpec, LambdaEmulator

from .conftest import OVERLAPPING_HANDLER, lambda_client, layered_spec, overlapping_requests, write_function

pytestmark = pytest.mark.e2e
Start = Callable[..., LambdaEmulator]
WORKERS = 3

HANDLER = (
    OVERLAPPING_HANDLER
    + """
_overlapping = handler

def handler(event, context):
    return {**_overlapping(event, context), "pid": os.getpid()}  # which worker served it
"""
)


def managed(code: Path, layer_zip: Path) -> FunctionSpec:
    function = layered_spec(code, layer_zip, WARMER_SEND_METRIC="true")
    function.memory_mb = 2048
    function.max_concurrency = WORKERS
    return function


def test_every_worker_serves_and_none_is_a_cold_start(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    code = write_function(tmp_path / "code", HANDLER)
    emulator = start_emulator(managed(code, layer_zip))
    answers = overlapping_requests(lambda_client(emulator), tmp_path / "barrier", WORKERS)
    assert [answer["error"] for answer in answers] == [None] * WORKERS
    assert len({answer["body"]["pid"] for answer in answers}) == WORKERS  # three workers at once
    assert len(emulator.all_environments) == 1
    records = [json.loads(line) for line in emulator.output() if line.startswith('{"_aws"')]
    assert [(record["ColdStart"], record["WarmStart"]) for record in records] == [(0, 1)] * WORKERS


def test_a_ping_is_answered_at_once_without_fan_out_and_says_why(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    code = write_function(tmp_path / "code", HANDLER)
    emulator = start_emulator(managed(code, layer_zip))
    answer = lambda_client(emulator).invoke(
        FunctionName="orders", Payload=json.dumps({"warmer": True, "concurrency": 5})
    )
    report = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer
    assert (report["warmed"], report["cold"], report["concurrency"]) == (True, False, 5)
    assert "Lambda Managed Instances" in report["fan_out_skipped"]
    assert "invocations_sent" not in report
    assert len(emulator.invocations) == 1  # nothing fanned out
