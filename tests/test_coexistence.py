"""The layer on the functions users really have, end to end through the emulator and awslambdaric.

A deployment package that vendors lambda-warmer-py (or any ``lambdawarmer``), a handler that still
wears a warmer decorator, another exec wrapper (an instrumentation layer), a handler-redirecting
layer, a slow init, Lambda's log settings. Each test runs on every supported runtime found here.
"""

from __future__ import annotations

import json
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.functions import install_seed
from emulator import FunctionSpec, LambdaEmulator

from .conftest import lambda_client, write_function

pytestmark = pytest.mark.e2e
Start = Callable[..., LambdaEmulator]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
WRAPPER_ENV = {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper"}

PLAIN_HANDLER = """
import lambdawarmer

def handler(event, context):
    print("HANDLER RAN")
    return {"event": event, "lambdawarmer": lambdawarmer.__version__}
"""

BASIC_HANDLER = """
def handler(event, context):
    print("HANDLER RAN")
    return {"event": event}
"""

SEED_DECORATED_HANDLER = """
import lambdawarmer

@lambdawarmer.warmer(send_metric={send_metric})
def handler(event, context):
    print("HANDLER RAN")
    return {{"event": event, "lambdawarmer": lambdawarmer.__version__}}
"""

OUR_DECORATED_HANDLER = """
import lambdawarmer

@lambdawarmer.warmer(send_metric=True)
def handler(event, context):
    print("HANDLER RAN")
    return {"event": event, "package": lambdawarmer.__name__}
"""


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def seed_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lambda-warmer-py 0.6.0 from the registry, in a folder of this test session (never the project)."""
    return install_seed(tmp_path_factory.mktemp("lambda-warmer-py"))


@pytest.fixture(scope="session")
def other_layer_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second layer: an exec wrapper and handler modules standing for instrumentation layers."""
    source = FIXTURES / "other_layer"
    path = tmp_path_factory.mktemp("other-layer") / "other-layer.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            entry = zipfile.ZipInfo(file.relative_to(source).as_posix())
            entry.external_attr = (stat.S_IFREG | stat.S_IMODE(file.stat().st_mode)) << 16
            archive.writestr(entry, file.read_bytes())
    return path


def vendoring_code(directory: Path, seed_package: Path, source: str) -> Path:
    """A function's code folder that vendors lambda-warmer-py, as its users deploy it."""
    import shutil

    write_function(directory, source)
    shutil.copytree(seed_package, directory / "lambdawarmer")
    return directory


def function(code: Path, runtime: str, layers: list[Path], **environment: str) -> FunctionSpec:
    return FunctionSpec(
        name="orders",
        code=code,
        handler=environment.pop("handler", "app.handler"),
        runtime=runtime,
        layers=layers,
        environment=environment,
        timeout_s=30,
    )


def call(emulator: LambdaEmulator, event: Any) -> tuple[str | None, Any]:
    answer = lambda_client(emulator).invoke(FunctionName="orders", Payload=json.dumps(event))
    return answer.get("FunctionError"), json.loads(answer["Payload"].read())


def count(emulator: LambdaEmulator, text: str) -> int:
    return sum(text in line for line in emulator.output())


def assert_ping_warms(emulator: LambdaEmulator, concurrency: int) -> dict[str, Any]:
    """A ping warms ``concurrency`` environments, and only lambdawarmer's payloads were sent."""
    error, report = call(emulator, {"warmer": True, "concurrency": concurrency})
    assert error is None, report
    assert (report["instances_warmed"], report["invocations_failed"]) == (concurrency, 0), report
    assert len({i.environment_id for i in emulator.invocations}) == concurrency
    events = [json.loads(i.event) for i in emulator.invocations]
    assert all("__WARMER_INVOCATION__" not in event for event in events)  # no other warmer fanned out
    assert count(emulator, "HANDLER RAN") == 0
    return report  # type: ignore[no-any-return]


# -- 1. a vendored lambda-warmer-py -----------------------------------------------------------


@pytest.mark.parametrize("decorated", [False, True], ids=["plain-handler", "seed-decorator"])
def test_a_vendored_lambda_warmer_py_keeps_working_and_the_layer_warms(
    start_emulator: Start,
    tmp_path: Path,
    layer_zip: Path,
    seed_package: Path,
    runtime: str,
    decorated: bool,
) -> None:
    source = SEED_DECORATED_HANDLER.format(send_metric=False) if decorated else PLAIN_HANDLER
    code = vendoring_code(tmp_path / "code", seed_package, source)
    layered = start_emulator(function(code, runtime, [layer_zip], **WRAPPER_ENV))
    bare = start_emulator(function(code, runtime, []))
    assert_ping_warms(layered, 3)
    for event in ({"order": 1}, {"warmer": False, "order": 2}, {}):
        answer = call(layered, event)
        assert answer == call(bare, event)
        assert answer == (None, {"event": event, "lambdawarmer": "0.6.0"})  # their package, not ours
    warning = "wears lambda-warmer-py 0.6.0's @warmer decorator"
    assert count(layered, warning) == (len(layered.all_environments) if decorated else 0)
    if decorated:
        assert count(layered, "with send_metric off it only logs a line per request") > 0


def test_the_warning_says_what_the_seeds_metrics_still_cost(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, seed_package: Path, cloudwatch_endpoint: str
) -> None:
    code = vendoring_code(tmp_path / "code", seed_package, SEED_DECORATED_HANDLER.format(send_metric=True))
    emulator = start_emulator(
        function(code, "python3.11", [layer_zip], AWS_ENDPOINT_URL=cloudwatch_endpoint, **WRAPPER_ENV)
    )
    assert_ping_warms(emulator, 2)
    assert call(emulator, {"order": 1}) == (None, {"event": {"order": 1}, "lambdawarmer": "0.6.0"})
    assert count(emulator, "it still calls PutMetricData on every real request") == 2
    assert count(emulator, "It can be removed") == 2


# -- 2. our decorator under the layer ---------------------------------------------------------


def test_our_decorator_under_the_layer_counts_each_invocation_once(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, runtime: str
) -> None:
    code = write_function(tmp_path / "code", OUR_DECORATED_HANDLER)
    emulator = start_emulator(function(code, runtime, [layer_zip], WARMER_SEND_METRIC="true", **WRAPPER_ENV))
    assert_ping_warms(emulator, 2)
    for order in range(3):
        error, answer = call(emulator, {"order": order})
        assert error is None
        assert answer["package"] == "_lambdawarmer_layer"  # `import lambdawarmer` is the layer's package
    records = [json.loads(line) for line in emulator.output() if '"ColdStart"' in line]
    assert len(records) == len(emulator.invocations) == 5
    assert sum(record["ColdStart"] for record in records) == len(emulator.all_environments) == 2
    assert [r["Invocation"] for r in records].count("request") == 3
    assert count(emulator, "steps aside") == 0  # its arguments match the layer's settings


def test_decorator_arguments_the_layer_overrules_are_named(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    code = write_function(tmp_path / "code", OUR_DECORATED_HANDLER)
    emulator = start_emulator(function(code, "python3.11", [layer_zip], **WRAPPER_ENV))
    assert call(emulator, {"order": 1})[0] is None
    assert count(emulator, "these arguments are not used: send_metric=True") == 1
    assert count(emulator, "set WARMER_SEND_METRIC on the function to keep it") == 1
    assert not [line for line in emulator.output() if line.startswith('{"_aws"')]


# -- 3. another exec wrapper, a handler-redirecting layer -------------------------------------


def test_another_exec_wrapper_runs_but_pings_are_answered_before_its_handler(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, other_layer_zip: Path, runtime: str
) -> None:
    code = write_function(tmp_path / "code", BASIC_HANDLER)
    layered = start_emulator(
        function(
            code,
            runtime,
            [layer_zip, other_layer_zip],
            WARMER_EXEC_WRAPPER="/opt/otel-instrument",
            **WRAPPER_ENV,
        )
    )
    assert_ping_warms(layered, 3)
    assert count(layered, "OTEL WRAPPER RAN") == 3  # it set up every environment
    assert count(layered, "OTEL SPAN") == 0  # and never saw a ping
    instrumented = start_emulator(
        function(code, runtime, [other_layer_zip], AWS_LAMBDA_EXEC_WRAPPER="/opt/otel-instrument")
    )
    answer = call(layered, {"order": 7})
    assert answer == call(instrumented, {"order": 7})
    assert answer[0] is None
    assert count(layered, 'OTEL SPAN {"order": 7}') == 1
    assert count(layered, "HANDLER RAN") == 1


def test_a_handler_redirecting_layer_works_as_the_users_handler(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, other_layer_zip: Path, runtime: str
) -> None:
    code = write_function(tmp_path / "code", BASIC_HANDLER)
    redirect = {"handler": "redirect_fixture.handler.handler", "DD_LAMBDA_HANDLER": "app.handler"}
    emulator = start_emulator(
        function(code, runtime, [layer_zip, other_layer_zip], **redirect, **WRAPPER_ENV)
    )
    assert_ping_warms(emulator, 2)
    assert count(emulator, "REDIRECT SPAN") == 0
    error, answer = call(emulator, {"order": 1})
    assert error is None
    assert answer["event"] == {"order": 1}
    assert count(emulator, 'REDIRECT SPAN {"order": 1}') == 1


@pytest.mark.parametrize(
    ("path", "message"), [("/opt/missing", "does not exist"), ("/opt/python", "is not an executable")]
)
def test_a_bad_exec_wrapper_setting_fails_init_saying_why(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, path: str, message: str
) -> None:
    code = write_function(tmp_path / "code", PLAIN_HANDLER)
    emulator = start_emulator(
        function(code, "python3.11", [layer_zip], WARMER_EXEC_WRAPPER=path, **WRAPPER_ENV)
    )
    error, _ = call(emulator, {"order": 1})
    assert error == "Unhandled"
    assert count(emulator, f"WARMER_EXEC_WRAPPER={path}: {message}") == 1


# -- 4. a slow init -------------------------------------------------------------------------


def test_a_slow_init_is_warmed_n_of_n_with_the_default_timeouts(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, runtime: str
) -> None:
    source = "import time\ntime.sleep(2.5)  # a slow init: models, connections\n" + PLAIN_HANDLER
    code = write_function(tmp_path / "code", source)
    emulator = start_emulator(function(code, runtime, [layer_zip], **WRAPPER_ENV))
    report = assert_ping_warms(emulator, 4)
    assert report["instances_cold"] == 4


# -- 5. Lambda's log settings ---------------------------------------------------------------


def test_with_lambdas_json_log_format_the_ping_line_is_a_structured_record(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, runtime: str
) -> None:
    code = write_function(tmp_path / "code", PLAIN_HANDLER)
    settings = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}
    emulator = start_emulator(function(code, runtime, [layer_zip], **settings, **WRAPPER_ENV))
    report = assert_ping_warms(emulator, 2)
    records = [json.loads(line) for line in emulator.output() if '"logger": "lambdawarmer"' in line]
    assert len(records) == 2  # one per instance
    for record in records:
        assert record["level"] == "INFO"
        assert record["message"] == "lambdawarmer: warm-up ping answered"
        assert record["action"] == "warmer"
        assert record["correlation_id"] == report["correlation_id"]
        assert isinstance(record["instance_id"], str)


def test_lambdas_log_level_quiets_the_ping_line(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, runtime: str
) -> None:
    code = write_function(tmp_path / "code", PLAIN_HANDLER)
    settings = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "WARN"}
    emulator = start_emulator(function(code, runtime, [layer_zip], **settings, **WRAPPER_ENV))
    assert_ping_warms(emulator, 2)
    assert count(emulator, '"logger": "lambdawarmer"') == 0
    assert count(emulator, "warm-up ping answered") == 0


def test_warmer_log_level_shows_the_ping_line_in_the_text_format(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    code = write_function(tmp_path / "code", PLAIN_HANDLER)
    quiet = start_emulator(function(code, "python3.11", [layer_zip], **WRAPPER_ENV))
    assert_ping_warms(quiet, 2)
    assert count(quiet, '{"action":"warmer"') == 0  # the runtime's root logger is at WARNING
    loud = start_emulator(function(code, "python3.11", [layer_zip], WARMER_LOG_LEVEL="INFO", **WRAPPER_ENV))
    assert_ping_warms(loud, 2)
    assert count(loud, '{"action":"warmer"') == 2
