"""Where Lambda runs a function: ``enable`` refuses to schedule pings where they do harm or warm
nothing (Managed Instances, tenant isolation, a durable function by its unqualified name), says
what to do instead, and changes nothing; ``status`` says the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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
        (TENANTS, "an untenanted ping warms nothing"),
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
