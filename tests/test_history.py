"""``lambdawarmer cost FUNCTION --history``: a trace function's 8 hours put into moto's CloudWatch,
read back by the command, replayed under every policy; and its refusals.

Data: the Azure Functions Trace 2019 (Shahrad et al., "Serverless in the Wild", USENIX ATC 2020;
Microsoft, CC BY 4.0), read from bench/data/azure2019.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

import boto3
import pytest

from bench import azure_trace
from lambdawarmer_cli.clients import Clients
from lambdawarmer_cli.deployed import parse_refs
from lambdawarmer_cli.history import NoHistory, read_history, weighted_durations
from lambdawarmer_model.replay import Totals, recommendation, replay_function, totals
from lambdawarmer_model.simulation import Assumptions
from lambdawarmer_model.traffic import Workload

from .control_plane import REGION, make_function, run

TRACE_FUNCTION = "59ddc5807131"
"""A primary-set function of 608 requests in 8 hours, up to 4 at once, idle for minutes between."""


def trace_function() -> Workload:
    return next(w for w in azure_trace.primary() if w.name == TRACE_FUNCTION)


def put_history(
    endpoint: str,
    workload: Workload,
    end: datetime.datetime,
    qualifier: str | None = None,
    function: str = "orders",
) -> None:
    """The workload's minutes as CloudWatch would hold them for ``function`` (through ``qualifier``),
    the last ending at ``end``: requests, a per-minute average duration drawn from its percentiles,
    and Little's law's concurrency."""
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=endpoint)
    draw = workload.durations.sampler("percentiles", random.Random(7))
    dimensions = [{"Name": "FunctionName", "Value": function}]
    if qualifier:
        dimensions.append({"Name": "Resource", "Value": f"{function}:{qualifier}"})
    data = []
    first = end - datetime.timedelta(minutes=len(workload.counts))
    for minute, count in enumerate(workload.counts):
        if not count:
            continue
        stamp = first + datetime.timedelta(minutes=minute, seconds=30)
        duration = draw()
        for name, value in (
            ("Invocations", count),
            ("Duration", duration),
            ("ConcurrentExecutions", max(1, round(count * duration / 60_000))),
        ):
            data.append({"MetricName": name, "Dimensions": dimensions, "Timestamp": stamp, "Value": value})
    for start in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=data[start : start + 500])


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)


def test_history_replays_the_functions_own_traffic(aws: dict[str, Any]) -> None:
    make_function(aws, memory=256)
    workload = trace_function()
    put_history(aws["endpoint"], workload, now())
    history = read_history(Clients(region=REGION), parse_refs(["orders"])[0], 1, now())
    # every request read back, minute by minute (the first and last minute with traffic bound it)
    first = next(i for i, count in enumerate(workload.counts) if count)
    last = max(i for i, count in enumerate(workload.counts) if count)
    assert history.counts == list(workload.counts[first : last + 1])
    assert history.period_s == 60

    status, output = run("cost", "orders", "--history", "--days", "1")
    assert status == 0, output
    for policy in (
        "no warming",
        "fixed N = 1",
        "fixed N = peak",
        "auto 1.2.0",
        "auto",
        "Provisioned Concurrency",
    ):
        assert f"{policy:<26}" in output, policy
    assert "oracle" not in output.split("  * ")[0]
    assert "recommended: " in output
    assert f"{sum(history.counts):,} requests" in output
    assert "250 ms init, a ping every 5 min" in output
    # the printed figures are the replay's, per month of scored traffic
    replayed = Workload("orders", history.counts, history.durations, 256)
    summed = totals([(replayed, replay_function(replayed, Assumptions()))], Assumptions())
    months = (len(history.counts) - Assumptions().scored_from_min) / (730 * 60)
    none = summed["no warming"]
    assert f"{none.cold_starts / months:>12,.0f}{none.cold_rate:>9.2%}" in output
    assert none.cold_starts > summed["auto"].cold_starts  # warming saves cold starts here


def test_history_beyond_15_days_reads_5_minute_data(aws: dict[str, Any]) -> None:
    make_function(aws)
    workload = trace_function()
    put_history(aws["endpoint"], workload, now())
    history = read_history(Clients(region=REGION), parse_refs(["orders"])[0], 20, now())
    assert history.period_s == 300
    assert sum(history.counts) == sum(workload.counts)  # each period's requests spread over its minutes


def test_history_refuses_what_it_cannot_judge(aws: dict[str, Any]) -> None:
    make_function(aws)
    status, output = run("cost", "orders", "--history")
    assert (status, output.strip()) == (
        7,
        "cannot judge orders: CloudWatch has no Invocations for orders in the last 14 days",
    )
    short = Workload("short", [3] * 60, trace_function().durations, 128)
    put_history(aws["endpoint"], short, now())
    status, output = run("cost", "orders", "--history")
    assert status == 7
    assert "orders has 60 minutes of traffic in the last 14 days; the replay needs at least 180" in output
    status, output = run("cost", "missing", "--history")
    assert status == 3
    assert "missing" in output
    for argv, message in (
        (("--days", "0"), "--days 0: expected 1 to 63"),
        (("--days", "64"), "--days 64: expected 1 to 63"),
        (("--concurrency", "3", "--arch", "arm64"), "from the function: drop --concurrency, --arch"),
        (("--init-ms", "-1"), "--init-ms -1: expected 0 or more milliseconds"),
        (("--schedule", "cron(0 * * * ? *)"), "has no fixed period: give the rate(...) nearest to it"),
    ):
        status, output = run("cost", "orders", "--history", *argv)
        assert (status, message in output) == (2, True), output
    status, output = run("cost", "--history")
    assert (status, "--history needs a FUNCTION" in output) == (2, True)
    status, output = run("cost", "orders")
    assert (status, "give --concurrency N" in output) == (2, True)


def test_read_history_names_a_function_with_invocations_but_no_duration(aws: dict[str, Any]) -> None:
    make_function(aws)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=aws["endpoint"])
    dimensions = [{"Name": "FunctionName", "Value": "orders"}]
    start = now() - datetime.timedelta(minutes=300)
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {"MetricName": "Invocations", "Dimensions": dimensions, "Value": 1, "Timestamp": start + delta}
            for delta in (datetime.timedelta(minutes=1), datetime.timedelta(minutes=290))
        ],
    )
    with pytest.raises(NoHistory, match="Invocations but no Duration"):
        read_history(Clients(region=REGION), parse_refs(["orders"])[0], 1, now())


def test_weighted_durations_are_the_percentiles_of_the_minute_averages() -> None:
    durations = weighted_durations([(100.0, 1), (200.0, 98), (900.0, 1), (5.0, 0)])
    assert dict(durations.percentiles) == {
        0.0: 100.0,
        0.01: 100.0,
        0.25: 200.0,
        0.5: 200.0,
        0.75: 200.0,
        0.99: 200.0,
        1.0: 900.0,
    }
    assert durations.mean_ms == pytest.approx((100 + 200 * 98 + 900) / 100)


def _totals(name: str, cold: int, usd: float) -> Totals:
    return Totals(name, requests=10_000, cold_starts=cold, warming_usd=usd)


def test_the_recommendation_is_nothing_warming_or_provisioned_concurrency() -> None:
    def summed(none_cold: int, auto: tuple[int, float], provisioned_usd: float) -> dict[str, Totals]:
        return {
            "no warming": _totals("no warming", none_cold, 0.0),
            "auto": _totals("auto", *auto),
            "Provisioned Concurrency": _totals("Provisioned Concurrency", 0, provisioned_usd),
        }

    assert recommendation(summed(3, (3, 0.1), 20.0), months=1).startswith(
        "nothing: warming would have saved 0.0"
    )
    assert recommendation(summed(300, (10, 0.5), 20.0), 1).startswith('warming with "concurrency": "auto"')
    busy = recommendation(summed(300, (10, 30.0), 20.0), 1)
    assert busy.startswith("Provisioned Concurrency: $20.00 a month against warming's $30.00")


def test_history_replays_the_schedule_and_init_it_is_given(aws: dict[str, Any]) -> None:
    make_function(aws)
    put_history(aws["endpoint"], trace_function(), now())
    status, output = run(
        "cost", "orders", "--history", "--days", "1", "--schedule", "rate(15 minutes)", "--init-ms", "900"
    )
    assert status == 0, output
    assert "900 ms init, a ping every 15 min" in output


def test_history_through_an_alias_reads_its_own_metrics_by_any_name(aws: dict[str, Any]) -> None:
    """An ARN with a qualifier reads ``FunctionName`` = the name and ``Resource`` = ``name:alias``."""
    arn = make_function(aws)["FunctionArn"]
    aws["lambda"].publish_version(FunctionName="orders")
    aws["lambda"].create_alias(FunctionName="orders", Name="live", FunctionVersion="1")
    put_history(aws["endpoint"], trace_function(), now(), qualifier="live")
    status, output = run("cost", f"{arn}:live", "--history", "--days", "1")
    assert status == 0, output
    assert f"{sum(trace_function().counts):,} requests" in output
    status, output = run("cost", "orders", "--history", "--days", "1")
    assert status == 7, output  # the function's own, unqualified, has none


def test_history_prices_snapstart_beside_warming_on_the_runtimes_it_serves(aws: dict[str, Any]) -> None:
    make_function(aws, memory=512)  # python3.12: SnapStart serves it
    workload = trace_function()
    put_history(aws["endpoint"], workload, now())
    status, output = run("cost", "orders", "--history", "--days", "1", "--restore-ms", "200")
    assert status == 0, output
    history = read_history(Clients(region=REGION), parse_refs(["orders"])[0], 1, now())
    replayed = Workload("orders", history.counts, history.durations, 512)
    assumptions = Assumptions(restore_ms=200)
    summed = totals([(replayed, replay_function(replayed, assumptions, snapstart=True))], assumptions)
    snapstart, none = summed["SnapStart"], summed["no warming"]
    assert snapstart.cold_starts == none.cold_starts  # restores, on the request's path all the same
    # by hand: the cache all along, a restore charge and 200 ms billed per restore
    gigabytes, seconds = 0.5, len(history.counts) * 60
    expected = (
        gigabytes * seconds * 0.0000015046
        + none.cold_starts * gigabytes * 0.0001397998
        + none.cold_starts * 0.2 * gigabytes * 0.0000166667
    )
    assert snapstart.bill_change_usd == pytest.approx(expected)
    months = (len(history.counts) - assumptions.scored_from_min) / (730 * 60)
    assert f"{'SnapStart':<26}" in output
    assert f"${snapstart.bill_change_usd / months:,.2f}" in output
    assert "each cold start a restore billed 200 ms (--restore-ms) instead of the 250 ms init" in output


def test_history_replays_every_policy_beside_the_provisioned_concurrency_there_is(
    aws: dict[str, Any], configured: Any
) -> None:
    """Requests go to provisioned environments first, and auto counts only what lies above them: the
    replay serves every policy beside the alias's Provisioned Concurrency (and prices no SnapStart,
    which never runs beside it)."""
    make_function(aws, memory=256)
    aws["lambda"].publish_version(FunctionName="orders")
    aws["lambda"].create_alias(FunctionName="orders", Name="live", FunctionVersion="1")
    configured("orders", provisioned={"live": 2})
    workload = trace_function()
    put_history(aws["endpoint"], workload, now(), qualifier="live")
    status, output = run("cost", "orders:live", "--history", "--days", "1")
    assert status == 0, output
    assert "256 MB x86_64, 2 provisioned on live (its fee left out: the same for all)" in output
    assert "SnapStart: not priced" in output
    history = read_history(Clients(region=REGION), parse_refs(["orders:live"])[0], 1, now())
    replayed = Workload("orders:live", history.counts, history.durations, 256)
    beside = totals([(replayed, replay_function(replayed, Assumptions(), provisioned=2))], Assumptions())
    alone = totals([(replayed, replay_function(replayed, Assumptions()))], Assumptions())
    months = (len(history.counts) - Assumptions().scored_from_min) / (730 * 60)
    none = beside["no warming"]
    assert f"{none.cold_starts / months:>12,.0f}{none.cold_rate:>9.2%}" in output
    assert none.cold_starts < alone["no warming"].cold_starts  # two environments are always there
    assert beside["auto"].warmup_invocations <= alone["auto"].warmup_invocations  # only what lies above
