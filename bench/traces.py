"""Warming policies judged on real traffic: the Azure Functions 2019 trace through the model.

    python -m bench.traces            # bench/traces.md and bench/traces.png (about 10 minutes)
    python -m bench.traces --quick --out DIR   # subset_100 at one lifetime, for the smoke test

The new ``auto`` settings are tuned on ``subset_100.txt`` (the grid is in the report), then every
policy is reported on all 500 functions of the primary set for each idle lifetime (5, 10, 15 min)
and arrival rule (uniform, Poisson), and on the 24-hour set. Figures are reported, never asserted.
Data: the Azure Functions Trace 2019 (Shahrad et al., USENIX ATC 2020), kept in bench/data/azure2019
(CC BY 4.0, attribution in its README).
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path

from lambdawarmer.config import load_config
from lambdawarmer_model.policies import Auto
from lambdawarmer_model.replay import Priced, Totals, price, replay_function, totals
from lambdawarmer_model.simulation import Assumptions, Requests, simulate
from lambdawarmer_model.traffic import ARRIVAL_RULES, Workload
from layer.build_layer import write_zip

from . import azure_trace
from .calibration import Calibration, replay
from .traces_report import ROUGH_LABEL, ROUGH_RULES, Run, write_plot, write_report

ROOT = Path(__file__).resolve().parent.parent
LIFETIMES_MIN = (5, 10, 15)
MAIN_LIFETIME_MIN = 10
CALIBRATION = (("59ddc5807131", 120, 60), ("1dea6307388f", 120, 60), ("7017de4ffed8", 120, 60))
"""The slices replayed through the emulator: function, first minute, minutes."""
CALIBRATION_PINGS = (0, 2)
GRID = {"auto_window": (60, 240, 480, 1440), "auto_headroom": (0, 10, 20)}
"""The ``auto`` settings tried on the tuning set."""


def _replay(workload: Workload, assumptions: Assumptions) -> tuple[Workload, list[Priced]]:
    return workload, replay_function(workload, assumptions)


def run_set(
    label: str, workloads: list[Workload], assumptions: Assumptions, pool: ProcessPoolExecutor
) -> Run:
    started = time.perf_counter()
    results = pool.map(partial(_replay, assumptions=assumptions), workloads, chunksize=4)
    summed = totals(results, assumptions)
    hours = max(len(workload.counts) for workload in workloads) / 60
    return Run(label, hours, assumptions, summed, time.perf_counter() - started)


def _tune_one(workload: Workload, assumptions: Assumptions, settings: list[dict[str, int]]) -> list[Priced]:
    requests = Requests.draw(workload, assumptions)
    configs = [load_config(setting) for setting in settings]  # made here: a WarmerConfig does not pickle
    return [
        price(
            str(index),
            simulate(workload, Auto(config, str(index)), assumptions, requests),
            workload,
            assumptions,
        )
        for index, config in enumerate(configs)
    ]


def tune(
    workloads: list[Workload], pool: ProcessPoolExecutor
) -> list[tuple[dict[str, int], dict[int, Totals]]]:
    """Every ``auto`` setting of :data:`GRID` on the tuning set, for each idle lifetime (uniform)."""
    names = list(GRID)
    settings = [dict(zip(names, values)) for values in itertools.product(*GRID.values())]
    by_lifetime: dict[int, dict[str, Totals]] = {}
    for lifetime in LIFETIMES_MIN:
        assumptions = Assumptions(idle_lifetime_min=lifetime)
        results = pool.map(
            partial(_tune_one, assumptions=assumptions, settings=settings), workloads, chunksize=4
        )
        by_lifetime[lifetime] = totals(zip(workloads, results), assumptions)
    return [
        (setting, {lifetime: by_lifetime[lifetime][str(index)] for lifetime in LIFETIMES_MIN})
        for index, setting in enumerate(settings)
    ]


def runs(quick: bool, pool: ProcessPoolExecutor) -> Iterator[Run]:
    """The reported runs: all 500 for each lifetime and arrival rule, then the 24-hour set."""
    if quick:
        yield run_set("subset_100", azure_trace.primary("subset_100"), Assumptions(), pool)
        return
    primary, day = azure_trace.primary(), azure_trace.day()
    for lifetime, arrivals in itertools.product(LIFETIMES_MIN, ARRIVAL_RULES):
        yield run_set(
            "all 500, 8 h", primary, Assumptions(idle_lifetime_min=lifetime, arrivals=arrivals), pool
        )
    for lifetime in LIFETIMES_MIN:
        yield run_set("24-hour set", day, Assumptions(idle_lifetime_min=lifetime), pool)
    yield run_set("all 500, 8 h", primary, replace(Assumptions(), durations="mean"), pool)
    yield run_set(ROUGH_LABEL, azure_trace.primary("subset_100"), ROUGH_RULES, pool)


def calibrate() -> list[Calibration]:
    """Each slice of :data:`CALIBRATION` through the emulator, its policies side by side."""
    primary = {workload.name: workload for workload in azure_trace.primary()}
    results: list[Calibration] = []
    with tempfile.TemporaryDirectory() as folder:
        layer_zip = Path(folder) / "lambdawarmer-layer.zip"
        write_zip(layer_zip)
        for name, first, minutes in CALIBRATION:
            with ThreadPoolExecutor(len(CALIBRATION_PINGS)) as pool:
                results += pool.map(
                    lambda n, name=name, first=first, minutes=minutes: replay(
                        primary[name], first, minutes, n, layer_zip
                    ),
                    CALIBRATION_PINGS,
                )
            print(f"calibrated on {name}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="subset_100 at one lifetime")
    parser.add_argument("--out", type=Path, default=ROOT / "bench", help="where traces.md and traces.png go")
    arguments = parser.parse_args(argv)
    print(f"writing {arguments.out / 'traces.md'} and traces.png (--out DIR to write elsewhere)", flush=True)

    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        grid = [] if arguments.quick else tune(azure_trace.primary("subset_100"), pool)
        print(f"tuned auto's settings on subset_100 ({time.perf_counter() - started:.0f} s)", flush=True)
        reported = []
        for done in runs(arguments.quick, pool):
            reported.append(done)
            print(f"replayed {done.label} ({time.perf_counter() - started:.0f} s)", flush=True)
    model_seconds = time.perf_counter() - started
    calibrations = [] if arguments.quick else calibrate()
    elapsed = time.perf_counter() - started
    arguments.out.mkdir(parents=True, exist_ok=True)
    write_report(reported, grid, calibrations, (model_seconds, elapsed), arguments.out / "traces.md")
    write_plot(reported[0] if arguments.quick else _main_run(reported), arguments.out / "traces.png")
    print(f"wrote {arguments.out / 'traces.md'} and traces.png in {elapsed:.0f} s")
    return 0


def _main_run(reported: list[Run]) -> Run:
    return next(
        run
        for run in reported
        if run.label.startswith("all 500")
        and run.assumptions == Assumptions(idle_lifetime_min=MAIN_LIFETIME_MIN)
    )


if __name__ == "__main__":
    raise SystemExit(main())
