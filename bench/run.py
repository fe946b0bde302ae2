"""Run every benchmark, ours and lambda-warmer-py 0.6.0 side by side, and write the report.

    python -m bench.run                 # the full run: bench/results.md and bench/efficacy.png
    python -m bench.run --quick --out DIR   # the smallest point of each, for the smoke test

Figures are reported, never asserted: where a target is missed, the report says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from emulator.moto_server import MotoServer
from layer.build_layer import write_zip

from .functions import IMPLEMENTATIONS, SEED_REQUIREMENT, ensure_seed
from .handshakes import handshake_costs
from .lifecycle import cold_start_ms, efficacy_point, memory_point
from .report import write_plot, write_report
from .traffic import run_traffic

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "inprocess_worker.py"


class Plan:
    """What to measure: the full run, or the smallest point of everything (--quick)."""

    def __init__(self, quick: bool) -> None:
        self.concurrencies = [3] if quick else [5, 10, 20, 40]
        self.latencies = [0.0] if quick else [0.0, 25.0]
        self.repeats = 1 if quick else 3
        self.cold_starts = 1 if quick else 15
        self.overhead_calls, self.overhead_repeats = (2_000, 3) if quick else (200_000, 9)
        self.metric_calls = 20 if quick else 400
        self.import_runs = 1 if quick else 21
        self.memory_sizes = [128] if quick else [128, 256, 512, 1024, 1769]
        self.memory_concurrency = 3 if quick else 10
        self.large_n = self.memory_concurrency if quick else 40
        """The N of the 128 MB point that shows each round's handshakes, hold and spread."""
        self.memory_points = MEMORY_POINTS[::2] if quick else MEMORY_POINTS  # quick: no plain HTTP
        self.handshakes = (128,) if quick else (128, 1769)
        """The memory sizes a new connection's cost is measured at (bench/handshakes.py)."""


def machine() -> dict[str, str]:
    cpu = "unknown"
    if Path("/proc/cpuinfo").exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else platform.machine()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "os": platform.platform(),
        "python": platform.python_version(),
        "awslambdaric": version("awslambdaric"),
        "boto3": version("boto3"),
        "seed": SEED_REQUIREMENT,
    }


def run_efficacy(plan: Plan, layer_zip: Path) -> list[dict[str, Any]]:
    rows = []
    for latency in plan.latencies:
        for concurrency in plan.concurrencies:
            for implementation in ("layer", "seed"):
                points = [
                    efficacy_point(implementation, concurrency, latency, layer_zip)
                    for _ in range(plan.repeats)
                ]
                rows.append(
                    {
                        "implementation": implementation,
                        "latency_ms": latency,
                        "n": concurrency,
                        "points": points,
                    }
                )
                warmed = [p["warmed"] for p in points]
                where = f"N={concurrency:2} latency={latency:g} ms"
                print(f"  efficacy {implementation:5} {where}: warmed {warmed}", flush=True)
    return rows


def run_cold_starts(plan: Plan, layer_zip: Path) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {implementation: [] for implementation in IMPLEMENTATIONS}
    for _ in range(plan.cold_starts):
        for implementation in IMPLEMENTATIONS:  # interleaved: all three see the same machine
            samples[implementation].append(cold_start_ms(implementation, layer_zip))
    for implementation, values in samples.items():
        print(f"  cold start {implementation:5}: median {statistics.median(values):.1f} ms", flush=True)
    return samples


def worker(
    implementation: str, *arguments: str, environment: dict[str, str] | None = None
) -> dict[str, float]:
    """Run inprocess_worker.py with ``implementation``'s ``lambdawarmer`` first on the path."""
    path = str(ROOT) if implementation == "ours" else str(ensure_seed())
    env = {**os.environ, "PYTHONPATH": path, **(environment or {})}
    with tempfile.TemporaryDirectory() as neutral:
        output = subprocess.run(
            [sys.executable, str(WORKER), arguments[0], implementation, *arguments[1:]],
            cwd=neutral,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return json.loads(output.splitlines()[-1])  # type: ignore[no-any-return]


def run_overhead(plan: Plan) -> dict[str, dict[str, float]]:
    calls, repeats = str(plan.overhead_calls), str(plan.overhead_repeats)
    results = {
        "ours, metrics off": worker("ours", "overhead", "off", calls, repeats),
        "ours, EMF metrics": worker("ours", "overhead", "emf", calls, repeats),
        "seed, metrics off": worker("seed", "overhead", "off", calls, repeats),
    }
    for name, result in results.items():
        print(f"  overhead {name}: {result['wrapped_ns'] - result['bare_ns']:.0f} ns/call", flush=True)
    return results


def run_metrics_cost(plan: Plan) -> dict[str, float]:
    server = MotoServer()
    aws = {
        "AWS_ENDPOINT_URL_CLOUDWATCH": server.url,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
    }
    calls = str(plan.metric_calls)
    try:
        results = {
            "ours, EMF (default)": worker("ours", "metrics", "emf", calls, environment=aws)["us_per_call"],
            "ours, PutMetricData": worker("ours", "metrics", "put_metric_data", calls, environment=aws)[
                "us_per_call"
            ],
            "seed, PutMetricData": worker("seed", "metrics", "on", calls, environment=aws)["us_per_call"],
        }
    finally:
        server.stop()
    for name, value in results.items():
        print(f"  metrics {name}: {value:.1f} us/call", flush=True)
    return results


def import_time_ms(runs: int) -> dict[str, float]:
    """``import lambdawarmer`` in a fresh interpreter: with its bytecode cached, and compiled at each
    import (what a layer without bytecode costs in Lambda, where /opt is read-only)."""
    results = {}
    with tempfile.TemporaryDirectory() as copy, tempfile.TemporaryDirectory() as neutral:
        shutil.copytree(
            ROOT / "lambdawarmer", Path(copy) / "lambdawarmer", ignore=shutil.ignore_patterns("__pycache__")
        )
        for label, path, write_bytecode in (
            ("bytecode cached", str(ROOT), True),
            ("compiled at import", copy, False),
        ):
            env = {**os.environ, "PYTHONPATH": path}
            env.pop("PYTHONDONTWRITEBYTECODE", None)  # a machine that sets it would never cache
            if not write_bytecode:
                env["PYTHONDONTWRITEBYTECODE"] = "1"
            samples = []
            for _ in range(runs):
                stderr = subprocess.run(
                    [sys.executable, "-X", "importtime", "-c", "import lambdawarmer"],
                    cwd=neutral,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stderr
                line = [row for row in stderr.splitlines() if row.rstrip().endswith("| lambdawarmer")][-1]
                samples.append(int(line.split("|")[1]) / 1000)
            results[label] = statistics.median(samples)
    return results


MEMORY_POINTS = (("layer", True), ("layer", False), ("seed", True))
"""By memory size: lambdawarmer over HTTPS (Lambda's API) and over plain HTTP, lambda-warmer-py over HTTPS."""


def run_memory_sizes(plan: Plan, layer_zip: Path) -> list[dict[str, Any]]:
    rows = []
    points: list[tuple[int, int, tuple[tuple[str, bool], ...]]] = [
        (memory_mb, plan.memory_concurrency, plan.memory_points) for memory_mb in plan.memory_sizes
    ]
    if plan.large_n != plan.memory_concurrency:
        points.append((128, plan.large_n, MEMORY_POINTS[:2]))  # lambdawarmer's rounds, HTTPS and HTTP
    for memory_mb, n, implementations in points:
        for implementation, tls in implementations:
            point = memory_point(implementation, memory_mb, n, layer_zip, tls=tls)
            rows.append(
                {"implementation": implementation, "tls": tls, "memory_mb": memory_mb, "n": n, **point}
            )
            walls = [f"{ping['wall_ms']:.0f} ms" for ping in point["pings"]]
            print(
                f"  {memory_mb:4} MB N={n} {implementation:5} {'https' if tls else 'http '}: warmed "
                f"{point['warmed']}, pings {walls}, cold after {point['cold_after']}",
                flush=True,
            )
    return rows


CLIENT_IMPORT = """
import json, sys, time
import awslambdaric.bootstrap  # what the runtime has loaded before any function code
cpu, wall = time.process_time(), time.monotonic()
import lambdawarmer.aws
print(json.dumps({"cpu_ms": (time.process_time() - cpu) * 1000, "wall_ms": (time.monotonic() - wall) * 1000}))
"""


def client_import_ms(runs: int) -> dict[str, dict[str, float]]:
    """What the layer's AWS client costs to import on top of the runtime, on a whole core and at
    128 MB's share (a cgroup quota, as the emulator gives it)."""
    from emulator.cpu import CpuController, cpu_controller, cpu_share
    from emulator.environment import JOIN_CGROUP

    controller = cpu_controller()
    results = {}
    for label, memory_mb in (("whole core", None), ("128 MB (7.2% of a core)", 128)):
        if memory_mb is not None and not isinstance(controller, CpuController):
            continue
        samples = []
        for _ in range(runs):
            command = [sys.executable, "-c", CLIENT_IMPORT]
            group = None
            if memory_mb is not None and isinstance(controller, CpuController):
                group = controller.group("import")
                group.limit(cpu_share(memory_mb))
                command = ["sh", "-c", JOIN_CGROUP, "sh", str(group.procs), *command]
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
            samples.append(json.loads(output.splitlines()[-1]))
            if group is not None:
                group.remove()
        results[label] = {
            key: statistics.median(sample[key] for sample in samples) for key in ("cpu_ms", "wall_ms")
        }
    if isinstance(controller, CpuController):
        controller.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the smallest point of each benchmark")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="where to write")
    parser.add_argument(
        "--only-memory",
        action="store_true",
        help="measure only the by-memory section again, keeping the rest of results.json",
    )
    arguments = parser.parse_args(argv)
    plan = Plan(arguments.quick)
    if arguments.only_memory:
        return rerun_memory_sizes(plan, arguments.out)
    print(f"writing {arguments.out / 'results.md'} and efficacy.png (--out DIR: elsewhere)", flush=True)
    arguments.out.mkdir(parents=True, exist_ok=True)
    ensure_seed()
    with tempfile.TemporaryDirectory() as scratch:
        layer_zip = Path(scratch) / "lambdawarmer-layer.zip"
        write_zip(layer_zip)
        print("warm-up efficacy and fan-out time", flush=True)
        efficacy = run_efficacy(plan, layer_zip)
        print("auto concurrency against a traffic profile", flush=True)
        traffic = run_traffic(plan.repeats == 1, layer_zip)
        print("cold start", flush=True)
        cold = run_cold_starts(plan, layer_zip)
        cold_128 = {
            implementation: [
                cold_start_ms(implementation, layer_zip, memory_mb=128, throttle_init=True)
                for _ in range(plan.cold_starts)
            ]
            for implementation in IMPLEMENTATIONS
        }
        print("by memory size, 3 s timeout", flush=True)
        memory_sizes = run_memory_sizes(plan, layer_zip)
        zip_size = layer_zip.stat().st_size
    print("TLS handshakes", flush=True)
    handshakes = handshake_costs(plan.handshakes)
    print("per-invocation overhead", flush=True)
    overhead = run_overhead(plan)
    print("metrics cost", flush=True)
    metrics = run_metrics_cost(plan)
    imports = import_time_ms(plan.import_runs)
    client_imports = client_import_ms(plan.import_runs)
    results = {
        "machine": machine(),
        "quick": arguments.quick,
        "efficacy": efficacy,
        "traffic": traffic,
        "cold_start_ms": cold,
        "overhead": overhead,
        "metrics_us": metrics,
        "layer_zip_bytes": zip_size,
        "import_ms": imports,
        "client_import_ms": client_imports,
        "cold_start_128_ms": cold_128,
        "memory_sizes": memory_sizes,
        "handshakes": handshakes,
    }
    (arguments.out / "results.json").write_text(json.dumps(results, indent=1))
    write_report(results, arguments.out / "results.md")
    write_plot(efficacy, arguments.out / "efficacy.png")
    print(f"wrote {arguments.out / 'results.md'} and {arguments.out / 'efficacy.png'}")
    return 0


def rerun_memory_sizes(plan: Plan, out: Path) -> int:
    """The by-memory section measured again; every other figure kept from ``out``'s results.json."""
    results = json.loads((out / "results.json").read_text())
    with tempfile.TemporaryDirectory() as scratch:
        layer_zip = Path(scratch) / "lambdawarmer-layer.zip"
        write_zip(layer_zip)
        print("by memory size, 3 s timeout", flush=True)
        results["memory_sizes"] = run_memory_sizes(plan, layer_zip)
    print("TLS handshakes", flush=True)
    results["handshakes"] = handshake_costs(plan.handshakes)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    write_report(results, out / "results.md")
    print(f"wrote {out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
