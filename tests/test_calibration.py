"""The model (lambdawarmer_model/simulation.py) keeps to the emulator: 15 minutes of a trace
function, sped up 30 times, through the real layer and the real runtime client, with no warming
and with a ping of N = 2 every 5 minutes, gives the cold starts the model gives for the same
requests, within :data:`TOLERANCE` (bench/traces.md reports longer slices of more functions).

Data: the Azure Functions Trace 2019 (Shahrad et al., "Serverless in the Wild", USENIX ATC 2020;
Microsoft, CC BY 4.0), read from bench/data/azure2019.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import azure_trace
from bench.calibration import TOLERANCE, Calibration, replay

FUNCTION, FIRST_MINUTE, MINUTES = "59ddc5807131", 140, 15
"""22 requests of up to 4 at once, seconds long, with idle gaps longer than the lifetime."""


def test_the_model_gives_the_emulators_cold_starts(layer_zip: Path) -> None:
    workload = next(w for w in azure_trace.primary() if w.name == FUNCTION)
    with ThreadPoolExecutor(2) as pool:
        runs: list[Calibration] = list(
            pool.map(lambda n: replay(workload, FIRST_MINUTE, MINUTES, n, layer_zip), [0, 2])
        )
    unwarmed, pinged = runs
    for run in runs:
        assert abs(run.difference) <= TOLERANCE, run
    assert unwarmed.requests == pinged.requests == 22
    assert unwarmed.emulator_cold >= 4  # the slice has something to judge
    assert pinged.emulator_cold < unwarmed.emulator_cold  # and the pings do warm
