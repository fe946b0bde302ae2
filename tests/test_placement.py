"""Where Lambda runs a function: ``enable`` refuses to schedule pings where they do harm or warm
nothing (Managed Instances, tenant isolation, a durable function by its unqualified name), says
what to do instead, and changes nothing; ``status`` says the same."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emulator import LambdaEmulator

from .conftest import layered_spec, write_function
from .control_plane import make_function, run, snapshot, verdicts

PROVIDER = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:fleet"
MANAGED = {
    "CapacityProviderConfig": {
        "LambdaManagedInstancesCapacityProviderConfig": {
            "CapacityProviderArn": PROVIDER,
            "PerExecutionEnvironmentMaxConcurrency": 10,
        }
    }
}
TENANTS = {"TenancyConfig": {"TenantIsolationMode": "PER_TENANT"}}
DURABLE = {"DurableConfig": {"ExecutionTimeout": 900, "RetentionPeriodInDays": 14}}


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        (MANAGED, "MinExecutionEnvironments=N"),
        (TENANTS, "--tenants acme=3,globex=2"),
        (DURABLE, "enable orders:ALIAS (or a version) instead"),
    ],
)
def test_enable_refuses_where_pings_do_not_belong_and_changes_nothing(
    aws: dict[str, Any], configured: Callable[..., None], layer_zip: Path, fields: dict[str, Any], says: str
) -> None:
    make_function(aws)
    configured("orders", **fields)
    before = snapshot(aws)
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    assert (status, says in output) == (5, True), output
    assert snapshot(aws) == before
    status, output = run("status", "orders")
    assert verdicts(output)["where it runs"] == "FAIL", output
    assert says in output


def test_a_durable_function_by_its_alias_is_warmed_and_enable_says_how(
    aws: dict[str, Any], configured: Callable[..., None], layer_zip: Path
) -> None:
    make_function(aws)
    version = aws["lambda"].publish_version(FunctionName="orders")["Version"]
    aws["lambda"].create_alias(FunctionName="orders", Name="live", FunctionVersion=version)
    configured("orders", **DURABLE)
    status, output = run(
        "enable", "orders:live", "--concurrency", "2", "--publish", str(layer_zip), "--dry-run"
    )
    assert status == 0, output
    assert "each ping starts a durable execution that the layer ends at once" in output


def test_status_of_an_on_demand_function_says_pings_warm_it(aws: dict[str, Any], lambda_router: Any) -> None:
    make_function(aws)
    _, output = run("status", "orders")
    assert verdicts(output)["where it runs"] == "OK", output
    assert "on-demand environments: pings warm them" in output


def test_enable_and_status_say_when_n_is_at_or_below_the_provisioned_level(
    aws: dict[str, Any], configured: Callable[..., None], layer_zip: Path
) -> None:
    make_function(aws)
    version = aws["lambda"].publish_version(FunctionName="orders")["Version"]
    aws["lambda"].create_alias(FunctionName="orders", Name="live", FunctionVersion=version)
    configured("orders", provisioned={"live": 5})
    argv = ("enable", "orders:live", "--publish", str(layer_zip), "--dry-run")
    status, output = run(*argv, "--concurrency", "4")
    assert status == 0, output
    assert "5 provisioned on live: pinging 4 only touches environments that are warm anyway" in output
    status, output = run(*argv, "--concurrency", "auto")
    assert "5 provisioned on live: auto counts only what lies above them" in output
    _, output = run("status", "orders:live")
    assert verdicts(output)["provisioned concurrency"] == "WARN", output


def test_status_shows_recursive_invocations_dropped_only_when_there_are_some(
    aws: dict[str, Any], lambda_router: Any
) -> None:
    import boto3

    make_function(aws)
    _, output = run("status", "orders")
    assert "recursive loops" not in output
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "RecursiveInvocationsDropped",
                "Dimensions": [{"Name": "FunctionName", "Value": "orders"}],
                "Value": 3,
            }
        ],
    )
    _, output = run("status", "orders")
    assert verdicts(output)["recursive loops"] == "FAIL", output
    assert "Lambda stopped 3 invocations of a recursive loop" in output


def test_enable_says_snapstart_serves_published_versions_only(
    aws: dict[str, Any], configured: Callable[..., None], layer_zip: Path
) -> None:
    make_function(aws)
    configured("orders", SnapStart={"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"})
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip), "--dry-run")
    assert status == 0, output
    assert "SnapStart serves published versions only" in output
    assert "enable orders:ALIAS instead" in output


def test_enable_schedules_a_tenant_isolated_functions_ping_through_a_tenant(
    aws: dict[str, Any],
    configured: Callable[..., None],
    layer_zip: Path,
    start_emulator: Callable[..., LambdaEmulator],
    invocations_to: Callable[..., None],
    tmp_path: Path,
) -> None:
    """Scheduler's Lambda target names no tenant: the schedule calls Lambda's Invoke through the
    universal target, naming the first tenant, whose environment warms every tenant named; enable's
    first ping does the same (here, in the emulator, where each tenant has environments of its own)."""
    # The function already has its token (enable keeps it), which the emulator's environments see as
    # Lambda's would: only a ping carrying it may name tenants beside the environment's own.
    token = "t" * 32
    make_function(aws, variables={"WARMER_TOKEN": token})
    configured("orders", **TENANTS)
    code = write_function(tmp_path / "code", "def handler(event, context):\n    return 'real work'\n")
    function = layered_spec(code, layer_zip, WARMER_TOKEN=token)
    function.tenant_isolation = True
    emulator = start_emulator(function)
    invocations_to(emulator)
    status, output = run(
        "enable", "orders", "--concurrency", "2", "--tenants", "acme=3,globex=2", "--publish", str(layer_zip)
    )
    assert status == 0, output
    schedule = aws["scheduler"].get_schedule(Name="lambdawarmer.orders", GroupName="lambdawarmer")
    target = schedule["Target"]
    assert target["Arn"] == "arn:aws:scheduler:::aws-sdk:lambda:invoke"
    request = json.loads(target["Input"])
    assert (request["FunctionName"], request["TenantId"]) == (
        "arn:aws:lambda:us-east-1:123456789012:function:orders",
        "acme",
    )
    assert json.loads(request["Payload"])["tenants"] == {"acme": 3, "globex": 2}
    assert token not in output  # in the schedule's payload too, the token is shown hidden
    assert output.count("<hidden, 32 characters>") == 1  # the schedule's payload (the variable is kept)
    assert "5/5 warm" in output, output  # enable's first ping: acme 3 and globex 2
    assert Counter(environment.tenant for environment in emulator.all_environments) == {
        "acme": 3,
        "globex": 2,
    }
    _, output = run("status", "orders")
    checks = verdicts(output)
    assert (checks["schedule"], checks["where it runs"]) == ("OK", "OK"), output
    assert "tenants acme 3, globex 2 (through acme)" in output


def test_tenants_are_refused_for_a_function_that_does_not_isolate_them(
    aws: dict[str, Any], layer_zip: Path, lambda_router: Any
) -> None:
    make_function(aws)
    status, output = run(
        "enable",
        "orders",
        "--concurrency",
        "2",
        "--tenants",
        "acme=3",
        "--publish",
        str(layer_zip),
        "--dry-run",
    )
    assert (status, "it does not isolate tenants" in output) == (5, True), output
    status, output = run("enable", "orders", "--concurrency", "2", "--tenants", "acme=0")
    assert (status, "a whole number from 1 to 1000 each" in output) == (2, True), output
