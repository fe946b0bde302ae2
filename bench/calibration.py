"""The model against the emulator: a slice of a trace function replayed through the real layer.

The slice's requests (the model's own draw: arrivals and durations) are sent to the emulator in
real time, sped up ``speedup`` times: a request sleeps its duration divided by that, the idle
lifetime and the ping period shrink alike, and the emulator reclaims environments idle longer than
the shrunk lifetime (checked every :data:`RECLAIM_EVERY_S`). Pings are the layer's scheduled pings,
fanned out by the layer itself through the emulator's Invoke API. Then the model runs the same
requests with what the emulator measured, scaled back: its init, the time an invoke takes beyond
the sleep, and the hold (the layer's delay is real time in the emulator). The two counts of cold
starts of real requests are compared.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from emulator import LambdaEmulator
from emulator.client import invoke_client
from lambdawarmer.timing import ONE_VCPU_MB
from lambdawarmer_model.policies import Fixed, NoWarming
from lambdawarmer_model.simulation import PING_PHASE_MIN, Assumptions, Requests, simulate
from lambdawarmer_model.traffic import MINUTE_S, Workload

from .functions import PINGS, make_function

RECLAIM_EVERY_S = 0.05
SPEEDUP = 30
"""Trace time per real second: a trace minute takes 2 s."""
TOLERANCE = 2
"""Cold starts the emulator and the model may differ by, per slice: a request that lands within the
scheduling jitter of an environment's reclaim (50 ms of real time is 1.5 s of trace time)."""


@dataclass(frozen=True)
class Calibration:
    """One slice under one policy: cold starts of real requests in the emulator and in the model."""

    function: str
    minutes: int
    instances: int
    """N of each ping (0: no warming)."""
    requests: int
    emulator_cold: int
    model_cold: int
    init_ms: float
    overhead_ms: float

    @property
    def difference(self) -> int:
        return self.emulator_cold - self.model_cold


def _slice(workload: Workload, first_minute: int, minutes: int) -> Workload:
    counts = list(workload.counts[first_minute : first_minute + minutes])
    return replace(workload, counts=counts, memory_mb=ONE_VCPU_MB)


def _schedule(requests: Requests, instances: int, every_min: int) -> list[tuple[float, dict[str, Any]]]:
    """Every event in trace seconds: the requests (with their sleep) and the pings."""
    events: list[tuple[float, dict[str, Any]]] = [
        (arrival, {"sleep_ms": duration_ms})
        for arrival, duration_ms in zip(requests.arrivals, requests.durations_ms)
    ]
    if instances:
        pings = range(PING_PHASE_MIN, requests.minutes, every_min)
        events += [(minute * MINUTE_S, PINGS.scheduled_ping(instances)) for minute in pings]
    return sorted(events, key=lambda event: event[0])


def replay(
    workload: Workload,
    first_minute: int,
    minutes: int,
    instances: int,
    layer_zip: Path,
    *,
    lifetime_min: float = 5,
    speedup: float = SPEEDUP,
) -> Calibration:
    """``minutes`` of ``workload`` from ``first_minute``, pinged with N = ``instances`` (0: never)."""
    piece = _slice(workload, first_minute, minutes)
    assumptions = Assumptions(idle_lifetime_min=lifetime_min, scored_from_min=0)
    requests = Requests.draw(piece, assumptions)
    events = _schedule(requests, instances, assumptions.ping_every_min)
    with tempfile.TemporaryDirectory() as folder:
        function = make_function("layer", Path(folder), layer_zip, memory_mb=ONE_VCPU_MB)
        with LambdaEmulator(function, concurrency=1000) as emulator:
            client = invoke_client(emulator.serve())
            _send(emulator, client, events, lifetime_min * MINUTE_S / speedup, speedup)
            invocations = list(emulator.invocations)
    real = [i for i in invocations if b"sleep_ms" in i.event]
    cold_real = [i for i in real if i.cold]
    slept = {i.request_id: float(json.loads(i.event)["sleep_ms"]) / 1000 for i in real}

    def extra_s(invocation: Any) -> float:
        return float(invocation.finished_at - invocation.received_at) - slept[invocation.request_id]

    warm = [extra_s(i) for i in real if not i.cold]
    overhead_s = statistics.median(warm) if warm else 0.0
    cold_extra = [extra_s(i) - overhead_s for i in cold_real]
    init_s = statistics.median(cold_extra) if cold_extra else 0.3
    measured = replace(
        assumptions,
        init_ms=init_s * 1000 * speedup,
        delay_ms=round(assumptions.delay_ms * speedup),
    )
    stretched = Requests(
        requests.arrivals,
        [ms + overhead_s * 1000 * speedup for ms in requests.durations_ms],
        requests.minutes,
    )
    policy = Fixed(instances, f"fixed N = {instances}") if instances else NoWarming()
    model = simulate(piece, policy, measured, stretched)
    return Calibration(
        workload.name,
        minutes,
        instances,
        len(real),
        len(cold_real),
        model.cold_starts,
        init_s * 1000,
        overhead_s * 1000,
    )


def _send(
    emulator: LambdaEmulator,
    client: Any,
    events: list[tuple[float, dict[str, Any]]],
    lifetime_s: float,
    speedup: float,
) -> None:
    """Each event at its time (sped up), while a thread reclaims idle environments."""
    done = threading.Event()

    def reclaim() -> None:
        while not done.wait(RECLAIM_EVERY_S):
            emulator.reclaim_idle(time.monotonic() - lifetime_s)

    reclaimer = threading.Thread(target=reclaim, daemon=True)
    reclaimer.start()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(64) as pool:
            for at, event in events:
                time.sleep(max(0.0, started + at / speedup - time.monotonic()))
                payload = dict(event)
                if "sleep_ms" in payload:
                    payload["sleep_ms"] = payload["sleep_ms"] / speedup
                pool.submit(client.invoke, FunctionName="bench", Payload=json.dumps(payload))
    finally:
        done.set()
        reclaimer.join()
