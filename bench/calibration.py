"""The model against the emulator: a slice of a trace function replayed through the real layer.

The slice's requests (the model's own draw: arrivals and durations) are sent to the emulator in
real time, sped up ``speedup`` times: a request sleeps its duration divided by that, the idle
lifetime and the ping period shrink alike, and before each event the emulator reclaims the
environments idle longer than the shrunk lifetime, as Lambda's have been by then. Pings are the
layer's scheduled pings, fanned out by the layer itself through the emulator's Invoke API. Then the
model runs the requests as the emulator saw them, scaled back: when each arrived, how long each
worked, the init, and the hold (the layer's delay is real time in the emulator). The two counts of
cold starts of real requests are compared. A loaded machine stretches the timeline, and the model
is handed the stretched one: what is compared is how each counts cold starts, not the machine's speed.
"""

from __future__ import annotations

import json
import statistics
import tempfile
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

SPEEDUP = 30
"""Trace time per real second: a trace minute takes 2 s."""
TOLERANCE = 2
"""Cold starts the emulator and the model may differ by, per slice: a request that arrives within
a few milliseconds of an environment's end of lifetime (1 ms of real time is 30 ms of trace time),
or a ping's hold that ran longer in the emulator than the model's."""


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
            started = _send(emulator, client, events, lifetime_min * MINUTE_S / speedup, speedup)
            invocations: list[Any] = list(emulator.invocations)  # all finished: every time is set
    real = sorted((i for i in invocations if b"sleep_ms" in i.event), key=lambda i: i.received_at)
    cold_real = [i for i in real if i.cold]
    slept = {i.request_id: float(json.loads(i.event)["sleep_ms"]) / 1000 for i in real}
    warm_extra = [i.finished_at - i.received_at - slept[i.request_id] for i in real if not i.cold]
    init_s = statistics.median(i.started_at - i.received_at for i in cold_real) if cold_real else 0.3
    measured = replace(
        assumptions,
        init_ms=init_s * 1000 * speedup,
        delay_ms=round(assumptions.delay_ms * speedup),
    )
    as_seen = Requests(
        [(i.received_at - started) * speedup for i in real],
        [(i.finished_at - i.started_at) * 1000 * speedup for i in real],
        requests.minutes,
    )
    policy = Fixed(instances, f"fixed N = {instances}") if instances else NoWarming()
    model = simulate(piece, policy, measured, as_seen)
    return Calibration(
        workload.name,
        minutes,
        instances,
        len(real),
        len(cold_real),
        model.cold_starts,
        init_s * 1000,
        statistics.median(warm_extra) * 1000 if warm_extra else 0.0,
    )


def _send(
    emulator: LambdaEmulator,
    client: Any,
    events: list[tuple[float, dict[str, Any]]],
    lifetime_s: float,
    speedup: float,
) -> float:
    """Each event at its time (sped up), the environments idle longer than ``lifetime_s`` reclaimed
    first; when the first was due (``time.monotonic()``)."""
    started = time.monotonic()
    with ThreadPoolExecutor(64) as pool:
        for at, event in events:
            time.sleep(max(0.0, started + at / speedup - time.monotonic()))
            emulator.reclaim_idle(time.monotonic() - lifetime_s)
            payload = dict(event)
            if "sleep_ms" in payload:
                payload["sleep_ms"] = payload["sleep_ms"] / speedup
            pool.submit(client.invoke, FunctionName="bench", Payload=json.dumps(payload))
    return started
