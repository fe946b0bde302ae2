"""Auto concurrency against a synthetic traffic profile (rising, peak, falling), replayed in the emulator.

Each tick stands for one 5-minute schedule period: the warm-up ping runs in its first minute, then
real traffic of the profile's concurrency. Between ticks the emulator reclaims environments that
served nothing in the last tick (Lambda reclaims idle environments), and the bench writes what
CloudWatch would hold by then into moto's CloudWatch: ``ConcurrentExecutions`` per minute (the
ping's N in its minute, the traffic in the others) and the round metric of each ping (CloudWatch
Logs extracts it from the EMF line). The function reads it back through the real GetMetricData.

Three strategies on the same profile: ``auto``, a fixed N at the profile's peak, and a fixed N at
its average; for each tick, the N the ping warmed, the invocations spent on warming, and the cold
starts among the real requests.
"""

from __future__ import annotations

import datetime
import json
import statistics
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3

from emulator import LambdaEmulator
from emulator.client import invoke_client
from emulator.moto_server import MotoServer
from lambdawarmer.protocol import Report
from lambdawarmer.settings import SETTINGS

from .functions import PINGS, make_function

PROFILE = [1, 2, 4, 6, 10, 14, 18, 18, 14, 10, 6, 4, 2, 1, 1, 1]
"""Concurrent real requests in each tick."""
QUICK_PROFILE = [1, 3, 2]
TICK_MINUTES = 5
WINDOW_MINUTES = 15
"""Auto's window here: three ticks, so the bench shows N coming down within the profile."""
REQUEST_MS = 300


def strategies(profile: list[int]) -> dict[str, int | str]:
    """The concurrency each strategy's pings ask for."""
    return {"auto": "auto", "fixed N=peak": max(profile), "fixed N=average": round(statistics.mean(profile))}


def _minute(minutes_ago: int) -> datetime.datetime:
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    return now - datetime.timedelta(minutes=minutes_ago) + datetime.timedelta(seconds=10)


def _history(cloudwatch: Any, endpoint: str, ticks: list[dict[str, int]]) -> None:
    """What CloudWatch holds after ``ticks``: the last one ended a minute ago."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    dimensions = [{"Name": "FunctionName", "Value": "bench"}]
    data: list[tuple[str, str, int, int]] = []
    for age, tick in enumerate(reversed(ticks)):
        start = (age + 1) * TICK_MINUTES  # minutes ago the tick began: its ping ran then
        data.append(("AWS/Lambda", "ConcurrentExecutions", start, tick["warmed"]))
        data.append(("LambdaWarmer", "InstancesRequested", start, tick["warmed"]))
        data += [
            ("AWS/Lambda", "ConcurrentExecutions", start - m, tick["traffic"]) for m in range(1, TICK_MINUTES)
        ]
    for namespace, metric, minutes_ago, value in data:
        datum = {
            "MetricName": metric,
            "Dimensions": dimensions,
            "Timestamp": _minute(minutes_ago),
            "Value": value,
        }
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=[datum])


def _requests(client: Any, count: int) -> None:
    """``count`` concurrent real requests, each running REQUEST_MS."""
    request = json.dumps({"sleep_ms": REQUEST_MS})
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(lambda _: client.invoke(FunctionName="bench", Payload=request), range(count)))


def replay(strategy: int | str, profile: list[int], layer_zip: Path, endpoint: str) -> list[dict[str, Any]]:
    """One fresh function through the whole profile; a row per tick."""
    cloudwatch = boto3.client(
        "cloudwatch",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    ticks: list[dict[str, int]] = []
    with tempfile.TemporaryDirectory() as folder:
        function = make_function("layer", Path(folder), layer_zip)
        function.environment.update(
            {"AWS_ENDPOINT_URL_CLOUDWATCH": endpoint, "WARMER_AUTO_WINDOW": str(WINDOW_MINUTES)}
        )
        with LambdaEmulator(function, concurrency=1000) as emulator:
            client = invoke_client(emulator.serve())
            tick_started = time.monotonic()
            for traffic in profile:
                emulator.reclaim_idle(tick_started)  # idle for the whole last tick: reclaimed
                tick_started = time.monotonic()
                _history(cloudwatch, endpoint, ticks)
                before = len(emulator.invocations)
                event = PINGS.scheduled_ping(strategy)
                report = Report.from_dict(
                    json.loads(
                        client.invoke(FunctionName="bench", Payload=json.dumps(event))["Payload"].read()
                    )
                )
                spent = len(emulator.invocations) - before
                start = len(emulator.invocations)
                _requests(client, traffic)
                cold = sum(invocation.cold for invocation in emulator.invocations[start:])
                warmed = report.instances_warmed
                ticks.append(
                    {
                        "traffic": traffic,
                        "asked": report.concurrency,
                        "warmed": warmed,
                        "spent": spent,
                        "cold": cold,
                    }
                )
    return ticks


def run_traffic(quick: bool, layer_zip: Path) -> dict[str, Any]:
    """Every strategy on the profile, against a moto CloudWatch started here."""
    profile = QUICK_PROFILE if quick else PROFILE
    with MotoServer() as server:
        endpoint = server.url
        results = {}
        for name, strategy in strategies(profile).items():
            rows = replay(strategy, profile, layer_zip, endpoint)
            results[name] = rows
            spent, cold = sum(r["spent"] for r in rows), sum(r["cold"] for r in rows)
            asked = [row["asked"] for row in rows]
            print(
                f"  traffic {name:16}: N per tick {asked}, {spent} warming invocations, {cold} cold",
                flush=True,
            )
    return {
        "profile": profile,
        "tick_minutes": TICK_MINUTES,
        "window_minutes": WINDOW_MINUTES,
        "headroom_percent": SETTINGS["auto_headroom"].default,
        "strategies": results,
    }


def traffic_table(results: dict[str, Any]) -> list[str]:
    """The per-tick table and the totals, for results.md."""
    strategies_run = results["strategies"]
    names = list(strategies_run)
    header = "| tick | traffic | " + " | ".join(f"{n}: N / cold" for n in names) + " |"
    lines = [header, "| --- | --- | " + " | ".join("---" for _ in names) + " |"]
    for index, traffic in enumerate(results["profile"]):
        cells = [f"{strategies_run[n][index]['asked']} / {strategies_run[n][index]['cold']}" for n in names]
        lines.append(f"| {index + 1} | {traffic} | " + " | ".join(cells) + " |")
    totals = [
        f"{sum(r['spent'] for r in rows)} inv. / {sum(r['cold'] for r in rows)} cold"
        for rows in strategies_run.values()
    ]
    lines.append("| total | " + str(sum(results["profile"])) + " requests | " + " | ".join(totals) + " |")
    return lines
