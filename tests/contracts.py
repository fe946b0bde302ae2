"""What a ping promises, asserted whatever the machine's load: answered before its deadline, every
invoke counted and explained, N of N within a bounded number of pings, each environment started by a
counted invoke. Never how many one ping warmed on this machine: the cold environments' inits share
its cores with the originator (on Lambda they run elsewhere)."""

from __future__ import annotations

import json
from typing import Any

from emulator import LambdaEmulator
from lambdawarmer_model.rounds import tree_places

from .conftest import lambda_client


def timeline(emulator: LambdaEmulator, number: int) -> str:
    """When the emulator's invocation ``number`` started, answered and ended against its deadline,
    and the last lines its environment wrote (the layer's warnings): what a ping answered late
    leaves to read."""
    if number >= len(emulator.invocations):
        return f"the emulator has no invocation {number}"
    received = emulator.invocations[number]

    def at(instant: float | None) -> str:
        return (
            "never"
            if instant is None or received.started_at is None
            else f"{(instant - received.started_at) * 1000:.0f} ms"
        )

    environment = next((e for e in emulator.all_environments if e.id == received.environment_id), None)
    lines = environment.output[-20:] if environment is not None else []
    return (
        f"{received.request_id}: answered at {at(received.answered_at)}, "
        f"ended at {at(received.finished_at)}, deadline at {at(received.deadline_at)} (from its start); "
        "its environment wrote last:\n" + "\n".join(lines)
    )


def ping(emulator: LambdaEmulator, concurrency: int | str, **fields: Any) -> dict[str, Any]:
    """One ping (the event's other ``fields`` too): its report, after checking it was answered in
    time by an environment that lives on."""
    before = len(emulator.invocations)
    event = {"warmer": True, "concurrency": concurrency, **fields}
    answer = lambda_client(emulator).invoke(FunctionName="orders", Payload=json.dumps(event))
    report = json.loads(answer["Payload"].read())
    assert answer.get("FunctionError") is None, (report, timeline(emulator, before))
    received = emulator.invocations[before]
    assert received.status == "success", received.payload
    assert received.finished_at is not None
    late_ms = (received.finished_at - received.deadline_at) * 1000
    assert late_ms <= 0, f"answered {late_ms:.0f} ms after its deadline"
    timed_out = [n for n, invocation in enumerate(emulator.invocations) if invocation.status == "timeout"]
    assert timed_out == [], [timeline(emulator, n) for n in timed_out]
    return report  # type: ignore[no-any-return]


PINGS = 6
"""Pings enough to warm N of N from nothing, however busy the machine (each one answered in time)."""


def unaccounted(report: dict[str, Any], concurrency: int) -> int:
    """The invokes below the relays that failed in a tree round: no report says what became of them
    (each such failure says so)."""
    count = 0
    for failure in report["failures"]:
        tree = report["rounds"][failure["round"] - 1]["tree"]
        below = (
            0
            if tree is None
            else tree_places(2, concurrency, tree["fan"])[failure["index"]][1] - failure["index"]
        )
        if below:
            assert "unaccounted" in failure["reason"], failure
        count += below
    return count


def accounted(report: dict[str, Any], concurrency: int) -> None:
    """Every invoke counted: the N - 1 asked for sent or not sent (with the reason), or below a
    relay that failed (a tree round's, said); each one sent warmed an instance, failed (with its
    reason) or reached an instance already warmed."""
    sent, failed = report["invocations_sent"], report["invocations_failed"]
    below_failed = unaccounted(report, concurrency)
    assert sent + report["invocations_not_sent"] + below_failed >= concurrency - 1, json.dumps(report)
    assert report["instances_warmed"] - 1 + failed <= sent, json.dumps(report)
    assert all(failure["reason"] for failure in report["failures"]), report["failures"]
    if report["invocations_not_sent"]:
        assert report["not_sent_reason"].startswith("not sent: "), report["not_sent_reason"]


def warmed_n_of_n(emulator: LambdaEmulator, concurrency: int) -> list[dict[str, Any]]:
    """Ping until N of N are warm, at most :data:`PINGS` times; every ping's report."""
    reports = []
    for _ in range(PINGS):
        reports.append(ping(emulator, concurrency))
        accounted(reports[-1], concurrency)
        if reports[-1]["instances_warmed"] == concurrency:
            return reports
    raise AssertionError(f"not {concurrency} of {concurrency} within {PINGS} pings: {reports}")


def environments_explained(emulator: LambdaEmulator, reports: list[dict[str, Any]]) -> set[str]:
    """The environments started: each by a ping or by an invoke a report counted as sent."""
    started = {invocation.environment_id for invocation in emulator.invocations}
    assert len(started) <= len(reports) + sum(report["invocations_sent"] for report in reports)
    return started
