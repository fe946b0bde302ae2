"""Benchmarks that run functions in the emulator: warm-up efficacy and fan-out time, cold start."""

from __future__ import annotations

import json
import math
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from emulator import LambdaEmulator
from emulator.client import invoke_client
from emulator.environment import Environment, Invocation
from lambdawarmer.protocol import Report

from .functions import PINGS, make_function

HOLD_MS = 300  # how long each of the N real requests runs, so that they overlap


def efficacy_point(
    implementation: str, concurrency: int, latency_ms: float, layer_zip: Path
) -> dict[str, Any]:
    """One fresh function: ping it with ``concurrency``, then send that many concurrent real requests.

    Returns the environments warmed, the ping's wall time, and the cold starts among the requests.
    """
    with (
        tempfile.TemporaryDirectory() as folder,
        LambdaEmulator(
            make_function(implementation, Path(folder), layer_zip), concurrency=1000, latency_ms=latency_ms
        ) as emulator,
    ):
        emulator.serve()
        client = invoke_client(emulator.url)
        started = time.monotonic()
        answer = client.invoke(FunctionName="bench", Payload=json.dumps(PINGS.scheduled_ping(concurrency)))
        wall_ms = (time.monotonic() - started) * 1000
        body = json.loads(answer["Payload"].read() or b"null")
        ours = Report.from_dict(body).fan_out if isinstance(body, dict) else None  # the seed's is null
        emulator.wait_for_async(60)  # the seed sends all but one invoke as fire-and-forget events
        warmed = len(emulator.all_environments)
        before = len(emulator.invocations)
        with ThreadPoolExecutor(concurrency) as pool:
            list(
                pool.map(
                    lambda _: client.invoke(FunctionName="bench", Payload=json.dumps({"sleep_ms": HOLD_MS})),
                    range(concurrency),
                )
            )
        cold_after = sum(invocation.cold for invocation in emulator.invocations[before:])
    return {
        "warmed": warmed,
        "wall_ms": wall_ms,
        "cold_after": cold_after,
        "send_spread_ms": ours.rounds[0].send_spread_ms if ours else None,
        "invocations": before,  # the ping and every invoke it caused
        "rounds": len(ours.rounds) if ours else 1,
    }


def cold_start_ms(
    implementation: str, layer_zip: Path, memory_mb: int = 1024, throttle_init: bool = False
) -> float:
    """Process start to the runtime's first ``/next``, for one new environment."""
    with (
        tempfile.TemporaryDirectory() as folder,
        LambdaEmulator(
            make_function(implementation, Path(folder), layer_zip, memory_mb=memory_mb),
            throttle_init=throttle_init,
        ) as emulator,
    ):
        invocation = emulator.invoke({})
        if invocation.status != "success":
            raise RuntimeError(f"{implementation}: {invocation.payload!r}")
        environment = emulator.all_environments[0]
        assert environment.ready_at is not None
        return (environment.ready_at - environment.started_at) * 1000


def billed_gb_seconds(caused: list[Invocation], started: list[Environment], memory_mb: int) -> float:
    """What Lambda bills for a ping: the invoke phase of each invocation it ``caused`` (whole ms) and,
    since 2025-08, the init of each environment it ``started``."""
    invoke_ms = sum(
        math.ceil(((i.finished_at or i.started_at or 0) - (i.started_at or 0)) * 1000) for i in caused
    )
    init_ms = sum(((e.ready_at or e.started_at) - e.started_at) * 1000 for e in started)
    return (invoke_ms + init_ms) / 1000 * memory_mb / 1024


MAX_PINGS = 6
"""Pings sent at most, looking for a steady one (all N warm) after the third."""


def _steady(ping: dict[str, Any], concurrency: int) -> bool:
    """Whether a ping warmed all N. Its connections are new whatever it finds: the emulator closes idle
    ones between pings, as the service closes a frozen function's."""
    return ping.get("instances_warmed") in (concurrency, None)


def memory_point(
    implementation: str, memory_mb: int, concurrency: int, layer_zip: Path, *, tls: bool = True
) -> dict[str, Any]:
    """A fresh function of ``memory_mb`` and a 3 s timeout, each environment at its CPU share, its
    Invoke API over HTTPS as Lambda's is (``tls`` False: plain HTTP): pings of ``concurrency`` (the
    first, the next, then more until one finds its connections and instances in place, at most
    :data:`MAX_PINGS`), then as many overlapping real requests.

    Per ping: its wall time, timed-out invocations, the GB-seconds Lambda bills for it (the invoke
    phase of each invocation it caused, and since 2025-08 the init of each environment it started)
    and, from lambdawarmer's report, what it warmed, its first round's hold, send spread and TLS
    handshakes. Then the environments still alive (a timed-out one is torn down), and the cold
    starts among the requests.
    """
    with tempfile.TemporaryDirectory() as folder:
        function = make_function(
            implementation, Path(folder) / "code", layer_zip, memory_mb=memory_mb, timeout_s=3
        )
        with LambdaEmulator(function, concurrency=1000) as emulator:
            emulator.serve(tls=tls)
            client = invoke_client(emulator.url)
            pings: list[dict[str, Any]] = []
            while len(pings) < 3 or (len(pings) < MAX_PINGS and not _steady(pings[-1], concurrency)):
                before, environments_before = len(emulator.invocations), len(emulator.all_environments)
                started = time.monotonic()
                answer = client.invoke(
                    FunctionName="bench", Payload=json.dumps(PINGS.scheduled_ping(concurrency))
                )
                wall_ms = (time.monotonic() - started) * 1000
                report = json.loads(answer["Payload"].read())
                emulator.wait_for_async(60)
                caused = emulator.invocations[before:]
                new = emulator.all_environments[environments_before:]
                first_round = (report.get("rounds") or [{}])[0] if isinstance(report, dict) else {}
                pings.append(
                    {
                        "wall_ms": wall_ms,
                        "timed_out": sum(i.status == "timeout" for i in caused),
                        "gb_seconds": billed_gb_seconds(caused, new, memory_mb),
                        **{
                            key: first_round.get(key)
                            for key in ("hold_ms", "send_spread_ms", "tls_handshakes", "instances_warmed")
                        },
                    }
                )
            alive = sum(environment.state != "dead" for environment in emulator.all_environments)
            barrier = Path(folder) / "barrier"
            barrier.mkdir()
            event = json.dumps({"barrier": str(barrier), "parties": concurrency})
            before = len(emulator.invocations)
            with ThreadPoolExecutor(concurrency) as pool:
                list(
                    pool.map(lambda _: client.invoke(FunctionName="bench", Payload=event), range(concurrency))
                )
            cold_after = sum(invocation.cold for invocation in emulator.invocations[before:])
    return {"pings": pings, "warmed": alive, "cold_after": cold_after}
