"""Flat against tree: N of N at Lambda's default timeout with every connection new (python -m bench.tree).

A fresh function of each memory and N, each environment held to its memory's CPU share, the Invoke
API behind TLS, idle connections closed between pings as the service closes them, a 3 s timeout:
four pings, then N overlapping real requests. *flat*: a ping without the token, one flat round cut
to what fits (what every ping sent before the tree, less the top-up); *tree*: the owner's ping
(WARMER_TOKEN), a tree round where flat does not fit. Per ping: the environments busy together at
one instant (the emulator's records, not the report), its wall time, whether it answered before
its deadline, and the GB-seconds Lambda bills for it. Writes tree.md (and tree.json).
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from emulator import LambdaEmulator
from emulator.client import invoke_client
from layer.build_layer import write_zip

from .functions import PINGS, make_function
from .lifecycle import billed_gb_seconds
from .run import machine

TOKEN = "bench-owners-token-0123456789"
POINTS = (
    (128, 40, ("flat", "tree")),
    (128, 60, ("flat", "tree")),
    (128, 100, ("flat", "tree")),
    (1769, 100, ("tree",)),
)
QUICK_POINTS = ((128, 40, ("flat", "tree")),)
PINGS_SENT = 4


def busy_together(invocations: list[Any]) -> int:
    """How many environments of ``invocations`` were all busy at one instant (each one's first)."""
    first: dict[str, Any] = {}
    for invocation in invocations:
        if invocation.status == "success" and invocation.environment_id not in first:
            first[invocation.environment_id] = invocation
    if not first:
        return 0
    latest_start = max(i.started_at for i in first.values())
    return sum(i.finished_at > latest_start for i in first.values())


def point(memory_mb: int, concurrency: int, shape: str, layer_zip: Path) -> dict[str, Any]:
    """One fresh function pinged :data:`PINGS_SENT` times, then ``concurrency`` overlapping requests."""
    with tempfile.TemporaryDirectory() as folder:
        function = make_function("layer", Path(folder) / "code", layer_zip, memory_mb=memory_mb, timeout_s=3)
        event = dict(PINGS.scheduled_ping(concurrency))
        if shape == "tree":
            function.environment["WARMER_TOKEN"] = TOKEN
            event["token"] = TOKEN
        with LambdaEmulator(function, concurrency=1000) as emulator:
            emulator.serve(tls=True)
            client = invoke_client(emulator.url)
            pings = []
            for _ in range(PINGS_SENT):
                before, environments_before = len(emulator.invocations), len(emulator.all_environments)
                started = time.monotonic()
                answer = client.invoke(FunctionName="bench", Payload=json.dumps(event))
                wall_ms = (time.monotonic() - started) * 1000
                report = json.loads(answer["Payload"].read())
                waited = time.monotonic()  # a late relay's share ends first: the schedule's minutes
                while (
                    any(i.finished_at is None for i in emulator.invocations)
                    and time.monotonic() - waited < 30
                ):
                    time.sleep(0.05)
                caused = emulator.invocations[before:]
                received = caused[0]
                first_round = (report.get("rounds") or [{}])[0]
                tree = first_round.get("tree")
                pings.append(
                    {
                        "wall_ms": wall_ms,
                        "in_time": received.status == "success"
                        and (received.finished_at or math.inf) <= received.deadline_at,
                        "busy_together": busy_together(caused),
                        "reported": report.get("instances_warmed"),
                        "shape": f"tree {tree['fan']}x{tree['depth']}" if tree else "flat",
                        "gb_seconds": billed_gb_seconds(
                            caused, emulator.all_environments[environments_before:], memory_mb
                        ),
                    }
                )
            barrier = Path(folder) / "barrier"
            barrier.mkdir()
            request = json.dumps({"barrier": str(barrier), "parties": concurrency})
            before = len(emulator.invocations)
            with ThreadPoolExecutor(concurrency) as pool:
                list(
                    pool.map(
                        lambda _: client.invoke(FunctionName="bench", Payload=request), range(concurrency)
                    )
                )
            cold_after = sum(invocation.cold for invocation in emulator.invocations[before:])
    return {
        "memory_mb": memory_mb,
        "n": concurrency,
        "shape": shape,
        "pings": pings,
        "cold_after": cold_after,
    }


def write_report(results: dict[str, Any], path: Path) -> None:
    machine_ = results["machine"]
    lines = [
        "# Flat against tree: N of N at 3 s with every connection new",
        "",
        "Regenerate with `python -m bench.tree` (a few minutes). "
        + __doc__.split("\n", 2)[2].strip().replace("\n", " "),
        "",
        f"- date: {machine_['date']}"
        + (" (quick smoke run: smallest point only)" if results["quick"] else ""),
        f"- machine: {machine_['cpu']}; {machine_['os']}",
        "  (shared with other jobs: the environments' inits and the emulator's own TLS share its cores;",
        "  on Lambda they run elsewhere)",
        f"- Python {machine_['python']}, awslambdaric {machine_['awslambdaric']}",
        "",
        "| memory | N | ping | sent as | busy together, pings 1-4 | answered in time | wall time, pings 1-4 "
        "| GB-s a ping, pings 1-4 | cold among N requests after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in results["points"]:
        pings = row["pings"]
        shapes = sorted({ping["shape"] for ping in pings})
        ping = "with the token" if row["shape"] == "tree" else "tokenless"
        lines.append(
            f"| {row['memory_mb']} MB | {row['n']} | {ping} | {', '.join(shapes)} | "
            + ", ".join(str(p["busy_together"]) for p in pings)
            + f" | {sum(p['in_time'] for p in pings)} of {len(pings)} | "
            + ", ".join(f"{p['wall_ms'] / 1000:.2f} s" for p in pings)
            + " | "
            + ", ".join(f"{p['gb_seconds']:.2f}" for p in pings)
            + f" | {row['cold_after']} |"
        )
    path.write_text("\n".join(lines) + "\n" + NOTES)


NOTES = """
Tree rounds are sent as `fan x depth`. A round invokes N - 1 at most: busy together above N (a
ping of N = 60 that found 68) means a top-up round followed and met new environments. The first
ping's relays are new environments: their answers come late and the report counts fewer than the
emulator saw; a tree ping's GB-s stay high until one warmed all N (its release instant allows new
environments' init). At 1,769 MB each of N environments would get a whole core: this 2-core machine
cannot give 100, so that row measures the machine more than the layer.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tree", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the smallest point only")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="where to write")
    arguments = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        layer_zip = Path(scratch) / "lambdawarmer-layer.zip"
        write_zip(layer_zip)
        for memory_mb, concurrency, shapes in QUICK_POINTS if arguments.quick else POINTS:
            for shape in shapes:
                rows.append(point(memory_mb, concurrency, shape, layer_zip))
                print(json.dumps(rows[-1]), flush=True)
    results = {"machine": machine(), "quick": arguments.quick, "points": rows}
    arguments.out.mkdir(parents=True, exist_ok=True)
    (arguments.out / "tree.json").write_text(json.dumps(results, indent=1))
    write_report(results, arguments.out / "tree.md")
    print(f"wrote {arguments.out / 'tree.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
