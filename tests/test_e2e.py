"""End to end: the layer zip on a function in the emulator, run by the real awslambdaric.

Every comparison is with the same function without the layer. The runtime-dependent tests run on
each of Python 3.10 to 3.13 found on this machine; a missing one is skipped, and says so.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emulator import FunctionSpec, LambdaEmulator, runtime_python

from .conftest import OVERLAPPING_HANDLER, lambda_client, overlapping_requests, settled, write_function
from .contracts import environments_explained, warmed_n_of_n
from .test_metrics import read_back

pytestmark = pytest.mark.e2e
Start = Callable[..., LambdaEmulator]
WRAPPER_ENV = {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper"}

FUNCTION = """
import time

class OrderRejected(Exception):
    pass

def handler(event, context):
    print("HANDLER RAN")
    if isinstance(event, dict) and event.get("sleep_ms"):
        time.sleep(event["sleep_ms"] / 1000)
    if isinstance(event, dict) and event.get("reject"):
        raise OrderRejected(f"order {event['reject']} rejected")
    return {"event": event, "type": type(event).__name__}
"""


@pytest.fixture
def code(tmp_path: Path) -> Path:
    directory = write_function(tmp_path / "code", FUNCTION)
    (directory / "broken.py").write_text("def handler(event, context)\n    pass\n")
    return directory


def spec(code: Path, layer: Path | None, runtime: str = "python3.11", **options: Any) -> FunctionSpec:
    return FunctionSpec(
        name="orders",
        code=code,
        handler=options.pop("handler", "app.handler"),
        runtime=runtime,
        layers=[layer] if layer else [],
        environment={**(WRAPPER_ENV if layer else {}), **options.pop("environment", {})},
        timeout_s=30,
        **options,
    )


def call(emulator: LambdaEmulator, event: Any, **arguments: Any) -> tuple[str | None, Any]:
    answer = lambda_client(emulator).invoke(FunctionName="orders", Payload=json.dumps(event), **arguments)
    return answer.get("FunctionError"), json.loads(answer["Payload"].read())


def handler_runs(emulator: LambdaEmulator) -> int:
    return sum(line == "HANDLER RAN" for line in emulator.output())


def test_normal_events_get_the_same_response_as_without_the_layer(
    start_emulator: Start, code: Path, layer_zip: Path, runtime: str
) -> None:
    layered = start_emulator(spec(code, layer_zip, runtime))
    bare = start_emulator(spec(code, None, runtime))
    for event in ({"order": 1, "warmer": "yes"}, [1, 2, 3], "text", None, 7, {}):
        assert (
            call(layered, event)
            == call(bare, event)
            == (None, {"event": event, "type": type(event).__name__})
        )
    assert handler_runs(layered) == 6


def test_a_ping_warms_without_running_the_handler(
    start_emulator: Start, code: Path, layer_zip: Path, runtime: str
) -> None:
    emulator = start_emulator(spec(code, layer_zip, runtime))
    error, report = call(emulator, {"warmer": True, "concurrency": 3})
    assert error is None
    assert report["warmed"] is True
    assert (report["instances_warmed"], report["invocations_failed"], report["cold"]) == (3, 0, True)
    assert report["function"] == "orders"
    assert handler_runs(emulator) == 0
    assert len({i.environment_id for i in emulator.invocations}) == 3


@pytest.mark.parametrize("concurrency", [2, 5, 10])
def test_concurrency_n_warms_n_environments_then_n_requests_start_warm(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, concurrency: int, runtime: str
) -> None:
    code = write_function(tmp_path / "overlapping", OVERLAPPING_HANDLER)
    emulator = start_emulator(spec(code, layer_zip, runtime))
    warmed = environments_explained(emulator, warmed_n_of_n(emulator, concurrency))
    pinged = len(emulator.invocations)
    # Held until all have arrived: they overlap, so each needs its own environment.
    answers = overlapping_requests(lambda_client(emulator), tmp_path / "barrier", concurrency)
    assert [answer["error"] for answer in answers] == [None] * concurrency
    real = emulator.invocations[pinged:]
    assert [i.cold for i in real] == [False] * concurrency
    assert {i.environment_id for i in real} <= warmed


def test_a_fan_out_through_an_alias_stays_on_the_alias(
    start_emulator: Start, code: Path, layer_zip: Path
) -> None:
    emulator = start_emulator(spec(code, layer_zip, versions=["1", "2"], aliases={"live": "2"}))
    error, report = call(emulator, {"warmer": True, "concurrency": 4}, Qualifier="live")
    assert (error, report["instances_warmed"]) == (None, 4)
    assert [(i.qualifier, i.version) for i in emulator.invocations] == [("live", "2")] * 4


def test_handler_exceptions_reach_the_caller_unchanged(
    start_emulator: Start, code: Path, layer_zip: Path, runtime: str
) -> None:
    layered_error, layered = call(start_emulator(spec(code, layer_zip, runtime)), {"reject": 42})
    bare_error, bare = call(start_emulator(spec(code, None, runtime)), {"reject": 42})
    assert layered_error == bare_error == "Unhandled"
    assert (layered["errorType"], layered["errorMessage"]) == ("OrderRejected", "order 42 rejected")
    assert (layered["errorType"], layered["errorMessage"]) == (bare["errorType"], bare["errorMessage"])
    assert (
        layered["stackTrace"][-len(bare["stackTrace"]) :] == bare["stackTrace"]
    )  # the user's frames, as they were


@pytest.mark.parametrize(
    "handler", ["nowhere.handler", "app.missing", "broken.handler", "nodot", "sys.handler"]
)
def test_init_errors_of_a_bad_handler_read_as_the_runtimes_own(
    start_emulator: Start, code: Path, layer_zip: Path, runtime: str, handler: str
) -> None:
    layered_error, layered = call(start_emulator(spec(code, layer_zip, runtime, handler=handler)), {})
    bare_error, bare = call(start_emulator(spec(code, None, runtime, handler=handler)), {})
    assert layered_error == bare_error == "Unhandled"
    assert layered["errorType"].startswith("Runtime.")
    assert (layered["errorType"], layered["errorMessage"]) == (bare["errorType"], bare["errorMessage"])
    assert "lambdawarmer" not in layered["errorMessage"]


def test_a_bad_setting_fails_init_naming_the_variable(
    start_emulator: Start, code: Path, layer_zip: Path
) -> None:
    emulator = start_emulator(spec(code, layer_zip, environment={"WARMER_DELAY": "soon"}))
    error, body = call(emulator, {"order": 1})
    assert error == "Unhandled"
    assert body["errorType"] == "WarmerConfigError"
    assert "WARMER_DELAY='soon'" in body["errorMessage"]
    assert "a whole number of milliseconds" in body["errorMessage"]
    assert handler_runs(emulator) == 0


def test_emf_lines_in_the_functions_output(
    start_emulator: Start, code: Path, layer_zip: Path, runtime: str
) -> None:
    emulator = start_emulator(spec(code, layer_zip, runtime, environment={"WARMER_SEND_METRIC": "true"}))
    call(emulator, {"warmer": True, "concurrency": 2})
    call(emulator, {"order": 1})
    records = [json.loads(line) for line in emulator.output() if line.startswith('{"_aws"')]
    lines = [record for record in records if "ColdStart" in record]
    (round_record,) = [record for record in records if "InstancesRequested" in record]
    assert (round_record["InstancesRequested"], round_record["InstancesWarmed"]) == (2, 2)
    assert sorted((x["Invocation"], x["ColdStart"], x["WarmStart"]) for x in lines) == [
        ("request", 0, 1),
        ("warmup", 1, 0),
        ("warmup", 1, 0),
    ]
    assert {x["FunctionName"] for x in lines} == {"orders"}


def test_put_metric_data_mode_through_the_runtime(
    start_emulator: Start, code: Path, layer_zip: Path, cloudwatch_endpoint: str, runtime: str
) -> None:
    environment = {
        "WARMER_SEND_METRIC": "true",
        "WARMER_METRICS_MODE": "put_metric_data",
        "AWS_ENDPOINT_URL_CLOUDWATCH": cloudwatch_endpoint,
    }
    environment["AWS_LAMBDA_FUNCTION_NAME"] = f"orders-{runtime}"  # each runtime's own metrics
    emulator = start_emulator(spec(code, layer_zip, runtime, environment=environment))
    call(emulator, {"warmer": True, "concurrency": 2})
    call(emulator, {"order": 1})
    function = {"Name": "FunctionName", "Value": f"orders-{runtime}"}
    warmups = [function, {"Name": "Invocation", "Value": "warmup"}]
    expected = {"ColdStart": 2, "WarmStart": 0}
    assert settled(lambda: read_back(cloudwatch_endpoint, warmups), expected) == expected
    requests = [function, {"Name": "Invocation", "Value": "request"}]
    expected = {"ColdStart": 0, "WarmStart": 1}
    assert settled(lambda: read_back(cloudwatch_endpoint, requests), expected) == expected
    assert not [line for line in emulator.output() if line.startswith('{"_aws"')]


def test_container_image_form(start_emulator: Start, code: Path, layer_zip: Path, runtime: str) -> None:
    entrypoint = ["/opt/lambdawarmer-wrapper", str(runtime_python(runtime)), "-m", "awslambdaric"]
    function = spec(code, layer_zip, runtime, entrypoint=entrypoint)
    function.environment = {}
    emulator = start_emulator(function)
    if not emulator.mount_opt:
        pytest.skip("the container form needs the layer at /opt (a private mount namespace, as root)")
    error, report = call(emulator, {"warmer": True, "concurrency": 2})
    assert (error, report["instances_warmed"]) == (None, 2)
    assert call(emulator, [1])[1] == {"event": [1], "type": "list"}
    assert handler_runs(emulator) == 1


def test_other_layers_in_lambdas_own_layer_paths_stay_importable(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, runtime: str
) -> None:
    other = tmp_path / "other-layer.zip"
    site = f"python/lib/{runtime}/site-packages"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr(f"{site}/vendored/__init__.py", "NAME = 'vendored'\n")
        archive.writestr(f"{site}/extra.pth", "extra_dir\n")
        archive.writestr(f"{site}/extra_dir/via_pth.py", "NAME = 'via_pth'\n")
        archive.writestr("python/plain.py", "NAME = 'plain'\n")
    code = write_function(
        tmp_path / "code",
        """
        import vendored, via_pth, plain
        def handler(event, context):
            return [vendored.NAME, via_pth.NAME, plain.NAME]
        """,
    )
    function = spec(code, layer_zip, runtime)
    function.layers = [other, layer_zip]
    emulator = start_emulator(function)
    if not emulator.mount_opt:
        pytest.skip("Lambda's /opt paths need the layers at /opt (a private mount namespace, as root)")
    assert call(emulator, {}) == (None, ["vendored", "via_pth", "plain"])
    assert call(emulator, {"warmer": True})[1]["warmed"] is True
