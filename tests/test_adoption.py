"""``lambdawarmer enable | disable | status | cost`` against moto's server (real boto3 calls over HTTP).

moto implements Lambda configuration, layers, aliases, tags, reserved concurrency, IAM roles and
inline policies, EventBridge Scheduler, EC2 VPC endpoints and CloudWatch. Invoking a function needs
Docker there, so the prewarm ping after ``enable`` goes to the emulator running the function with
the real layer (``control_plane``). moto has no Provisioned Concurrency API: that
check is exercised with a stubbed answer (said where it is).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from emulator import LambdaEmulator
from lambdawarmer_cli.commands.cost import monthly_cost, pings_per_month
from lambdawarmer_cli.names import RECORD_TAG, SCHEDULE_GROUP
from lambdawarmer_cli.record import digest

from .conftest import layered_spec, write_function
from .control_plane import (
    OTHER_LAYERS,
    REGION,
    VARIABLES,
    code_zip,
    make_function,
    make_role,
    run,
    snapshot,
    verdicts,
)

Start = Callable[..., LambdaEmulator]


@pytest.fixture
def warm_orders(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, invocations_to: Callable[..., None]
) -> LambdaEmulator:
    """The function's code and the layer, running in the emulator, where the prewarm ping goes."""
    code = write_function(tmp_path / "code", "def handler(event, context):\n    return 'real work'\n")
    emulator = start_emulator(layered_spec(code, layer_zip))
    invocations_to(emulator)
    return emulator


# -- enable ---------------------------------------------------------------------------------------


def test_enable_keeps_every_layer_and_variable_and_sets_up_the_rest(
    aws: dict[str, Any], warm_orders: LambdaEmulator, layer_zip: Path
) -> None:
    role = make_function(aws)["Role"]
    status, output = run("enable", "orders", "--concurrency", "3", "--publish", str(layer_zip), "--metrics")
    assert status == 0, output
    after = snapshot(aws)
    (ours,) = [arn for arn in after["layers"] if ":layer:lambdawarmer:" in arn]
    assert after["layers"] == [*OTHER_LAYERS, ours]
    variables = after["variables"]
    assert {k: variables[k] for k in VARIABLES} == VARIABLES
    assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/lambdawarmer-wrapper"
    assert variables["WARMER_SEND_METRIC"] == "true"
    assert len(variables["WARMER_TOKEN"]) >= 16
    assert variables["WARMER_TOKEN"] not in output
    recorded = dict(entry.split("=") for entry in after["tags"][RECORD_TAG].split())
    assert list(recorded) == ["AWS_LAMBDA_EXEC_WRAPPER", "WARMER_SEND_METRIC", "WARMER_TOKEN"]
    assert recorded["WARMER_TOKEN"] == digest("WARMER_TOKEN", variables["WARMER_TOKEN"])  # never the value
    assert after["tags"]["team"] == "shop"
    # The self-invoke grant: a statement in the function's own policy naming its role; the role untouched.
    (statement,) = json.loads(aws["lambda"].get_policy(FunctionName="orders")["Policy"])["Statement"]
    function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:orders"
    assert (statement["Sid"], statement["Action"], statement["Principal"] in (role, {"AWS": role})) == (
        "lambdawarmer-self-invoke",
        "lambda:InvokeFunction",
        True,
    )
    assert after["role policies"] == []
    schedule = aws["scheduler"].get_schedule(Name="lambdawarmer.orders", GroupName=SCHEDULE_GROUP)
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["ScheduleExpression"] == "rate(5 minutes)"
    assert schedule["Target"]["Arn"] == function_arn
    event = json.loads(schedule["Target"]["Input"])
    assert event == {"warmer": True, "concurrency": 3, "token": variables["WARMER_TOKEN"]}
    scheduler_role = schedule["Target"]["RoleArn"].rsplit("/", 1)[-1]
    permission = aws["iam"].get_role_policy(RoleName=scheduler_role, PolicyName="invoke-target")[
        "PolicyDocument"
    ]
    assert permission["Statement"][0]["Resource"] == function_arn
    assert "orders  3/3 warm" in output  # the prewarm ping, through the emulator
    assert "orders: applied layers, variables, tag lambdawarmer:added" in output


def test_enable_chains_an_exec_wrapper_already_there(
    aws: dict[str, Any], warm_orders: LambdaEmulator, layer_zip: Path
) -> None:
    make_function(aws, variables={"AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument"})
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip), "--no-token")
    assert status == 0, output
    variables = snapshot(aws)["variables"]
    assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/lambdawarmer-wrapper"
    assert variables["WARMER_EXEC_WRAPPER"] == "/opt/otel-instrument"
    assert "WARMER_TOKEN" not in variables
    assert "~ AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-instrument -> /opt/lambdawarmer-wrapper" in output


def test_enable_twice_changes_nothing_the_second_time(
    aws: dict[str, Any], warm_orders: LambdaEmulator, layer_zip: Path
) -> None:
    make_function(aws)
    assert run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))[0] == 0
    first = snapshot(aws)
    versions = aws["lambda"].list_layer_versions(LayerName="lambdawarmer")["LayerVersions"]
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    assert status == 0, output
    assert "orders: nothing to change" in output
    assert snapshot(aws) == first
    assert aws["lambda"].list_layer_versions(LayerName="lambdawarmer")["LayerVersions"] == versions


def test_enable_by_tag_enables_every_function_carrying_it(aws: dict[str, Any], layer_zip: Path) -> None:
    for name in ("orders", "payments", "invoices"):
        make_function(aws, name)
    make_function(aws, "internal", tags={"team": "ops"})
    status, output = run(
        "enable", "--tag", "team=shop", "--concurrency", "1", "--publish", str(layer_zip), "--dry-run"
    )
    assert status == 0, output
    assert [line for line in output.splitlines() if line.endswith(":") and not line.startswith(" ")] == [
        "invoices:",
        "orders:",
        "payments:",
    ]
    assert "internal" not in output


def test_a_dry_run_shows_the_plan_and_changes_nothing(aws: dict[str, Any], layer_zip: Path) -> None:
    make_function(aws)
    aws["lambda"].publish_layer_version(LayerName="lambdawarmer", Content={"ZipFile": layer_zip.read_bytes()})
    before = snapshot(aws)
    layer = f"arn:aws:lambda:{REGION}:123456789012:layer:lambdawarmer:1"
    sha256 = hashlib.sha256(layer_zip.read_bytes()).hexdigest()
    argv = ("enable", "orders", "--concurrency", "4", "--layer-arn", layer, "--layer-sha256", sha256)
    status, output = run(*argv, "--dry-run")
    assert status == 0, output
    assert snapshot(aws) == before
    assert "dry run: nothing was changed" in output
    assert "+ AWS_LAMBDA_EXEC_WRAPPER=/opt/lambdawarmer-wrapper" in output
    assert "+ WARMER_TOKEN=<hidden, 32 characters>" in output
    assert "(10 other(s) kept as they are)" in output
    assert f"+ arn:aws:lambda:{REGION}:123456789012:layer:lambdawarmer:1" in output


def test_past_five_layers_enable_refuses(aws: dict[str, Any], layer_zip: Path) -> None:
    extra = [
        f"arn:aws:lambda:{REGION}:123456789012:layer:tools-4:1",
        f"arn:aws:lambda:{REGION}:123456789012:layer:tools-5:1",
    ]
    for arn in extra:
        aws["lambda"].publish_layer_version(LayerName=arn.split(":")[6], Content={"ZipFile": code_zip()})
    make_function(aws, layers=OTHER_LAYERS + extra)
    before = snapshot(aws)
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    assert status == 5
    assert "over Lambda's limit of 5" in output
    assert snapshot(aws) == before


def test_a_failure_halfway_says_what_was_applied_and_a_rerun_finishes(
    aws: dict[str, Any], warm_orders: LambdaEmulator, layer_zip: Path, lambda_router: Any
) -> None:
    make_function(aws)
    lambda_router.denied_requests.add(("POST", "/2015-03-31/functions/"))  # AddPermission denied
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    assert status == 5
    assert "FAILED at policy of orders: statement lambdawarmer-self-invoke: AccessDeniedException" in output
    assert (
        "applied before it: layers, variables, tag lambdawarmer:added; not done, as it was: policy" in output
    )
    lambda_router.denied_requests.clear()
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    assert status == 0, output
    assert "layers:" not in output  # done the first time
    assert "policy of orders: statement lambdawarmer-self-invoke" in output


# -- disable --------------------------------------------------------------------------------------


@pytest.mark.parametrize("wrapper", [None, "/opt/otel-instrument"])
def test_disable_restores_the_exact_original_configuration(
    aws: dict[str, Any], warm_orders: LambdaEmulator, layer_zip: Path, wrapper: str | None
) -> None:
    make_function(aws, variables={"AWS_LAMBDA_EXEC_WRAPPER": wrapper} if wrapper else {})
    original = snapshot(aws)
    assert (
        run(
            "enable",
            "orders",
            "--concurrency",
            "2",
            "--publish",
            str(layer_zip),
            "--metrics-mode",
            "put_metric_data",
        )[0]
        == 0
    )
    assert snapshot(aws) != original
    status, output = run("disable", "orders")
    assert status == 0, output
    restored = snapshot(aws)
    for field in original:
        assert restored[field] == original[field], field
    assert run("disable", "orders")[1].strip() == "orders: nothing to change"


def test_disable_stops_the_pings_first_and_removes_nothing_else_when_that_is_denied(
    aws: dict[str, Any],
    warm_orders: LambdaEmulator,
    layer_zip: Path,
    lambda_router: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Scheduler refuses DeleteSchedule (as IAM does without scheduler:DeleteSchedule): the function
    keeps the layer, so the pings that go on meet lambdawarmer, never the handler; the message says
    what is left and how to finish, and a run once it is allowed finishes."""
    make_function(aws)
    original = snapshot(aws)
    assert run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))[0] == 0
    enabled = snapshot(aws)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SCHEDULER", f"http://127.0.0.1:{lambda_router.server_address[1]}")
    lambda_router.denied_requests.add(("DELETE", "/schedules/"))
    status, output = run("disable", "orders")
    assert status == 5, output
    assert snapshot(aws) == enabled  # nothing removed: the schedule, the layer, the variables, the grant
    assert "FAILED at schedule lambdawarmer/lambdawarmer.orders: AccessDeniedException" in output
    assert "applied before it: nothing; not done, as it was: schedule lambdawarmer/lambdawarmer.orders" in (
        output
    )
    assert "The schedule still pings" in output
    assert "answered by lambdawarmer, not by your handler" in output
    assert "aws scheduler delete-schedule --group-name lambdawarmer --name lambdawarmer.orders" in output
    assert "Nothing you had was removed" not in output
    lambda_router.denied_requests.clear()
    status, output = run("disable", "orders")
    assert status == 0, output
    assert snapshot(aws) == original


# -- status ---------------------------------------------------------------------------------------


def test_status_of_a_healthy_function_is_all_ok(
    aws: dict[str, Any], warm_orders: LambdaEmulator, layer_zip: Path
) -> None:
    make_function(aws)
    run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    status, output = run("status", "orders")
    assert status == 0, output
    assert set(verdicts(output).values()) == {"OK"}, output
    status, output = run("status", "orders", "--json")
    checks = json.loads(output)["orders"]
    assert {c["check"] for c in checks} >= {
        "layer",
        "wrapper",
        "settings",
        "self-invoke",
        "schedule",
        "timeout",
    }


def test_status_warns_of_a_token_a_deploy_took_away(
    aws: dict[str, Any], warm_orders: LambdaEmulator, layer_zip: Path
) -> None:
    """A deploy that resets the variables leaves the schedule sending its token to a function that no
    longer asks for one: still warmed, but anyone's invoke is a ping, and no tree round is sent."""
    make_function(aws)
    run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    variables = snapshot(aws)["variables"]
    token = variables.pop("WARMER_TOKEN")
    aws["lambda"].update_function_configuration(FunctionName="orders", Environment={"Variables": variables})
    status, output = run("status", "orders")
    assert status == 0, output  # a WARN: still warmed
    assert verdicts(output)["schedule"] == "WARN", output
    assert "its ping carries a token and the function has no WARMER_TOKEN" in output
    assert token not in output
    variables["WARMER_TOKEN"] = ""  # set but invalid: the settings row FAILs, and says so
    aws["lambda"].update_function_configuration(FunctionName="orders", Environment={"Variables": variables})
    assert verdicts(run("status", "orders")[1])["schedule"] != "WARN"


def test_status_of_a_broken_function_says_what_to_do(aws: dict[str, Any]) -> None:
    vpc = aws["ec2"].create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = aws["ec2"].create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    make_function(
        aws,
        variables={"AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument", "WARMER_DELAY": "soon"},
        timeout=1,
        VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": []},
    )
    aws["lambda"].put_function_concurrency(FunctionName="orders", ReservedConcurrentExecutions=0)
    status, output = run("status", "orders")
    assert status == 6
    found = verdicts(output)
    for check in (
        "layer",
        "wrapper",
        "settings",
        "self-invoke",
        "schedule",
        "reserved concurrency",
        "network",
    ):
        assert found[check] == "FAIL", (check, output)
    assert "set it to /opt/lambdawarmer-wrapper and WARMER_EXEC_WRAPPER=/opt/otel-instrument" in output
    assert "no NAT gateway and no com.amazonaws.us-east-1.lambda interface endpoint" in output
    aws["ec2"].create_vpc_endpoint(
        VpcId=vpc, ServiceName="com.amazonaws.us-east-1.lambda", VpcEndpointType="Interface"
    )
    assert verdicts(run("status", "orders")[1])["network"] == "OK"


def test_status_finds_schedule_problems_reserved_concurrency_and_a_short_timeout(
    aws: dict[str, Any], warm_orders: LambdaEmulator, layer_zip: Path
) -> None:
    make_function(aws, timeout=2)  # a round of 5 at 512 MB fits 2 s; with a 2 s delay it does not
    run("enable", "orders", "--concurrency", "5", "--publish", str(layer_zip))
    aws["lambda"].put_function_concurrency(FunctionName="orders", ReservedConcurrentExecutions=3)
    variables = snapshot(aws)["variables"]
    aws["lambda"].update_function_configuration(
        FunctionName="orders",
        Environment={"Variables": {**variables, "WARMER_TOKEN": "x" * 20, "WARMER_DELAY": "2000"}},
    )
    status, output = run("status", "orders")
    assert status == 6
    found = verdicts(output)
    assert (found["schedule"], found["reserved concurrency"], found["timeout"]) == ("FAIL", "FAIL", "FAIL")
    assert "its input is a warm-up ping without the right 'token' field: it would go to the handler" in output
    assert "3, below the 5 pinged: 2 invokes per ping will be throttled" in output


def test_status_warns_of_provisioned_concurrency_and_snapstart(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto has no Provisioned Concurrency API: its answer is stubbed here, the rest is moto's."""
    from lambdawarmer.function_ref import FunctionRef
    from lambdawarmer_cli.clients import Clients
    from lambdawarmer_cli.commands import status as status_module
    from lambdawarmer_cli.deployed import Deployed, read_function

    make_function(aws)
    version = aws["lambda"].publish_version(FunctionName="orders")["Version"]
    aws["lambda"].create_alias(FunctionName="orders", Name="live", FunctionVersion=version)
    clients = Clients(region=REGION)
    deployed = read_function(clients, FunctionRef("orders", "live"))
    monkeypatch.setattr(
        clients.lambda_,
        "get_provisioned_concurrency_config",
        lambda **_: {"AllocatedProvisionedConcurrentExecutions": 10, "Status": "READY"},
    )
    check = status_module.check_provisioned(clients, deployed, 5)
    assert check.verdict == "WARN"
    assert "pinging 5 only touches environments that are warm anyway" in check.detail
    snapstart = {**deployed.configuration, "SnapStart": {"ApplyOn": "PublishedVersions"}}
    check = status_module.check_snapstart(Deployed(snapstart, "live", {}))  # a pure reading of the config
    assert check.verdict == "WARN"
    assert "each restore is a new instance" in check.detail


# -- cost -----------------------------------------------------------------------------------------


def test_cost_figures_checked_by_hand() -> None:
    assert pings_per_month("rate(5 minutes)") == 730 * 60 / 5  # 8,760
    cost = monthly_cost(1024, 10, "rate(5 minutes)", "x86_64")
    # share 1024/1769 = 0.5789; send spread: 0.4 ms / 0.5789 per invoke x 8 + 100 ms x (1 - 0.5789)
    #   + 9 TLS handshakes x 2.0 ms / 0.5789 (each ping opens its connections) = 5.53 + 42.11 + 31.09
    #   = 78.74 ms; hold: 75 ms + 79 ms = 154 ms (whole milliseconds, as the layer asks:
    #   lambdawarmer_model.rounds.scheduled_round over the layer's own time budget)
    assert cost["hold_ms"] == 154
    # per ping: 9 instances x (154 + 1 / 0.5789) and the originator, which sends over the spread
    # (78.74 ms), then waits out the last instance's hold and the answers: 78.74 + 154 + 100
    #   = 9 x 155.73 + 332.74 = 1,734.29 ms -> 1,735 ms billed (ceil)
    per_ping_s = 1735 / 1000
    # inits: pinged every 5 minutes, kept; replaced every 2 hours: 10 x 730 / 2 = 3,650 inits of 250 ms
    assert cost["inits_per_month"] == pytest.approx(3650)
    init_gb_s = 3650 * 0.25 * 1.0
    assert cost["gb_seconds_per_month"] == pytest.approx(8760 * per_ping_s * 1.0 + init_gb_s)
    expected = 8760 * 10 * 0.20 / 1e6 + (8760 * per_ping_s + init_gb_s) * 0.0000166667
    assert cost["warming_usd"] == pytest.approx(expected)  # about $0.21
    # pinged every 30 minutes: reclaimed between pings, every ping starts all 10 again
    sparse = monthly_cost(1024, 10, "rate(30 minutes)", "x86_64", init_ms=400)
    assert sparse["inits_per_month"] == pytest.approx(1460 * 10)
    assert sparse["init_gb_seconds_per_month"] == pytest.approx(1460 * 10 * 0.4)
    small = monthly_cost(128, 10, "rate(5 minutes)", "x86_64")
    # 128 MB: 7.2% of a vCPU: 75 + round(0.4 / 0.07236 x 8 + 100 x 0.92764 + 9 x 2.0 / 0.07236)
    #   = 75 + round(44.2 + 92.8 + 248.8) = 461 ms: at 128 MB the handshakes are most of the spread
    assert small["hold_ms"] == 461
    assert cost["provisioned_usd"] == pytest.approx(10 * 1.0 * 730 * 3600 * 0.0000041667)  # about $109.50
    arm = monthly_cost(1024, 10, "rate(5 minutes)", "arm64")
    assert arm["provisioned_usd"] < cost["provisioned_usd"]
    # N = 1: nothing is sent; the originator answers at once (1 ms of CPU at a whole vCPU's share)
    alone = monthly_cost(1024, 1, "rate(5 minutes)", "x86_64")
    assert alone["gb_seconds_per_month"] == pytest.approx(8760 * 0.002 + 365 * 0.25)


def test_cost_prices_the_tree_round_a_ping_sends_when_flat_cannot_fit_the_timeout() -> None:
    """128 MB, N = 40: flat needs a ~3.6 s timeout; at 3 s the layer sends a tree, priced as such."""
    flat = monthly_cost(128, 40, "rate(5 minutes)", "x86_64")
    tree = monthly_cost(128, 40, "rate(5 minutes)", "x86_64", timeout_ms=3000)
    assert (flat["tree_fan"], tree["tree_depth"]) == (0, 2)
    assert flat["flat_timeout_needed_ms"] > 3000
    assert tree["ping_gb_seconds"] < tree["flat_ping_gb_seconds"] == flat["ping_gb_seconds"]
    assert tree["gb_seconds_per_month"] < flat["gb_seconds_per_month"]
    # flat when flat fits: the same price whatever the timeout
    assert monthly_cost(128, 20, timeout_ms=3000) == monthly_cost(128, 20)
    status, output = run("cost", "--memory", "128", "--concurrency", "40")
    assert status == 0, output
    assert "each ping: a tree round (fan 6, depth 2)" in output
    assert (
        "each ping: a flat round"
        in run("cost", "--memory", "128", "--concurrency", "40", "--timeout", "5")[1]
    )


def test_cost_command_reads_memory_and_architecture_from_the_function(aws: dict[str, Any]) -> None:
    make_function(aws, memory=2048, Architectures=["arm64"])
    status, output = run("cost", "orders", "--concurrency", "4")
    assert status == 0, output
    assert "4 environments of 2048 MB (arm64)" in output
    assert "Provisioned Concurrency: $" in output
    assert "https://aws.amazon.com/lambda/pricing/" in output
    assert "2048 MB gets 100.0% of a vCPU" in output
    assert "init: 250 ms per environment a ping starts (--init-ms)" in output
    assert "reclaimed after 10 minutes" in output
    status, output = run("cost", "--memory", "128", "--concurrency", "2", "--schedule", "cron(0 * * * ? *)")
    assert status == 2
    assert "cannot price the schedule" in output


def test_cost_of_a_function_prices_its_own_delay(aws: dict[str, Any]) -> None:
    """The hold is the function's WARMER_DELAY, not the default's (a 2 s delay bills 2 s a hold)."""
    make_function(aws, "slow", memory=1024, variables={"WARMER_DELAY": "2000"})
    make_function(aws, "quick", memory=1024)
    slow, quick = run("cost", "slow", "--concurrency", "4")[1], run("cost", "quick", "--concurrency", "4")[1]
    assert "each holding its WARMER_DELAY (2000 ms)" in slow
    assert "each holding its WARMER_DELAY (75 ms)" in quick
    held = [
        float(re.search(r"each instance holds ~([\d,]+) ms", text).group(1).replace(",", ""))
        for text in (slow, quick)
    ]
    assert held[0] - held[1] == pytest.approx(2000 - 75, abs=1)


def test_at_a_terminal_enable_asks_first(
    aws: dict[str, Any], layer_zip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_function(aws)
    before = snapshot(aws)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    assert status == 0
    assert "apply these changes to orders? [y/N]" in output
    assert "orders: skipped, nothing changed" in output
    assert snapshot(aws) == before


# -- a function with its own field names (lambda-warmer-py's documented example) ---------------------

OWN_FIELDS = {"WARMER_FLAG": "am_i_a_warmer", "WARMER_CONCURRENCY": "how_many_lambdas"}
"""lambda-warmer-py's README example: the function's pings carry these fields, not warmer/concurrency."""
OWN_TOKEN = {"WARMER_TOKEN": "a-token-of-the-functions-own-24"}


@pytest.mark.parametrize(
    "settings", [OWN_FIELDS, {**OWN_FIELDS, **OWN_TOKEN}], ids=["fields", "fields+token"]
)
def test_enable_schedules_the_ping_a_function_with_its_own_field_names_answers(
    aws: dict[str, Any],
    start_emulator: Start,
    tmp_path: Path,
    layer_zip: Path,
    invocations_to: Callable[..., None],
    settings: dict[str, str],
) -> None:
    """The function runs in the emulator with the same settings moto holds; the first ping (enable's)
    and the schedule's own input both warm 3 of 3 there, and status checks the schedule OK."""
    code = write_function(tmp_path / "code", "def handler(event, context):\n    return 'real work'\n")
    emulator = start_emulator(layered_spec(code, layer_zip, **settings))
    invocations_to(emulator)
    make_function(aws, variables=settings)
    extra = [] if "WARMER_TOKEN" in settings else ["--no-token"]
    status, output = run("enable", "orders", "--concurrency", "3", "--publish", str(layer_zip), *extra)
    assert status == 0, output
    assert "orders  3/3 warm" in output  # enable's first ping, as the schedule sends it
    schedule = aws["scheduler"].get_schedule(Name="lambdawarmer.orders", GroupName=SCHEDULE_GROUP)
    event = json.loads(schedule["Target"]["Input"])
    wanted = {"am_i_a_warmer": True, "how_many_lambdas": 3}
    assert event == ({**wanted, "token": settings["WARMER_TOKEN"]} if "WARMER_TOKEN" in settings else wanted)
    handled_before = sum("real work" in i.payload.decode() for i in emulator.invocations)
    answer = emulator.invoke(event)  # what EventBridge Scheduler sends every five minutes
    report = json.loads(answer.payload)
    assert (report["warmed"], report["instances_warmed"], report["invocations_failed"]) == (True, 3, 0)
    assert sum("real work" in i.payload.decode() for i in emulator.invocations) == handled_before == 0
    status, output = run("status", "orders")
    assert verdicts(output)["schedule"] == "OK", output
    assert status == 0, output


def test_status_fails_a_schedule_the_function_would_not_take_for_a_ping(
    aws: dict[str, Any], warm_orders: LambdaEmulator, layer_zip: Path
) -> None:
    """The bug's symptom, read from outside: the default ping sent to a function with its own fields."""
    make_function(aws)
    assert run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip), "--no-token")[0] == 0
    variables = snapshot(aws)["variables"]
    aws["lambda"].update_function_configuration(
        FunctionName="orders", Environment={"Variables": {**variables, **OWN_FIELDS}}
    )
    status, output = run("status", "orders")
    assert status == 6
    assert verdicts(output)["schedule"] == "FAIL"
    assert (
        'its input is not a warm-up ping of this function (expected {"am_i_a_warmer": true, ...})' in output
    )


# -- every error has its documented exit status ---------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected", "says"),
    [
        (("status", "--tag", "team"), 2, "--tag 'team': expected KEY=VALUE"),
        (("disable", "--tag", "=shop"), 2, "expected KEY=VALUE"),
        (("status", "a:b:c:d:e"), 2, "is not a function reference"),
        (("status",), 2, "name a function"),
        (("enable", "orders", "--concurrency", "2"), 2, "it has no lambdawarmer layer: name the one"),
        (("enable", "orders", "--concurrency", "0"), 2, "expected a whole number from 1 to 1000"),
        (
            ("enable", "orders", "--concurrency", "2", "--publish", "/no/such.zip"),
            2,
            "--publish /no/such.zip",
        ),
        (("cost", "--concurrency", "2"), 2, "give --memory MB"),
        (("cost", "--memory", "64", "--concurrency", "2"), 2, "Lambda allows 128 to 10240 MB"),
        (("cost", "missing", "--concurrency", "2"), 3, "ResourceNotFoundException"),
        (("disable", "missing"), 3, "missing: cannot read it: not found: no function missing in us-east-1"),
        (
            ("status", "missing"),
            3,
            "FAIL  function  cannot read it: not found: no function missing in us-east-1",
        ),
    ],
)
def test_each_error_exits_with_its_documented_status(
    aws: dict[str, Any], argv: tuple[str, ...], expected: int, says: str
) -> None:
    make_function(aws)
    status, output = run(*argv)
    assert (status, says in output) == (expected, True), output


def test_an_internal_error_is_not_taken_for_fewer_warm(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python's own status for an uncaught exception is 1, which ``ping`` documents as "fewer warm"."""
    from lambdawarmer_cli.commands import status as status_command

    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    make_function(aws)
    monkeypatch.setattr(status_command, "run_checks", broken)
    status, output = run("status", "orders")
    assert status == 70
    assert "internal error (a bug: please report it)" in output
    assert "RuntimeError: a bug" in output


def test_status_names_the_observability_libraries_it_can_see(
    aws: dict[str, Any], warm_orders: LambdaEmulator, layer_zip: Path
) -> None:
    published = aws["lambda"].publish_layer_version(
        LayerName="Datadog-Python312", Content={"ZipFile": code_zip()}
    )
    make_function(
        aws,
        layers=[*OTHER_LAYERS[:2], published["LayerVersionArn"]],
        variables={"POWERTOOLS_SERVICE_NAME": "orders", "DD_API_KEY": "x"},
    )
    assert run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))[0] == 0
    status, output = run("status", "orders")
    assert status == 0, output
    (line,) = [line for line in output.splitlines() if "observability" in line]
    assert "OK" in line
    assert "Powertools (variable POWERTOOLS_SERVICE_NAME)" in line
    assert "Datadog (layer Datadog-Python312)" in line
    variables = snapshot(aws)["variables"]
    aws["lambda"].update_function_configuration(
        FunctionName="orders",
        Environment={"Variables": {**variables, "WARMER_FIX_COLD_START_FLAGS": "false"}},
    )
    status, output = run("status", "orders")
    assert verdicts(output)["observability"] == "WARN"
    assert "report the first request of each pinged environment as a cold start" in output


# -- ping --like: warm a new version before the alias moves (a pipeline step) ----------------------


def test_ping_like_warms_a_version_to_what_the_alias_needs(
    aws: dict[str, Any],
    start_emulator: Start,
    tmp_path: Path,
    layer_zip: Path,
    invocations_to: Callable[..., None],
) -> None:
    """moto holds the function, its versions and alias live, and live's ConcurrentExecutions (a peak of
    6); the emulator runs versions 1 and 2. ``ping orders --qualifier 2 --like live`` warms 6 of 6."""
    from emulator import FunctionSpec

    from .conftest import OVERLAPPING_HANDLER, put_concurrent_executions

    settings = {"WARMER_AUTO_HEADROOM": "0", "AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper"}
    code = write_function(tmp_path / "code", OVERLAPPING_HANDLER)
    spec = FunctionSpec(
        name="orders",
        code=code,
        handler="app.handler",
        layers=[layer_zip],
        environment=settings,
        timeout_s=10,
        versions=["1", "2"],
        aliases={"live": "1"},
    )
    emulator = start_emulator(spec)
    invocations_to(emulator)
    make_function(aws, variables=settings)
    for version in ("1", "2"):  # Lambda publishes a version only when something changed
        aws["lambda"].update_function_configuration(FunctionName="orders", Description=f"release {version}")
        aws["lambda"].publish_version(FunctionName="orders")
    aws["lambda"].create_alias(FunctionName="orders", Name="live", FunctionVersion="1")
    put_concurrent_executions(
        boto3.client("cloudwatch", region_name=REGION), "orders", {3: 6.0}, alias="live"
    )
    status, output = run("ping", "orders", "--qualifier", "2", "--like", "live", "--concurrency", "2")
    assert status == 0, output
    assert "needed: 6, from live's peak of 6.0 concurrent executions" in output
    assert "instances warm   6 of 6" in output
    assert sum(environment.version == "2" for environment in emulator.all_environments) == 6
    status, output = run("ping", "orders", "--qualifier", "2", "--like", "canary")
    assert (status, "--like canary: orders has no such alias" in output) == (2, True), output
    status, output = run("ping", "orders", "--like", "live")
    assert (status, "name one function and its --qualifier" in output) == (2, True), output
    status, output = run("ping", "orders", "--qualifier", "9", "--like", "live")
    assert status == 3, output  # no version 9: not found, as ping says


def test_enable_and_status_know_whether_an_aliass_deploys_are_pre_warmed(
    aws: dict[str, Any],
    start_emulator: Start,
    tmp_path: Path,
    layer_zip: Path,
    invocations_to: Callable[..., None],
) -> None:
    from emulator import FunctionSpec

    code = write_function(tmp_path / "code", "def handler(event, context):\n    return 'real work'\n")
    spec = layered_spec(code, layer_zip)
    emulator = start_emulator(FunctionSpec(**{**spec.__dict__, "versions": ["1"], "aliases": {"live": "1"}}))
    invocations_to(emulator)
    make_function(aws)
    assert run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))[0] == 0
    aws["lambda"].publish_version(FunctionName="orders")  # version 1 has the layer
    aws["lambda"].create_alias(FunctionName="orders", Name="live", FunctionVersion="1")
    status, output = run("enable", "orders:live", "--concurrency", "2")
    assert status == 0, output
    assert "note: deploys of orders:live move traffic to a version with no environment" in output
    assert "lambdawarmer ping orders --qualifier NEW_VERSION --like live" in output
    status, output = run("status", "orders:live")
    assert verdicts(output)["deploys"] == "WARN", output
    aws["lambda"].create_function(
        FunctionName="CodeDeployHook_shop-prewarm",
        Runtime="python3.13",
        Role=make_role(aws),
        Handler="_lambdawarmer_layer.deploy_hook.handler",
        Code={"ZipFile": code_zip()},
        Environment={
            "Variables": {
                "WARMER_HOOK_TARGET": f"arn:aws:lambda:{REGION}:123456789012:function:orders:1",
                "WARMER_HOOK_ALIAS": "live",
            }
        },
    )
    status, output = run("status", "orders:live")
    (line,) = [line for line in output.splitlines() if " deploys " in line]
    assert "OK" in line
    assert "warmed before live moves, by CodeDeployHook_shop-prewarm" in line
    assert "deploys" not in verdicts(run("status", "orders")[1])  # no alias: nothing to say
