"""Observability libraries tell the truth about warmed environments (the real packages, from PyPI).

Each library is installed from the registry (tests/installs.py) into a folder of its own under
``.venvs/observability`` (never into the project), per runtime, and put on the function's
``PYTHONPATH`` as a deployment package would carry it; each runs on the oldest and the newest
supported runtime (``installs.LIBRARY_RUNTIMES``). Through the emulator and the real
awslambdaric: a ping warms 3 environments; 3 overlapping requests reach them (the first one fails
in its handler); then 4 overlapping requests reach those 3 and one new environment, a true cold
start. Every library's own verdict for every request must be the environment's truth: warm in the
pinged ones, cold once in the new one; the layer's own ``ColdStart`` metric agrees; and no library
has a record of any ping.

What each library's verdict is read from:

* Powertools Logger: its JSON log line (``cold_start``); Powertools Metrics: its ``ColdStart``
  metric (EMF); Powertools Tracer (tracing disabled, so no segment is sent): the flag its
  ``capture_lambda_handler`` annotates ``ColdStart`` from, read inside the handler;
* Datadog: its enhanced ``aws.lambda.enhanced.invocations`` metric, written to stdout
  (``DD_FLUSH_TO_LOG``), tags ``cold_start:...``;
* New Relic, Lumigo, Epsagon: their wrappers report to their own services (a license key or token
  and the internet: neither is here), so their verdict is the flag their wrapper reads, read by a
  probe just before it (``COLD_START_RECORDED``, ``SpansContainer.is_cold``, ``constants.COLD_START``).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from emulator import FunctionSpec, LambdaEmulator
from emulator.packages import InstallFailed
from lambdawarmer.config import load_config
from lambdawarmer.protocol import PingFormat

from . import installs
from .conftest import lambda_client, write_function

Start = Callable[..., LambdaEmulator]
PINGS = PingFormat.of(load_config(environ={}))

BARRIER = """
import json, os, time

def barrier(event, context):
    # Overlapping requests wait here until all of them have arrived, so each takes its own environment.
    if isinstance(event, dict) and "barrier" in event:
        open(os.path.join(event["barrier"], context.aws_request_id), "w").close()
        give_up = time.monotonic() + 20
        while len(os.listdir(event["barrier"])) < event["parties"] and time.monotonic() < give_up:
            time.sleep(0.01)

def probe(library, flag_is_cold):
    # For a library whose wrapper reports elsewhere: the flag it is about to read, just before it.
    def decorate(handler):
        def probed(event, context):
            print(json.dumps({"probe": library, "cold": flag_is_cold()}), flush=True)
            return handler(event, context)
        return probed
    return decorate

def work(event, context):
    barrier(event, context)
    if event.get("fail"):
        raise RuntimeError("this request fails")
    return {"handled": True}
"""

POWERTOOLS = """
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing import tracer as tracer_module

logger = Logger(service="orders")
metrics = Metrics(namespace="Shop", service="orders")
tracer = Tracer(service="orders")

@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event, context):
    # capture_lambda_handler annotates ColdStart from this flag when the handler returns
    print(json.dumps({"probe": "Powertools Tracer", "cold": tracer_module.is_cold_start}), flush=True)
    logger.info("handling")
    metrics.add_metric(name="Orders", unit="Count", value=1)
    return work(event, context)
"""

DATADOG = """
from datadog_lambda.cold_start import is_new_sandbox
from datadog_lambda.wrapper import datadog_lambda_wrapper

@datadog_lambda_wrapper
def handler(event, context):
    # A "new sandbox" (cold, or Datadog's proactive-initialization guess) gets import spans and profiling
    print(json.dumps({"probe": "Datadog new sandbox", "cold": is_new_sandbox()}), flush=True)
    return work(event, context)
"""

NEW_RELIC = """
import newrelic_lambda.lambda_handler as nr

@probe("New Relic", lambda: nr.COLD_START_RECORDED is False)
def handler(event, context):
    return work(event, context)
"""

LUMIGO = """
from lumigo_tracer.lambda_tracer.spans_container import SpansContainer

@probe("Lumigo", lambda: SpansContainer.is_cold)
def handler(event, context):
    return work(event, context)
"""

EPSAGON = """
import epsagon.constants

@probe("Epsagon", lambda: epsagon.constants.COLD_START)
def handler(event, context):
    return work(event, context)
"""


CHAIN = """#!/bin/sh
# Another exec wrapper, chained behind the layer's (WARMER_EXEC_WRAPPER), redirecting the handler to
# its own (vendor.handler, instrumented with Powertools), which runs the function's.
export ORIG_HANDLER="$_HANDLER"
export _HANDLER=vendor.handler
exec "$@"
"""

VENDOR = """
import importlib, os
from aws_lambda_powertools import Logger

logger = Logger(service="vendor")
module, name = os.environ["ORIG_HANDLER"].rsplit(".", 1)
original = getattr(importlib.import_module(module), name)

@logger.inject_lambda_context
def handler(event, context):
    logger.info("handling")
    return original(event, context)
"""

PLAIN = """
def handler(event, context):
    return work(event, context)
"""

DATADOG_REDIRECTED = """
from datadog_lambda.cold_start import is_new_sandbox

def handler(event, context):
    print(json.dumps({"probe": "Datadog new sandbox", "cold": is_new_sandbox()}), flush=True)
    return work(event, context)
"""


class Library:
    """One library as a function carries it: the packages, the handler and its other files, the
    settings it reads; ``chained``: a file of the code that is another exec wrapper, chained."""

    def __init__(
        self,
        requirements: tuple[str, ...],
        source: str,
        environment: dict[str, str] | None = None,
        *,
        handler: str = "app.handler",
        files: dict[str, str] | None = None,
        chained: str | None = None,
    ) -> None:
        self.requirements = requirements
        self.source = source
        self.environment = environment or {}
        self.handler = handler
        self.files = files or {}
        self.chained = chained


DATADOG_ENV = {
    "DD_FLUSH_TO_LOG": "true",
    "DD_TRACE_ENABLED": "false",
    "DD_ENHANCED_METRICS": "true",
    "DD_API_KEY": "x",
}
POWERTOOLS_ENV = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "orders"}
LIBRARIES = {
    "powertools-v3": Library(installs.POWERTOOLS_V3, POWERTOOLS, POWERTOOLS_ENV),
    "powertools-v2": Library(installs.POWERTOOLS_V2, POWERTOOLS, POWERTOOLS_ENV),
    "datadog": Library(installs.DATADOG, DATADOG, DATADOG_ENV),
    "powertools-v3-chained": Library(
        installs.POWERTOOLS_V3,
        PLAIN,
        POWERTOOLS_ENV,
        files={"vendor.py": VENDOR, "chain.sh": CHAIN},
        chained="chain.sh",
    ),
    "datadog-redirected": Library(
        installs.DATADOG,
        DATADOG_REDIRECTED,
        {**DATADOG_ENV, "DD_LAMBDA_HANDLER": "app.handler"},
        handler="datadog_lambda.handler.handler",
    ),
    "newrelic": Library(installs.NEW_RELIC, NEW_RELIC),
    "lumigo": Library(installs.LUMIGO, LUMIGO),
    "epsagon": Library(installs.EPSAGON, EPSAGON),
}


def installed(runtime: str, name: str) -> Path:
    """The library's packages for ``runtime``, installed from the registry on first use."""
    try:
        return installs.observability_library(runtime, LIBRARIES[name].requirements)
    except InstallFailed as failed:
        pytest.fail(str(failed))


@pytest.fixture(scope="module", autouse=True)
def libraries_installed() -> None:
    """Every library for every runtime found here, before the first test (./test.sh started these
    installs in the background: this waits for them)."""
    try:
        installs.observability_libraries()
    except InstallFailed as failed:
        pytest.fail(str(failed))


def overlapping(client: Any, folder: Path, events: list[dict[str, Any]]) -> list[Any]:
    folder.mkdir(parents=True)
    barrier = {"barrier": str(folder), "parties": len(events)}
    with ThreadPoolExecutor(len(events)) as pool:
        return list(
            pool.map(
                lambda event: client.invoke(FunctionName="orders", Payload=json.dumps({**event, **barrier})),
                events,
            )
        )


def verdicts(line: str) -> dict[str, bool]:
    """Each library's "was this request cold" in one line of a function's output."""
    try:
        record = json.loads(line)
    except ValueError:
        return {}
    if not isinstance(record, dict):
        return {}
    if "probe" in record:
        return {record["probe"]: record["cold"]}
    if record.get("message") == "handling" and "cold_start" in record:
        return {"Powertools Logger": record["cold_start"]}
    if record.get("m") == "aws.lambda.enhanced.invocations":
        return {"Datadog": "cold_start:true" in record.get("t", [])}
    return {}


def powertools_cold_start_metrics(lines: list[str]) -> int:
    """Powertools Metrics' ColdStart records (its own EMF, namespace Shop) among ``lines``."""
    return sum('"Namespace":"Shop"' in line.replace(" ", "") and '"ColdStart"' in line for line in lines)


def layer_cold_starts(lines: list[str]) -> int:
    """The layer's ColdStart metric for real requests (EMF, namespace LambdaWarmer)."""
    return sum('"Invocation":"request"' in line and '"ColdStart":1' in line for line in lines)


def run_session(
    start: Start, tmp_path: Path, runtime: str, name: str, extra: dict[str, str]
) -> LambdaEmulator:
    """Ping 3, then 3 overlapping requests (the first fails), then 4 (3 warm environments, 1 new)."""
    library = LIBRARIES[name]
    code = write_function(tmp_path / "code", BARRIER + library.source)
    for file, text in library.files.items():
        (code / file).write_text(textwrap.dedent(text) if file.endswith(".py") else text)
        (code / file).chmod(0o755)
    if library.chained:
        extra["WARMER_EXEC_WRAPPER"] = str(code / library.chained)
    function = FunctionSpec(
        name="orders",
        code=code,
        handler=library.handler,
        runtime=runtime,
        layers=[Path(extra.pop("layer"))],
        environment={
            "AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper",
            "PYTHONPATH": str(installed(runtime, name)),
            "WARMER_SEND_METRIC": "true",
            **library.environment,
            **extra,
        },
        memory_mb=1024,
        timeout_s=30,
    )
    emulator = start(function)
    client = lambda_client(emulator)
    ping = json.loads(
        client.invoke(FunctionName="orders", Payload=json.dumps(PINGS.scheduled_ping(3)))["Payload"].read()
    )
    assert ping["instances_warmed"] == 3, ping
    first = overlapping(client, tmp_path / "first", [{"fail": True}, {}, {}])
    assert sorted(bool(answer.get("FunctionError")) for answer in first) == [False, False, True]
    overlapping(client, tmp_path / "second", [{}, {}, {}, {}])
    return emulator


def expected_and_found(
    emulator: LambdaEmulator,
) -> tuple[dict[str, list[bool]], dict[str, dict[str, list[bool]]]]:
    """Per environment: the truth for each real request, and each library's verdicts in order."""
    truth: dict[str, list[bool]] = {}
    found: dict[str, dict[str, list[bool]]] = {}
    for environment in emulator.all_environments:
        served = [i for i in emulator.invocations if i.environment_id == environment.id]
        requests = [i for i in served if b"barrier" in i.event]
        truth[environment.id] = [i.cold for i in requests]
        by_library: dict[str, list[bool]] = {}
        for line in environment.output:
            for library, cold in verdicts(line).items():
                by_library.setdefault(library, []).append(cold)
        found[environment.id] = by_library
    return truth, found


@pytest.mark.e2e
@pytest.mark.parametrize("runtime", installs.LIBRARY_RUNTIMES, indirect=True)
@pytest.mark.parametrize("name", list(LIBRARIES))
def test_every_library_says_warm_in_a_warmed_environment_and_cold_in_a_new_one(
    start_emulator: Start, tmp_path: Path, runtime: str, layer_zip: Path, name: str
) -> None:
    emulator = run_session(start_emulator, tmp_path, runtime, name, {"layer": str(layer_zip)})
    truth, found = expected_and_found(emulator)
    assert sorted(map(len, truth.values())) == [1, 2, 2, 2], truth  # 3 pinged environments, 1 new
    assert sum(cold for requests in truth.values() for cold in requests) == 1
    libraries = {library for by_library in found.values() for library in by_library}
    assert libraries, f"no verdict of {name} found in the output: {emulator.output()[-20:]}"
    for environment_id, requests in truth.items():
        for library in libraries:
            assert found[environment_id].get(library) == requests, (library, environment_id, found)
    for environment in emulator.all_environments:
        cold_requests = sum(truth[environment.id])
        assert layer_cold_starts(environment.output) == cold_requests  # the layer's own metric agrees
        if "Metrics(" in LIBRARIES[name].source:
            assert powertools_cold_start_metrics(environment.output) == cold_requests
    if "Metrics(" in LIBRARIES[name].source:  # one metrics record per real request, none for the pings
        assert sum('"Orders"' in line for line in emulator.output()) == 7


@pytest.mark.e2e
def test_datadogs_proactive_initialization_guess_is_not_made_for_a_warmed_environment(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    """Datadog takes a first call over 10 s after its import for a "proactive initialization" (and
    marks it with import spans); an environment a ping started 11 s before is neither cold nor that."""
    import time

    code = write_function(tmp_path / "code", BARRIER + DATADOG)
    function = FunctionSpec(
        name="orders",
        code=code,
        handler="app.handler",
        runtime=installs.THIS_RUNTIME,
        layers=[layer_zip],
        environment={
            "AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper",
            "PYTHONPATH": str(installed(installs.THIS_RUNTIME, "datadog")),
            **LIBRARIES["datadog"].environment,
        },
        memory_mb=1024,
        timeout_s=30,
    )
    emulator = start_emulator(function)
    client = lambda_client(emulator)
    client.invoke(FunctionName="orders", Payload=json.dumps(PINGS.scheduled_ping(1)))
    time.sleep(11)
    client.invoke(FunctionName="orders", Payload=json.dumps({"order": 1}))
    (environment,) = emulator.all_environments
    said = [verdicts(line) for line in environment.output]
    assert [v for v in said if v] == [{"Datadog": False}, {"Datadog new sandbox": False}]


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["powertools-v3", "datadog"])
def test_turned_off_the_libraries_are_left_as_they_were(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, name: str
) -> None:
    """WARMER_FIX_COLD_START_FLAGS=false: each pinged environment's first request is cold to them again."""
    settings = {"layer": str(layer_zip), "WARMER_FIX_COLD_START_FLAGS": "false"}
    emulator = run_session(start_emulator, tmp_path, installs.THIS_RUNTIME, name, settings)
    truth, found = expected_and_found(emulator)
    for environment_id, requests in truth.items():
        for library, said in found[environment_id].items():
            assert said[0] is True, (library, environment_id, said)  # every first request, cold to them
            assert said[1:] == [False] * (len(requests) - 1)
    assert layer_cold_starts(emulator.output()) == 1  # the layer's own metric still tells the truth
