"""``lambdawarmer fleet status`` at scale, against moto's server: its wall time and AWS calls per function.

FUNCTIONS functions in five regions of one account, a fraction of them tagged. Reports the wall
time and the AWS calls (counted by a botocore ``before-call`` hook), per tagged function and by operation.

    python -m bench.fleet                          # 1,000 functions, 200 tagged
    python -m bench.fleet --functions 100 --tagged 0.5 --out DIR     # DIR/fleet.json too

moto answers slower than AWS and on the same two cores as the command, so the wall time is an upper
figure for the command's own work; the calls are what they would be against AWS. Figures are
reported, never asserted (tests/test_fleet.py asserts the call contract on a small fleet).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import threading
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2")
TAG = {"Key": "lambdawarmer:fleet", "Value": "bench"}


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'work'\n")
    return buffer.getvalue()


def build(functions: int, tagged: float) -> int:
    """The fleet in moto: ``functions`` spread over :data:`REGIONS`, every 1/``tagged``-th tagged."""
    import boto3

    role = boto3.client("iam").create_role(
        RoleName="app", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    code = _code()
    clients = {region: boto3.client("lambda", region_name=region) for region in REGIONS}
    step = max(1, round(1 / tagged)) if tagged else 0

    def create(n: int) -> bool:
        warm = bool(step) and n % step == 0
        clients[REGIONS[n % len(REGIONS)]].create_function(
            FunctionName=f"app-{n:05d}",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": code},
            Tags={TAG["Key"]: TAG["Value"]} if warm else {"team": "bench"},
        )
        return warm

    with ThreadPoolExecutor(max_workers=4) as pool:
        return sum(pool.map(create, range(functions)))


def measure(workers: int) -> dict[str, Any]:
    """One ``fleet status`` over the five regions: wall time, rows, calls."""
    from lambdawarmer_cli import main as cli
    from lambdawarmer_cli.commands import fleet

    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def counted(event_name: str, **_: Any) -> None:
        with lock:
            calls[event_name.split(".", 1)[1]] += 1

    argv = ["fleet", "status", "--tag", f"{TAG['Key']}={TAG['Value']}", "--regions", ",".join(REGIONS)]
    arguments = cli.parser().parse_args([*argv, "--json", "--quiet", "--max-workers", str(workers)])
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):
        fleet.run(arguments, out, on_call=counted)
    wall = time.perf_counter() - started
    rows = json.loads(out.getvalue())
    return {"wall_s": round(wall, 2), "rows": len(rows), "calls": dict(calls.most_common())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--tagged", type=float, default=0.2, help="the fraction of functions tagged")
    parser.add_argument("--max-workers", type=int, default=8)
    parser.add_argument("--out", help="also write the figures here (a folder: its fleet.json)")
    parser.add_argument("--quick", action="store_true", help="25 functions, for the smoke test")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.functions = 25
    from emulator.moto_server import MotoServer

    server = MotoServer()
    os.environ.update(
        AWS_ENDPOINT_URL=server.url,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=REGIONS[0],
    )
    try:
        started = time.perf_counter()
        tagged = build(arguments.functions, arguments.tagged)
        built = time.perf_counter() - started
        result = measure(arguments.max_workers)
    finally:
        server.stop()
    total = sum(result["calls"].values())
    report = {
        "functions": arguments.functions,
        "regions": len(REGIONS),
        "tagged": tagged,
        "max_workers": arguments.max_workers,
        "build_s": round(built, 1),
        **result,
        "calls_total": total,
        "calls_per_tagged_function": round(total / max(tagged, 1), 2),
        "configuration_reads_per_tagged_function": round(
            result["calls"].get("lambda.GetFunctionConfiguration", 0) / max(tagged, 1), 2
        ),
    }
    print(json.dumps(report, indent=2))
    if arguments.out:
        os.makedirs(arguments.out, exist_ok=True)
        with open(os.path.join(arguments.out, "fleet.json"), "w") as file:
            json.dump(report, file, indent=2)


if __name__ == "__main__":
    main()
