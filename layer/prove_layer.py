"""Prove a built layer zip: run the example function with it in the emulator, through boto3.

A warm-up ping with concurrency 3, then 3 concurrent real requests; prints what happened and exits
non-zero if any of it is not as it must be: 3 environments started cold by the ping, the handler
not run for it, then the real requests all handled, by warm environments.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator import FunctionSpec, Invocation, LambdaEmulator  # noqa: E402
from emulator.client import invoke_client  # noqa: E402
from lambdawarmer.config import load_config  # noqa: E402
from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH  # noqa: E402
from lambdawarmer.protocol import NotAReport, PingFormat, Report  # noqa: E402

CONCURRENCY = 3


def describe(invocation: Invocation) -> str:
    return f"{invocation.environment_id}  {'cold' if invocation.cold else 'warm'}  {invocation.status}"


def prove(layer_zip: Path) -> list[str]:
    """Run the proof; the list of what failed (empty when the layer works)."""
    function = FunctionSpec(
        name="lambdawarmer-example",
        code=ROOT / "example",
        handler="app.handler",
        layers=[layer_zip],
        environment={EXEC_WRAPPER_VARIABLE: WRAPPER_PATH, "WARMER_SEND_METRIC": "true"},
        timeout_s=10,
    )
    with LambdaEmulator(function) as emulator:
        client = invoke_client(emulator.serve())

        def invoke(event: object) -> dict[str, object]:
            answer = client.invoke(FunctionName=function.name, Payload=json.dumps(event).encode())
            return {"error": answer.get("FunctionError"), "body": json.loads(answer["Payload"].read())}

        pings = PingFormat.of(load_config(environ=function.environment))
        ping = invoke(pings.scheduled_ping(CONCURRENCY))
        after_ping = list(emulator.invocations)
        handled_by_ping = sum("handling request" in line for line in emulator.output())
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            requests = list(pool.map(invoke, [{"order": n, "sleep_ms": 300} for n in range(CONCURRENCY)]))
        real = [i for i in emulator.invocations if i not in after_ping]
        handled = sum("handling request" in line for line in emulator.output()) - handled_by_ping
        metrics = [line for line in emulator.output() if line.startswith('{"_aws"') and '"ColdStart"' in line]
        rounds = [
            line for line in emulator.output() if line.startswith('{"_aws"') and '"InstancesWarmed"' in line
        ]

        try:
            report: Report | None = Report.from_dict(ping["body"])
        except NotAReport:
            report = None
        fan_out = report.fan_out if report else None
        print(f"layer {layer_zip} on {function.runtime}, /opt mounted: {emulator.mount_opt}")
        print(
            f"  warm-up ping, concurrency {CONCURRENCY}: {report.instances_warmed if report else 0} instances"
            f" warmed ({report.instances_cold if report else 0} cold),"
            f" {report.invocations_failed if report else '-'} invokes failed,"
            f" {fan_out.fanout_ms if fan_out else '-'} ms"
        )
        for invocation in after_ping:
            print(f"    {describe(invocation)}  {json.loads(invocation.event)}")
        print(f"  {CONCURRENCY} concurrent real requests:")
        for invocation in real:
            print(f"    {describe(invocation)}")
        print(
            f"  environments started: {len(emulator.all_environments)};"
            f" handler calls: ping {handled_by_ping}, requests {handled}; EMF metric lines: {len(metrics)}"
            f" (and {len(rounds)} round record)"
        )

        failures = []
        if (
            ping["error"]
            or report is None
            or report.instances_warmed != CONCURRENCY
            or report.invocations_failed
        ):
            failures.append(f"the ping did not warm {CONCURRENCY} instances: {ping}")
        if len({i.environment_id for i in after_ping}) != CONCURRENCY or not all(i.cold for i in after_ping):
            failures.append("the ping did not start exactly 3 environments cold")
        if handled_by_ping:
            failures.append("the handler ran for a warm-up ping")
        if any(r["error"] for r in requests) or handled != CONCURRENCY:
            failures.append(f"the real requests were not all handled: {requests}")
        if any(i.cold for i in real):
            failures.append("a real request after the ping was a cold start")
        if len(metrics) != len(emulator.invocations):
            failures.append("not one EMF line per invocation")
        if len(rounds) != 1 or json.loads(rounds[0])["InstancesWarmed"] != CONCURRENCY:
            failures.append(f"not one round record saying {CONCURRENCY} instances were warmed: {rounds}")
        return failures


def main(argv: list[str]) -> int:
    failures = prove(Path(argv[0]) if argv else ROOT / "dist" / "lambdawarmer-layer.zip")
    for failure in failures:
        print(f"FAILED: {failure}")
    print("layer proven: OK" if not failures else "layer proof FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
