"""The steady ping's wall time and hold, layer against layer (python -m bench.steady A.zip B.zip ...).

Each layer warms a fresh 1,769 MB function (a whole core) whose Invoke API answers over plain HTTP
with a 25 ms round trip, connections kept alive between pings (the steady state): five pings of
``--concurrency`` (40), the layers interleaved ``--repeats`` times on one machine.
Per ping: its wall time, the hold it asked, its send spread and the warm instances' arrival spread;
``--out DIR`` writes them to DIR/steady.json. No layer named: this checkout's. Build an older
release's layer from its commit (``git worktree add``, then its ``layer/build_layer.py --zip``) to
compare it with this one.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from emulator import LambdaEmulator
from emulator.client import invoke_client
from layer.build_layer import write_zip

from .functions import PINGS, make_function

PINGS_PER_LAYER = 5
LATENCY_MS = 25.0
MEMORY_MB = 1769


def pings_of(layer_zip: Path, concurrency: int) -> list[dict[str, Any]]:
    """Five pings of ``concurrency`` to a fresh function with ``layer_zip``: each one's figures."""
    with tempfile.TemporaryDirectory() as folder:
        function = make_function("layer", Path(folder), layer_zip, memory_mb=MEMORY_MB)
        with LambdaEmulator(function, concurrency=1000, latency_ms=LATENCY_MS) as emulator:
            emulator.serve(tls=False, keep_alive=True)
            client = invoke_client(emulator.url)
            figures = []
            for _ in range(PINGS_PER_LAYER):
                started = time.monotonic()
                answer = client.invoke(
                    FunctionName="bench", Payload=json.dumps(PINGS.scheduled_ping(concurrency))
                )
                report = json.loads(answer["Payload"].read())
                first = (report.get("rounds") or [{}])[0]
                figures.append(
                    {
                        "wall_ms": round((time.monotonic() - started) * 1000),
                        "hold_ms": report.get("hold_ms"),
                        "send_spread_ms": first.get("send_spread_ms"),
                        "warm_arrival_spread_ms": first.get("warm_arrival_spread_ms"),
                        "warmed": report.get("instances_warmed"),
                    }
                )
                time.sleep(0.2)
            return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layers", nargs="*", type=Path, help="layer zips to compare (none: this checkout's)")
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="N = 3, once: for the smoke test")
    parser.add_argument("--out", type=Path, help="also write the figures here (a folder: its steady.json)")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.concurrency, arguments.repeats = 3, 1
    with tempfile.TemporaryDirectory() as scratch:
        layers = arguments.layers
        if not layers:
            layers = [Path(scratch) / "lambdawarmer-layer.zip"]
            write_zip(layers[0])
        print("| layer | pings 1-5: wall ms (hold ms, warm arrival spread ms) |\n| --- | --- |")
        rows = []
        for _ in range(arguments.repeats):
            for layer in layers:
                figures = pings_of(layer, arguments.concurrency)
                rows.append({"layer": layer.name, "pings": figures})
                shown = ", ".join(
                    f"{f['wall_ms']} ({f['hold_ms']}, {f['warm_arrival_spread_ms']})" for f in figures
                )
                print(f"| {layer.name} | {shown} |", flush=True)
    if arguments.out is not None:
        result = {"concurrency": arguments.concurrency, "latency_ms": LATENCY_MS, "rows": rows}
        arguments.out.mkdir(parents=True, exist_ok=True)
        (arguments.out / "steady.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
