"""The ping token: only the owner's pings fan out or hold; everything else reaches the handler.

In process against a real Invoke API on 127.0.0.1, property tests over events and tokens, and end
to end through the emulator and awslambdaric.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import LambdaEmulator
from lambdawarmer import warmer
from lambdawarmer.protocol import FANOUT_KEY, LEGACY_INDEX, PLUGIN_SOURCE, PingFormat, fanout_payload, proof

from .conftest import InvokeCall, ScriptedInvokeApi, lambda_client, layered_spec, make_context, write_function
from .test_fanout import distinct_instances

StartApi = Callable[[Callable[[InvokeCall], tuple[int, dict[str, str], bytes]]], ScriptedInvokeApi]
Start = Callable[..., LambdaEmulator]
TOKEN = "owner-only-0123456789"
OTHER = "someone-else-0123456789"


class Recorder:
    """A handler that records what it was given."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any, context: Any) -> Any:
        self.events.append(event)
        return {"handled": True}


UNTRUSTED = [
    {"warmer": True, "concurrency": 5},
    {"warmer": True, "concurrency": 5, "token": OTHER},
    {"warmer": True, "concurrency": 5, "token": TOKEN[:-1]},
    {"warmer": True, "concurrency": 5, "token": 12345},
    {"warmer": True, "concurrency": 5, "token": None},
    {FANOUT_KEY: {"index": 2, "total": 5, "correlation_id": "c", "hold_ms": 50_000}},
    {FANOUT_KEY: {"index": 2, "total": 5, "correlation_id": "c", "hold_ms": 100, "proof": "00" * 32}},
    json.loads(fanout_payload(2, 5, "c", 50_000, OTHER)),
    {"warmer": True, LEGACY_INDEX: 2, "__WARMER_CONCURRENCY__": 5},
    {"source": PLUGIN_SOURCE},
]


@pytest.mark.parametrize("event", UNTRUSTED)
def test_untrusted_ping_shaped_events_reach_the_handler_untouched(
    invoke_api: StartApi, caplog: pytest.LogCaptureFixture, event: dict[str, Any]
) -> None:
    api = invoke_api(distinct_instances)
    recorder = Recorder()
    wrapped = warmer(token=TOKEN, delay=0)(recorder)
    before = json.dumps(event)
    started = time.monotonic()
    assert wrapped(event, make_context()) == {"handled": True}
    assert time.monotonic() - started < 1  # no hold
    assert recorder.events == [event]
    assert recorder.events[0] is event
    assert json.dumps(event) == before
    assert api.calls == []
    warnings = [r.getMessage() for r in caplog.records if r.name == "lambdawarmer"]
    assert len(warnings) == 1
    assert "went to the handler as a normal event" in warnings[0]
    assert TOKEN not in warnings[0]
    assert OTHER not in warnings[0]
    assert len(warnings[0]) < 300


def test_the_owners_ping_fans_out_with_proofs_the_instances_accept(invoke_api: StartApi) -> None:
    api = invoke_api(distinct_instances)
    report = warmer(token=TOKEN)(Recorder())(
        {"warmer": True, "concurrency": 4, "token": TOKEN}, make_context()
    )
    assert (report["instances_warmed"], report["invocations_failed"]) == (4, 0)
    assert TOKEN not in json.dumps(report)
    payloads = [call.payload for call in api.calls]
    assert all(TOKEN not in json.dumps(payload) for payload in payloads)
    receiver = Recorder()
    receiving = warmer(token=TOKEN, delay=0)(receiver)
    for payload in payloads:
        assert receiving(payload, make_context())["warmed"] is True
    assert receiver.events == []


def test_a_proof_is_bound_to_its_fields() -> None:
    detector = PingFormat("warmer", "concurrency", 100, TOKEN)
    payload = json.loads(fanout_payload(2, 5, "round-1", 100, TOKEN))
    assert detector.detect(payload) is not None
    payload[FANOUT_KEY]["hold_ms"] = 50_000  # a captured payload, changed
    assert detector.detect(payload) is None


def test_without_a_token_the_usual_pings_still_count(invoke_api: StartApi) -> None:
    invoke_api(distinct_instances)
    wrapped = warmer(delay=0)(Recorder())
    assert wrapped({"warmer": True, "concurrency": 2}, make_context())["instances_warmed"] == 2
    assert wrapped({"source": PLUGIN_SOURCE}, make_context())["warmed"] is True


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None)
@given(
    token=st.text(min_size=16, max_size=40).filter(lambda t: t.isprintable() and t.strip() == t),
    event=st.dictionaries(
        st.sampled_from(["warmer", "concurrency", "token", FANOUT_KEY, "source", LEGACY_INDEX, "proof"])
        | st.text(max_size=8),
        json_values,
        max_size=6,
    ),
    fanned_out=st.dictionaries(
        st.sampled_from(["index", "total", "hold_ms", "correlation_id", "proof"]), json_values, max_size=5
    ),
)
def test_nothing_fans_out_or_holds_without_the_token(
    token: str, event: dict[str, Any], fanned_out: dict[str, Any]
) -> None:
    detector = PingFormat("warmer", "concurrency", 100, token)
    for candidate in (event, {**event, "warmer": True}, {FANOUT_KEY: fanned_out}):
        ping = detector.detect(candidate)
        if ping is None:
            continue
        if ping.fans_out or ping.kind == "schedule":
            assert candidate.get("token") == token
        else:
            assert candidate[FANOUT_KEY].get("proof") == proof(token, candidate[FANOUT_KEY])


# -- end to end --------------------------------------------------------------------------------

HANDLER = """
import json

def handler(event, context):
    print("HANDLED " + json.dumps(event))
    return {"handled": event}
"""


@pytest.mark.e2e
def test_with_a_token_only_the_owners_ping_warms(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, runtime: str
) -> None:
    code = write_function(tmp_path / "code", HANDLER)
    function = layered_spec(code, layer_zip, WARMER_TOKEN=TOKEN, WARMER_LOG_LEVEL="INFO")
    function.runtime = runtime
    emulator = start_emulator(function)
    client = lambda_client(emulator)
    for event in UNTRUSTED:
        answer = client.invoke(FunctionName="orders", Payload=json.dumps(event))
        assert json.loads(answer["Payload"].read()) == {"handled": event}
    assert len(emulator.api_requests) == len(UNTRUSTED)  # not one invoke of its own
    assert sum(line.startswith("HANDLED ") for line in emulator.output()) == len(UNTRUSTED)
    answer = client.invoke(
        FunctionName="orders", Payload=json.dumps({"warmer": True, "concurrency": 3, "token": TOKEN})
    )
    report = json.loads(answer["Payload"].read())
    assert (report["instances_warmed"], report["invocations_failed"]) == (3, 0)
    assert sum(line.startswith("HANDLED ") for line in emulator.output()) == len(UNTRUSTED)
    ours = [line for line in emulator.output() if not line.startswith("HANDLED ")]  # the handler's own
    assert not [line for line in ours if TOKEN in line or OTHER in line]
    assert sum("went to the handler as a normal event" in line for line in ours) == len(UNTRUSTED)


@pytest.mark.e2e
def test_without_a_token_a_crafted_long_hold_is_bounded(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    code = write_function(tmp_path / "code", HANDLER)
    emulator = start_emulator(layered_spec(code, layer_zip, WARMER_DELAY="0"))
    crafted = {FANOUT_KEY: {"index": 2, "total": 2, "correlation_id": "c", "hold_ms": 50_000}}
    started = time.monotonic()
    answer = lambda_client(emulator).invoke(FunctionName="orders", Payload=json.dumps(crafted))
    held = time.monotonic() - started
    assert json.loads(answer["Payload"].read())["warmed"] is True
    assert 9.5 <= held < 13  # WARMER_DELAY (0) + 10 s, not 50 s


def test_the_warning_is_logged_once_per_untrusted_event(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    wrapped = warmer(token=TOKEN)(Recorder())
    for _ in range(3):
        wrapped({"warmer": True}, make_context())
    assert len([r for r in caplog.records if r.name == "lambdawarmer"]) == 3
