"""Attacks on the fan-out tree (issue 38): what a relay payload can make a function do, and what a
tree round costs the originator before it sends anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emulator import LambdaEmulator
from lambdawarmer.function_ref import FunctionRef
from lambdawarmer.protocol import FANOUT_KEY, TreePlace, fanout_payload
from lambdawarmer.settings import CONCURRENCY_LIMIT
from lambdawarmer.timing import cpu_share
from lambdawarmer.tree import fitting_tree, scope_of

from .conftest import OVERLAPPING_HANDLER, lambda_client
from .contracts import timeline
from .test_imports import ROOT
from .test_small_functions import needs_cpu_shares
from .test_tree import TENANTED, TOKEN, Start, direct, ping, tree_function

SMALLEST_MB = 128
PLANNING_BUDGET_MS = 500
"""What choosing a tree's shape may cost at the smallest memory's CPU share, a sixth of its default
3 s timeout: the ping's own time, taken before the time left is known to the plan."""


def test_choosing_a_tree_at_the_largest_cap_costs_little_of_a_small_functions_time() -> None:
    """The originator plans a tree (every fan tried, each allowance) on its ping's time, at 7% of a
    core at 128 MB: at the largest cap a function may set, its CPU time stays a small part of a
    3 s timeout (it took ~1.7 s of a whole core, ~25 s at 128 MB: the ping timed out)."""
    started = time.process_time()
    plan = fitting_tree(SMALLEST_MB, CONCURRENCY_LIMIT, 75, 0.0, (2_000.0, 500.0, 0.0))
    spent_ms = (time.process_time() - started) * 1000
    assert plan is None  # no time left: every allowance was tried
    assert spent_ms / cpu_share(SMALLEST_MB) < PLANNING_BUDGET_MS, spent_ms


@pytest.mark.e2e
def test_an_old_relay_payload_replayed_is_not_relayed(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    """A relay payload's proof has no expiry: replayed after its round (captured from a durable
    execution's stored input, say), it made the relay invoke its whole share again, N - 2 invokes
    for one, where a flat round's replayed payload holds one environment. A relay takes its share
    only while its round's release instant is recent enough for a new environment to be starting it."""
    function = tree_function(tmp_path, layer_zip)
    function.memory_mb = 512
    emulator = start_emulator(function)
    old = int(time.time() * 1000) - 10 * 60 * 1000  # a round of ten minutes ago
    place = TreePlace(release_at=old, last=10, fan=6, depth=1, answer_by=old + 1_000)
    answer, invocations = direct(emulator, fanout_payload(2, 10, "c", 100, TOKEN, tree=place))
    assert answer["warmed"] is True, answer  # still a ping: never the handler's
    assert answer["subtree"]["instances"] == [], answer
    assert "old" in answer["subtree"]["not_sent_reason"], answer
    assert len(invocations) == 1, [i.event for i in invocations]
    assert any("not relayed" in line and "old" in line for line in emulator.output())


def relay_payloads(emulator: LambdaEmulator) -> list[bytes]:
    """The payloads the emulator's invocations carried that asked a relay to invoke its share."""
    found = []
    for invocation in emulator.invocations:
        place = json.loads(invocation.event).get(FANOUT_KEY)
        if isinstance(place, dict) and place.get("last", 0) > place.get("index", 0):
            found.append(invocation.event)
    return found


def settled(emulator: LambdaEmulator) -> None:
    """Wait (bounded) until every invocation the emulator started has ended."""
    waited = time.monotonic()
    while any(i.finished_at is None for i in emulator.invocations) and time.monotonic() - waited < 60:
        time.sleep(0.1)


@pytest.mark.e2e
@needs_cpu_shares
def test_a_relay_payload_replayed_through_another_tenant_is_not_relayed_for_it(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    """A relay invokes through the tenant it was reached in, and the proof named none: a payload
    the originator sent to a relay of tenant acme's tree, replayed at once through tenant mallory
    (anyone who may invoke the function), made the relay invoke its share for mallory, which no
    authenticated ping named. A relay takes its share only where its payload was proven for."""
    function = tree_function(tmp_path, layer_zip, TENANTED)
    function.tenant_isolation = True
    emulator = start_emulator(function)
    client = lambda_client(emulator)
    event = {"warmer": True, "tenants": {"acme": 40}, "token": TOKEN}
    before = len(emulator.invocations)
    answer = client.invoke(FunctionName="orders", TenantId="acme", Payload=json.dumps(event))
    assert "FunctionError" not in answer, (
        answer["Payload"].read(),
        timeline(emulator, before),
    )
    settled(emulator)  # the relays' late shares too
    captured = relay_payloads(emulator)
    assert captured  # a tree round: its relays' payloads
    before = len(emulator.invocations)
    answer = client.invoke(FunctionName="orders", TenantId="mallory", Payload=captured[0])
    assert json.loads(answer["Payload"].read())["warmed"] is True  # a ping all the same: it holds
    tenants = [invocation.tenant for invocation in emulator.invocations[before:]]
    assert tenants == ["mallory"], tenants
    assert any("proven for another" in line for line in emulator.output())


def test_a_tree_payload_to_a_tokenless_function_is_a_flat_one(tmp_path: Path) -> None:
    """A tokenless function never sends a tree round, so a tree-shaped payload there is anyone's:
    it is held as a flat fanned-out payload, exactly as before trees (it made the instance load
    the originator, the fan-out and the AWS client, and make a client, ~1 s at 128 MB)."""
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return event\n")
    place = {"release_at": 0, "last": 2, "fan": 2, "depth": 1, "answer_by": 0}
    event = {FANOUT_KEY: {"index": 2, "total": 2, "correlation_id": "c", "hold_ms": 0, **place}}
    script = (
        "import json, sys, time\n"
        "from awslambdaric.lambda_context import LambdaContext\n"
        "import lambdawarmer.handler as layer\n"
        "context = LambdaContext('r', None, None, int(time.time() * 1000) + 30000, "
        "'arn:aws:lambda:us-east-1:123456789012:function:orders')\n"
        f"answer = layer.handler({event!r}, context)\n"
        "print(json.dumps([answer, sorted(m for m in sys.modules if m.startswith('lambdawarmer'))]))\n"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}",
        "LAMBDAWARMER_HANDLER": "app.handler",
        "AWS_LAMBDA_FUNCTION_NAME": "orders",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    answer, loaded = json.loads(result.stdout.splitlines()[-1])
    assert answer["warmed"] is True, answer
    assert not {
        "lambdawarmer.originator",
        "lambdawarmer.tree",
        "lambdawarmer.fanout",
        "lambdawarmer.aws",
    } & set(loaded), loaded


@pytest.mark.e2e
def test_a_far_future_release_instant_holds_no_environment_past_its_function_time(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    """A relay payload (proven, in scope) whose release instant is an hour away: the relay still
    sends its share, and it and every environment it invoked answer (a report, never the
    function's timeout) within the function's time: holds are capped, not the payload's."""
    function = tree_function(tmp_path, layer_zip)
    function.memory_mb = 512
    emulator = start_emulator(function)
    now = int(time.time() * 1000)
    scope = scope_of(FunctionRef(function.arn, "$LATEST"), None)
    place = TreePlace(now + 3_600_000, 4, 2, 1, now + 3_600_000, scope=scope)
    started = time.monotonic()
    answer, invocations = direct(emulator, fanout_payload(2, 4, "c", 100, TOKEN, tree=place))
    assert time.monotonic() - started < function.timeout_s + 2, answer
    assert answer["warmed"] is True, answer
    # its children hold to their own time's end, past the relay's: reported, not waited for
    below = answer["subtree"]
    assert len(below["instances"]) + len(below["failures"]) == 2, below
    settled(emulator)
    assert len(invocations) == 3
    assert [i.status for i in emulator.invocations] == ["success"] * 3


AHEAD = (
    OVERLAPPING_HANDLER
    + """
import os, time
_true_time = time.time
try:  # the first environment (the originator's) keeps true time, every other runs a minute ahead
    os.close(os.open(os.environ["FIRST_MARKER"], os.O_CREAT | os.O_EXCL))
except FileExistsError:
    time.time = lambda: _true_time() + 60
"""
)


@pytest.mark.e2e
@needs_cpu_shares
def test_a_relay_that_refuses_its_share_is_accounted_for_with_its_reason(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    """A relay that does not take its share (here its clock runs a minute ahead, far beyond the
    margin, so the round looks replayed) answers all the same: its share was reported nowhere,
    neither sent nor not sent, and the originator's report did not add up. Now its answer says the
    share was not sent, and why."""
    function = tree_function(tmp_path, layer_zip, AHEAD, FIRST_MARKER=str(tmp_path / "first"))
    emulator = start_emulator(function)
    report, _ = ping(emulator, 40)  # contracts.accounted: every invoke counted
    assert report["rounds"][0]["tree"] is not None
    assert "did not take its share" in report["not_sent_reason"], report
