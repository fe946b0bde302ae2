"""``enable``, ``disable`` and ``status`` on the accounts users really have, written as the user sees it.

Against moto's server (Lambda's control plane, IAM, Scheduler), with each function's pings going to
an emulator running it: functions sharing one execution role, an alias serving a version without
the layer, the same names in two regions, what a user changed after ``enable``, a pipeline changing
the function while ``enable`` waits at its prompt, another account's ARN, and every documented exit
status. moto does not implement Lambda's ``RevisionId`` check: :func:`lambda_revisions` gives its
functions the documented behaviour (a new RevisionId on every update; an update naming another
fails with ``PreconditionFailedException``).
"""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from emulator import FunctionSpec, LambdaEmulator
from lambdawarmer.function_ref import FunctionRef, parse_function_ref
from lambdawarmer.layer_paths import WRAPPER_PATH
from lambdawarmer.timing import DEADLINE_MARGIN_MS
from lambdawarmer_cli.clients import Clients
from lambdawarmer_cli.exit_status import NOT_ALL_WARM, OK
from lambdawarmer_cli.iam import allows, role_statements
from lambdawarmer_cli.names import (
    RECORD_TAG,
    SCHEDULE_GROUP,
    schedule_name,
    scheduler_role_name,
    self_invoke_policy_name,
)
from lambdawarmer_cli.record import digest
from lambdawarmer_model.rounds import scheduled_round

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
ACCOUNT = "123456789012"
PLAIN = "def handler(event, context):\n    return 'real work'\n"
ECHO = "def handler(event, context):\n    return {'handled': event}\n"


@pytest.fixture
def lambda_revisions(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's functions with Lambda's documented RevisionId: a new one on every configuration update,
    and an update that names another refused with 412 PreconditionFailedException."""
    import uuid

    from moto.awslambda.exceptions import PreconditionFailedException
    from moto.awslambda.models import LambdaFunction

    original_update, original_get = LambdaFunction.update_configuration, LambdaFunction.get_configuration

    def revision(function: Any) -> str:
        if not hasattr(function, "_test_revision"):
            function._test_revision = str(uuid.uuid4())
        return str(function._test_revision)

    def update(function: Any, body: dict[str, Any]) -> dict[str, Any]:
        asked = body.pop("RevisionId", None)
        if asked is not None and asked != revision(function):
            raise PreconditionFailedException(
                "The Revision Id provided does not match the latest Revision Id."
            )
        function._test_revision = str(uuid.uuid4())
        return original_update(function, body)

    def get(function: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**original_get(function, *args, **kwargs), "RevisionId": revision(function)}

    monkeypatch.setattr(LambdaFunction, "update_configuration", update)
    monkeypatch.setattr(LambdaFunction, "get_configuration", get)


@pytest.fixture
def layered(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, invocations_to: Callable[..., None]
) -> Callable[..., LambdaEmulator]:
    """Run a function with the layer in an emulator that its pings reach."""

    def start(name: str, region: str = REGION, source: str = PLAIN, **spec: Any) -> LambdaEmulator:
        code = write_function(tmp_path / f"{region}-{name}", source)
        base = layered_spec(code, layer_zip)
        emulator = start_emulator(FunctionSpec(**{**base.__dict__, "name": name, "region": region, **spec}))
        invocations_to(emulator)
        return emulator

    return start


def policy_names(aws: dict[str, Any], role: str = "orders-role") -> list[str]:
    return sorted(aws["iam"].list_role_policies(RoleName=role)["PolicyNames"])


def may_invoke_itself(name: str, region: str = REGION) -> bool:
    """Whether ``name`` may invoke itself with the shared role, as the fan-out does: its own policy
    names the role (read from Lambda), or the role's policies allow it (read from IAM)."""
    clients = Clients(region=region)
    arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
    role = f"arn:aws:iam::{ACCOUNT}:role/orders-role"
    try:
        policy = json.loads(clients.lambda_.get_policy(FunctionName=name)["Policy"])["Statement"]
    except clients.lambda_.exceptions.ResourceNotFoundException:
        policy = []
    named = [
        s.get("Principal")
        for s in policy
        if s["Effect"] == "Allow" and s["Action"] == "lambda:InvokeFunction"
    ]
    if role in named or {"AWS": role} in named:
        return True
    statements = role_statements(clients, "orders-role")
    return any(allows(statement, "lambda:InvokeFunction", f"{arn}:$LATEST") for statement in statements)


def variables(aws: dict[str, Any], name: str = "orders") -> dict[str, str]:
    return dict(snapshot(aws, name)["variables"])


def set_variables(aws: dict[str, Any], changed: dict[str, str | None], name: str = "orders") -> None:
    """A user's change: some variables set (None: removed), the rest kept."""
    now = {**variables(aws, name), **changed}
    aws["lambda"].update_function_configuration(
        FunctionName=name, Environment={"Variables": {k: v for k, v in now.items() if v is not None}}
    )


# -- 1. functions on one execution role -----------------------------------------------------------


def test_two_functions_on_one_role_both_stay_ok_enabled_and_after_disabling_one(
    aws: dict[str, Any], layered: Callable[..., LambdaEmulator], layer_zip: Path
) -> None:
    for name in ("orders", "payments"):
        make_function(aws, name)  # one role, orders-role, as the Serverless Framework makes it
        layered(name)
    status, output = run("enable", "orders", "payments", "--concurrency", "3", "--publish", str(layer_zip))
    assert status == 0, output
    assert "orders  3/3 warm" in output
    assert "payments  3/3 warm" in output
    assert policy_names(aws) == []  # the grants are in each function's own policy: the role is untouched
    assert (may_invoke_itself("orders"), may_invoke_itself("payments")) == (True, True)
    for name in ("orders", "payments"):
        status, output = run("status", name)
        assert (status, set(verdicts(output).values())) == (0, {"OK"}), output
    status, output = run("enable", "orders", "payments", "--concurrency", "3", "--publish", str(layer_zip))
    assert output.count("nothing to change") == 2, output
    before = snapshot(aws, "orders")
    status, output = run("disable", "payments")
    assert status == 0, output
    assert policy_names(aws) == []
    assert (may_invoke_itself("orders"), may_invoke_itself("payments")) == (True, False)
    after = snapshot(aws, "orders")
    assert [after[k] for k in ("layers", "variables", "tags")] == [
        before[k] for k in ("layers", "variables", "tags")
    ]
    status, output = run("status", "orders")
    assert (status, set(verdicts(output).values())) == (0, {"OK"}), output


def test_a_grant_an_older_version_made_is_recognised_replaced_and_removed(
    aws: dict[str, Any], layered: Callable[..., LambdaEmulator], layer_zip: Path
) -> None:
    """1.6 granted the self-invoke in an inline policy of the target's own on the execution role:
    status still reads it; enable moves the grant to the function's policy and removes that policy
    (it held nothing else); disable takes back the rest."""
    from lambdawarmer_cli.iam import self_invoke_policy

    make_function(aws)
    layered("orders")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders"
    older = self_invoke_policy(arn, metrics_namespace=None, auto=False)
    name = "lambdawarmer.us-east-1.orders"
    aws["iam"].put_role_policy(RoleName="orders-role", PolicyName=name, PolicyDocument=json.dumps(older))
    output = run("status", "orders")[1]
    assert verdicts(output)["self-invoke"] == "OK", output
    assert "role orders-role may invoke" in output
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    assert status == 0, output
    assert f"role orders-role: inline policy {name}:" in output
    assert policy_names(aws) == []
    output = run("status", "orders")[1]
    assert "the function's policy lets role orders-role invoke orders" in output
    assert run("disable", "orders")[0] == 0
    assert may_invoke_itself("orders") is False


def test_the_scheduler_role_trusts_its_one_schedule_and_the_metrics_its_namespace(
    aws: dict[str, Any], layered: Callable[..., LambdaEmulator], layer_zip: Path
) -> None:
    make_function(aws, variables={"WARMER_METRICS_NAMESPACE": "Shop"})
    layered("orders")
    argv = ("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    status, output = run(*argv, "--metrics-mode", "put_metric_data")
    assert status == 0, output
    role = aws["iam"].get_role(RoleName=scheduler_role_name(REGION, FunctionRef("orders")))["Role"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["StringEquals"] == {
        "aws:SourceAccount": ACCOUNT,
        "aws:SourceArn": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/lambdawarmer/lambdawarmer.orders",
    }
    policy = aws["iam"].get_role_policy(RoleName="orders-role", PolicyName="lambdawarmer.us-east-1.orders")
    metrics = [s for s in policy["PolicyDocument"]["Statement"] if s["Action"] == "cloudwatch:PutMetricData"]
    assert metrics[0]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Shop"}}


def _delete_role(iam: Any, role: str) -> None:
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    iam.delete_role(RoleName=role)


def _trust_any_schedule(iam: Any, role: str) -> None:
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    del trust["Statement"][0]["Condition"]
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))


def _trust_another_schedule(iam: Any, role: str) -> None:
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    arn = trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceArn"]
    trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceArn"] = arn.replace("orders", "payments")
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))


def _trust_lambda_instead(iam: Any, role: str) -> None:
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    trust["Statement"][0]["Principal"] = {"Service": "lambda.amazonaws.com"}
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))


def _invoke_another_function(iam: Any, role: str) -> None:
    other = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payments"
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": other}],
    }
    iam.put_role_policy(RoleName=role, PolicyName="invoke-target", PolicyDocument=json.dumps(document))


@pytest.mark.parametrize(
    ("breakage", "verdict", "says"),
    [
        (_delete_role, "FAIL", "does not exist: the schedule cannot fire"),
        (_trust_another_schedule, "FAIL", "it does not trust scheduler.amazonaws.com for arn:aws:scheduler"),
        (_trust_lambda_instead, "FAIL", "it does not trust scheduler.amazonaws.com"),
        (
            _invoke_another_function,
            "FAIL",
            "it may not invoke arn:aws:lambda:us-east-1:123456789012:function:orders",
        ),
        (
            lambda iam, role: iam.delete_role_policy(RoleName=role, PolicyName="invoke-target"),
            "FAIL",
            "it may not invoke",
        ),
        (_trust_any_schedule, "WARN", "without aws:SourceArn and aws:SourceAccount naming this schedule"),
    ],
    ids=[
        "role-deleted",
        "trusts-another-schedule",
        "trusts-lambda",
        "invokes-another",
        "permission-removed",
        "trusts-any",
    ],
)
def test_status_fails_a_schedule_whose_role_cannot_fire_it(
    aws: dict[str, Any],
    layered: Callable[..., LambdaEmulator],
    layer_zip: Path,
    breakage: Callable[[Any, str], None],
    verdict: str,
    says: str,
) -> None:
    """The schedule itself looks right, but Scheduler cannot assume its role for it, or the role may
    not invoke the target: the pings never come. status names what is wrong; enable repairs it."""
    make_function(aws)
    layered("orders")
    assert run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))[0] == 0
    status, output = run("status", "orders")
    assert (status, verdicts(output)["schedule role"]) == (0, "OK"), output
    assert "may assume it for this schedule only" in output
    breakage(aws["iam"], scheduler_role_name(REGION, FunctionRef("orders")))
    status, output = run("status", "orders")
    assert (status, verdicts(output)["schedule role"], verdicts(output)["schedule"]) == (
        6 if verdict == "FAIL" else 0,
        verdict,
        "OK",
    ), output
    assert says in output
    assert run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))[0] == 0
    status, output = run("status", "orders")
    assert (status, verdicts(output)["schedule role"]) == (0, "OK"), output


# -- 2. an alias whose version does not have the layer ---------------------------------------------


def test_an_alias_serving_a_version_without_the_layer_is_never_pinged(
    aws: dict[str, Any],
    start_emulator: Start,
    tmp_path: Path,
    layer_zip: Path,
    invocations_to: Callable[..., None],
) -> None:
    """Version 1 (live) runs without the layer and echoes its events: nothing may reach it."""
    code = write_function(tmp_path / "code", ECHO)
    emulator = start_emulator(
        FunctionSpec("orders", code, "app.handler", versions=["1"], aliases={"live": "1"})
    )
    invocations_to(emulator)
    make_function(aws)
    aws["lambda"].publish_version(FunctionName="orders")
    aws["lambda"].create_alias(FunctionName="orders", Name="live", FunctionVersion="1")
    status, output = run("enable", "orders:live", "--concurrency", "3", "--publish", str(layer_zip))
    assert status == 4, output
    assert (
        "orders:live  NOT PINGED  version 1, which live serves, does not have the lambdawarmer layer"
        in output
    )
    assert "publish a version" in output
    assert "update-alias" in output
    found = aws["scheduler"].get_schedule(Name="lambdawarmer.orders.live", GroupName=SCHEDULE_GROUP)
    assert found["State"] == "DISABLED"
    assert emulator.invocations == []
    status, output = run("status", "orders:live")
    found_verdicts = verdicts(output)
    assert status == 6
    assert (found_verdicts["layer"], found_verdicts["wrapper"], found_verdicts["schedule"]) == ("FAIL",) * 3
    assert "(version 1, which live serves)" in output
    # The schedule switched on by hand: status says the handler gets the pings.
    aws["scheduler"].update_schedule(
        **{k: found[k] for k in ("Name", "GroupName", "ScheduleExpression", "FlexibleTimeWindow", "Target")},
        State="ENABLED",
    )
    assert "the handler gets the pings" in run("status", "orders:live")[1]
    # ping: the handler's answer echoes the token; what is printed never does.
    token = variables(aws)["WARMER_TOKEN"]
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    for flags in (["--json"], []):
        status, output = run("ping", "orders", "--qualifier", "live", "--token-file", str(token_file), *flags)
        assert status == 4, output
        assert token not in output, output
        assert "<hidden, 32 characters>" in output, output


def test_an_alias_weighting_a_version_with_another_token_is_never_pinged(
    aws: dict[str, Any], layer_zip: Path
) -> None:
    """live -> version 2, with 50% routed to version 1: both have the layer and the wrapper, but
    version 1 holds an older WARMER_TOKEN (a disable and enable since, or a secret made anew), so it
    would take the ping as an untrusted event and hand it, token included, to its handler. enable
    leaves the schedule off; status's routing check FAILs naming the version."""
    make_function(aws)
    lambdas = aws["lambda"]
    layer = lambdas.publish_layer_version(
        LayerName="lambdawarmer", Content={"ZipFile": layer_zip.read_bytes()}
    )
    for token in ("o" * 32, "n" * 32):
        variables = {**VARIABLES, "AWS_LAMBDA_EXEC_WRAPPER": WRAPPER_PATH, "WARMER_TOKEN": token}
        lambdas.update_function_configuration(
            FunctionName="orders",
            Layers=[*OTHER_LAYERS, layer["LayerVersionArn"]],
            Environment={"Variables": variables},
        )
        lambdas.publish_version(FunctionName="orders")  # 1: the old token, 2: the new one
    lambdas.create_alias(
        FunctionName="orders",
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
    )
    status, output = run("enable", "orders:live", "--concurrency", "3")
    assert status == 4, output
    unready = "version 1, which receives 50% of live's invocations, holds another WARMER_TOKEN"
    assert unready in output, output
    found = aws["scheduler"].get_schedule(Name="lambdawarmer.orders.live", GroupName=SCHEDULE_GROUP)
    assert found["State"] == "DISABLED"
    status, output = run("status", "orders:live")
    assert (status, verdicts(output)["routing"]) == (6, "FAIL"), output
    assert unready in output
    assert "o" * 32 not in output
    assert "n" * 32 not in output


def test_disable_leaves_a_function_whose_schedule_a_stack_made_as_it_is(
    aws: dict[str, Any], layer_zip: Path
) -> None:
    """A function the CDK construct, the Terraform module or the SAM template set up: its schedule is
    in Scheduler's default group. disable must not take the layer and the wrapper away while that
    schedule pings on (its pings, token included, would reach the handler): it refuses, changing
    nothing, and names the schedule."""
    make_function(aws)
    lambdas = aws["lambda"]
    layer = lambdas.publish_layer_version(
        LayerName="lambdawarmer", Content={"ZipFile": layer_zip.read_bytes()}
    )
    variables = {**VARIABLES, "AWS_LAMBDA_EXEC_WRAPPER": WRAPPER_PATH, "WARMER_TOKEN": "s" * 32}
    lambdas.update_function_configuration(
        FunctionName="orders",
        Layers=[*OTHER_LAYERS, layer["LayerVersionArn"]],
        Environment={"Variables": variables},
    )
    arn = lambdas.get_function_configuration(FunctionName="orders")["FunctionArn"]
    aws["scheduler"].create_schedule(
        Name="lambdawarmer.stack-1234",
        GroupName="default",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": arn,
            "RoleArn": "arn:aws:iam::123456789012:role/stack-scheduler",
            "Input": json.dumps({"warmer": True, "concurrency": 2, "token": "s" * 32}),
        },
    )
    before = snapshot(aws)
    status, output = run("disable", "orders", "--yes")
    assert status == 5, output
    assert "schedule default/lambdawarmer.stack-1234 pings" in output, output
    assert "Nothing was changed" in output
    assert snapshot(aws) == before
    assert "s" * 32 not in output


def test_an_alias_weighting_a_version_without_the_layer_is_never_pinged(
    aws: dict[str, Any], lambda_router: Any, layer_zip: Path
) -> None:
    """live -> version 2 (the layer), with 50% of its invocations routed to version 1 (no layer):
    half the pings, token included, would reach version 1's handler. enable leaves the schedule
    off; status FAILs naming the version and its weight; once every weighted version has the layer,
    status says so."""
    make_function(aws)
    lambdas = aws["lambda"]
    lambdas.publish_version(FunctionName="orders")  # 1: no layer
    layer = lambdas.publish_layer_version(
        LayerName="lambdawarmer", Content={"ZipFile": layer_zip.read_bytes()}
    )
    with_layer = {
        "Layers": [*OTHER_LAYERS, layer["LayerVersionArn"]],
        "Environment": {"Variables": {**VARIABLES, "AWS_LAMBDA_EXEC_WRAPPER": WRAPPER_PATH}},
    }
    lambdas.update_function_configuration(FunctionName="orders", **with_layer)
    lambdas.publish_version(FunctionName="orders")  # 2: the layer
    lambdas.create_alias(
        FunctionName="orders",
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
    )
    seen: list[str] = []
    lambda_router.requests = seen
    status, output = run("enable", "orders:live", "--concurrency", "3")
    assert status == 4, output
    unready = "version 1, which receives 50% of live's invocations, does not have the lambdawarmer layer"
    assert f"orders:live  NOT PINGED  {unready}" in output
    assert "--routing-config AdditionalVersionWeights={}" in output
    found = aws["scheduler"].get_schedule(Name="lambdawarmer.orders.live", GroupName=SCHEDULE_GROUP)
    assert found["State"] == "DISABLED"
    assert [request for request in seen if request.endswith("/invocations")] == []
    status, output = run("status", "orders:live")
    assert (status, verdicts(output)["routing"], verdicts(output)["layer"]) == (6, "FAIL", "OK"), output
    assert unready in output
    # Every weighted version with the layer: OK, and said.
    lambdas.update_function_configuration(FunctionName="orders", Description="3")
    lambdas.publish_version(FunctionName="orders")  # 3: the layer
    lambdas.update_alias(
        FunctionName="orders", Name="live", RoutingConfig={"AdditionalVersionWeights": {"3": 0.1}}
    )
    output = run("status", "orders:live")[1]
    assert verdicts(output)["routing"] == "OK", output
    assert "version 3, which receives 10% of live's invocations: each has the layer and the wrapper" in output


# -- 3. names that collide ------------------------------------------------------------------------


def test_names_never_collide() -> None:
    targets = [
        FunctionRef("api-prod"),
        FunctionRef("api", "prod"),
        FunctionRef("api"),
        FunctionRef("api", "$LATEST"),
        FunctionRef("api", "LATEST"),
        FunctionRef("f" * 64, "live"),
        FunctionRef("f" * 64, "beta"),
    ]
    for name_of in (
        schedule_name,
        lambda t: scheduler_role_name(REGION, t),
        lambda t: self_invoke_policy_name(REGION, t),
    ):
        names = [name_of(target) for target in targets]
        assert len(set(names)) == len(names), names
        assert all(len(name) <= 64 for name in names)
    assert scheduler_role_name("us-east-1", targets[2]) != scheduler_role_name("eu-west-1", targets[2])


def test_the_same_name_in_two_regions_keeps_each_its_own_role(
    aws: dict[str, Any], layered: Callable[..., LambdaEmulator], layer_zip: Path
) -> None:
    for region in (REGION, "eu-west-1"):
        make_function({**aws, "lambda": boto3.client("lambda", region_name=region)})
        layered("orders", region=region)
        status, output = run(
            "enable", "orders", "--region", region, "--concurrency", "2", "--publish", str(layer_zip)
        )
        assert status == 0, output
    roles = {r["RoleName"] for r in aws["iam"].list_roles()["Roles"]}
    assert {"lambdawarmer-scheduler.us-east-1.orders", "lambdawarmer-scheduler.eu-west-1.orders"} <= roles
    status, output = run("disable", "orders", "--region", "eu-west-1")
    assert status == 0, output
    status, output = run("status", "orders", "--region", REGION)
    assert (status, set(verdicts(output).values())) == (0, {"OK"}), output
    assert (may_invoke_itself("orders"), may_invoke_itself("orders", "eu-west-1")) == (True, False)
    assert "lambdawarmer-scheduler.us-east-1.orders" in {
        r["RoleName"] for r in aws["iam"].list_roles()["Roles"]
    }


# -- 4. what the user changed after enable ---------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after_enable", "after_disable"),
    [
        # A wrapper set after enable (Datadog's) stays; so does the user's chained variable.
        (
            {},
            {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/datadog_wrapper"},
            {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/datadog_wrapper"},
        ),
        # Chained by hand as the README shows: it becomes the function's wrapper again.
        (
            {},
            {"WARMER_EXEC_WRAPPER": "/opt/otel-instrument"},
            {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument"},
        ),
        # A stale WARMER_EXEC_WRAPPER beside another wrapper in effect: the one in effect is chained
        # by enable and restored by disable.
        (
            {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument", "WARMER_EXEC_WRAPPER": "/opt/old"},
            {},
            {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument"},
        ),
        # A token the user rotated after enable is theirs now: kept.
        (
            {},
            {"WARMER_TOKEN": "a-token-the-user-rotated-24"},
            {"WARMER_TOKEN": "a-token-the-user-rotated-24"},
        ),
        # The tag edited to name a variable of the user's, with its right digest: it stays, and its
        # value is never printed.
        (
            {"DATABASE_URL": "postgres://app:S3cr3t@db"},
            {RECORD_TAG: "DATABASE_URL"},
            {"DATABASE_URL": "postgres://app:S3cr3t@db"},
        ),
    ],
    ids=["wrapper-set-after", "chained-by-hand", "stale-chain", "token-rotated", "tag-edited"],
)
def test_disable_keeps_what_the_user_changed(
    aws: dict[str, Any],
    layered: Callable[..., LambdaEmulator],
    layer_zip: Path,
    before: dict[str, str],
    after_enable: dict[str, str],
    after_disable: dict[str, str],
) -> None:
    make_function(aws, variables=before)
    layered("orders")
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    assert status == 0, output
    if before.get("WARMER_EXEC_WRAPPER"):
        assert variables(aws)["WARMER_EXEC_WRAPPER"] == before["AWS_LAMBDA_EXEC_WRAPPER"]
    user_vars = {k: v for k, v in after_enable.items() if k != RECORD_TAG}
    if user_vars:
        set_variables(aws, dict(user_vars))
    if RECORD_TAG in after_enable:  # anyone with lambda:TagResource can do this
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders"
        name = after_enable[RECORD_TAG]
        tag = aws["lambda"].list_tags(Resource=arn)["Tags"][RECORD_TAG]
        forged = f"{tag} {name}={digest(name, variables(aws)[name])}"
        aws["lambda"].tag_resource(Resource=arn, Tags={RECORD_TAG: forged})
    status, output = run("disable", "orders")
    assert status == 0, output
    assert "S3cr3t" not in output
    left = variables(aws)
    assert {k: v for k, v in left.items() if k not in VARIABLES} == {**after_disable}, output
    assert not any(":layer:lambdawarmer:" in arn for arn in snapshot(aws)["layers"])


# -- 5. a change made between read and write --------------------------------------------------------


class Prompt(io.StringIO):
    """A terminal whose user, before answering, lets ``meanwhile`` happen (once)."""

    def __init__(self, meanwhile: Callable[[], None]) -> None:
        super().__init__()
        self.meanwhile: Callable[[], None] | None = meanwhile
        self.asked = 0

    def isatty(self) -> bool:
        return True

    def readline(self, *_: Any) -> str:
        self.asked += 1
        if self.meanwhile is not None:
            self.meanwhile, happen = None, self.meanwhile
            happen()
        return "y\n"


def test_a_change_made_at_the_prompt_is_detected_not_reverted(
    aws: dict[str, Any],
    layered: Callable[..., LambdaEmulator],
    layer_zip: Path,
    lambda_revisions: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_function(aws)
    layered("orders")
    prompt = Prompt(lambda: set_variables(aws, {"RELEASE": "2026-12-04"}))  # a pipeline's deploy
    monkeypatch.setattr("sys.stdin", prompt)
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    assert status == 0, output
    assert (
        "orders: changed by someone else since it was read; nothing was written, reading it again" in output
    )
    assert prompt.asked == 2  # asked again, about the plan made from what is there now
    now = variables(aws)
    assert now["RELEASE"] == "2026-12-04"
    assert now["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/lambdawarmer-wrapper"


def test_a_change_made_at_disables_prompt_is_reported_with_what_was_already_removed(
    aws: dict[str, Any],
    layered: Callable[..., LambdaEmulator],
    layer_zip: Path,
    lambda_revisions: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Disable stops the pings before it writes the configuration: when the configuration changed
    meanwhile, what it already removed is said, not "nothing was written"."""
    make_function(aws)
    layered("orders")
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip), "--yes")
    assert status == 0, output
    prompt = Prompt(lambda: set_variables(aws, {"RELEASE": "2026-12-04"}))  # a pipeline's deploy
    monkeypatch.setattr("sys.stdin", prompt)
    status, output = run("disable", "orders")
    assert status == 0, output
    assert "nothing was written" not in output
    assert (
        "orders: changed by someone else since it was read; applied schedule lambdawarmer/lambdawarmer.orders"
        in output
    ), output
    assert ", but not its configuration, reading it again" in output
    now = variables(aws)
    assert now["RELEASE"] == "2026-12-04"
    assert "AWS_LAMBDA_EXEC_WRAPPER" not in now


def test_two_enables_at_once_agree_on_the_token(
    aws: dict[str, Any],
    layered: Callable[..., LambdaEmulator],
    layer_zip: Path,
    lambda_revisions: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_function(aws)
    layered("orders")
    argv = ("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    other: list[tuple[int, str]] = []
    monkeypatch.setattr("sys.stdin", Prompt(lambda: other.append(run(*argv, "--yes"))))
    status, output = run(*argv)
    assert (status, other[0][0]) == (0, 0), (output, other)
    token = variables(aws)["WARMER_TOKEN"]
    found = aws["scheduler"].get_schedule(Name="lambdawarmer.orders", GroupName=SCHEDULE_GROUP)
    assert json.loads(found["Target"]["Input"])["token"] == token


# -- 6. another account's or region's ARN ----------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "says"),
    [
        ("arn:aws:lambda:us-east-1:999999999999:function:orders", "account 999999999999"),
        (f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders", "--region eu-west-1"),
        (f"arn:aws-cn:lambda:{REGION}:{ACCOUNT}:function:orders", "aws-cn"),
        ("999999999999:function:orders", "account 999999999999"),
        ("123:function:orders:live", "account 123"),
    ],
)
@pytest.mark.parametrize("command", ["enable", "disable", "status", "ping", "cost"])
def test_an_arn_elsewhere_is_refused_before_any_change(
    aws: dict[str, Any],
    layer_zip: Path,
    lambda_router: Any,
    arn: str,
    says: str,
    command: str,
) -> None:
    """Full and partial ARNs alike: refused before any call is made to the function (the router
    sees every Lambda request; none may name it)."""
    make_function(aws)
    before = snapshot(aws)
    seen: list[str] = []
    lambda_router.requests = seen
    extra = {
        "enable": ["--concurrency", "2", "--publish", str(layer_zip)],
        "cost": ["--concurrency", "2"],
    }.get(command, [])
    status, output = run(command, arn, *extra)
    assert (status, says in output) == (2, True), output
    assert snapshot(aws) == before
    assert [path for path in seen if "orders" in path] == []


# -- 7. exit statuses and validation ---------------------------------------------------------------


def zip_without_wrapper(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("python/x.py", "")
    return path


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--schedule", "rate(5 minute)"], "Scheduler wants rate(5 minutes)"),
        (["--schedule", "every 5 minutes"], "is not a schedule expression"),
        (["--schedule", "rate(0 minutes)"], "never fires"),
        (["--schedule", "cron(0 * * * *)"], "has 6 fields"),
        (["--schedule", "at(2026-12-25T00:00:00)"], "fires once"),
        (["--publish", "README.md"], "not a zip file"),
        (["--publish", "WRAPPERLESS"], "not a lambdawarmer layer"),
        (["--layer-arn", "arn:aws:lambda:us-east-1:123456789012:layer:lambdawarmer"], "layer:NAME:VERSION"),
        (["--layer-arn", "arn:aws:lambda:us-east-1:123456789012:layer:lambdawarmer:new"], "must be a number"),
        (["--layer-arn", "arn:aws:lambda:eu-west-1:123456789012:layer:lambdawarmer:1"], "of its own region"),
        (["--layer-arn", "arn:aws:lambda:us-east-1:123456789012:layer:lambdawarmer:7"], "cannot be read"),
    ],
)
def test_enable_refuses_bad_input_before_any_change(
    aws: dict[str, Any], layer_zip: Path, tmp_path: Path, extra: list[str], says: str, dry_run: bool
) -> None:
    make_function(aws)
    before = snapshot(aws)
    if "WRAPPERLESS" in extra:
        extra = ["--publish", str(zip_without_wrapper(tmp_path / "other.zip"))]
    if "--layer-arn" not in extra and "--publish" not in extra:
        extra = [*extra, "--publish", str(layer_zip)]
    status, output = run(
        "enable", "orders", "--concurrency", "2", *extra, *(["--dry-run"] if dry_run else [])
    )
    assert (status, says in output) == (2, True), output
    assert snapshot(aws) == before
    assert aws["lambda"].list_layer_versions(LayerName="lambdawarmer")["LayerVersions"] == []


def test_enable_never_attaches_a_layer_it_was_not_given(aws: dict[str, Any], layer_zip: Path) -> None:
    """Anyone allowed lambda:PublishLayerVersion could publish a newest "lambdawarmer"."""
    aws["lambda"].publish_layer_version(LayerName="lambdawarmer", Content={"ZipFile": layer_zip.read_bytes()})
    make_function(aws)
    status, output = run("enable", "orders", "--concurrency", "2", "--dry-run")
    assert (status, "it has no lambdawarmer layer: name the one to attach" in output) == (2, True), output


@pytest.mark.parametrize(
    ("argv", "expected", "says"),
    [
        (("ping", "orders", "--timeout", "0"), 2, "expected seconds, more than 0"),
        (("ping", "orders", "--timeout", "soon"), 2, "expected seconds"),
        (("ping", "orders", "--token-file", "/no/such/file"), 2, "--token-file: No such file"),
        (
            ("enable", "orders", "--concurrency", "2", "--layer-arn", "x", "--publish", "y"),
            2,
            "not allowed with",
        ),
    ],
)
def test_usage_errors_exit_2(aws: dict[str, Any], argv: tuple[str, ...], expected: int, says: str) -> None:
    make_function(aws)
    status, output = run(*argv)
    assert (status, says in output) == (expected, True), output


def test_status_without_credentials_exits_3(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_function(aws)
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    status, output = run("status", "orders", "--region", REGION)
    assert status == 3, output
    assert "no AWS credentials found: pass --profile NAME (or set AWS_PROFILE)" in output


def test_status_reports_a_denied_check_and_runs_the_others(
    aws: dict[str, Any],
    layered: Callable[..., LambdaEmulator],
    layer_zip: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """moto cannot deny one call alone (its IAM checks are all or nothing, per server): Scheduler's
    GetSchedule is made to answer as AWS does to a role without scheduler:GetSchedule."""
    from botocore.exceptions import ClientError

    make_function(aws)
    layered("orders")
    assert run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))[0] == 0

    def denied(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "GetSchedule"
        )

    real_client = Clients.__getattr__

    def clients_with_denied_schedule(self: Clients, attribute: str) -> Any:
        found = real_client(self, attribute)
        if attribute == "scheduler":
            monkeypatch.setattr(found, "get_schedule", denied)
        return found

    monkeypatch.setattr(Clients, "__getattr__", clients_with_denied_schedule)
    status, output = run("status", "orders")
    found = verdicts(output)
    assert status == 0, output
    assert found["schedule"] == "WARN"
    assert "cannot check it: AccessDeniedException (it needs scheduler:GetSchedule)" in output
    assert (found["layer"], found["self-invoke"], found["timeout"]) == ("OK", "OK", "OK")


def test_status_judges_lambdas_default_timeout_at_128_mb_with_the_round_model(
    aws: dict[str, Any], layered: Callable[..., LambdaEmulator], layer_zip: Path
) -> None:
    make_function(aws, timeout=3, memory=128)
    layered("orders")
    # enable's first ping of new environments may find fewer than N on a loaded machine (1): the
    # machine's, not status's judgement, which this test is about
    status, said = run("enable", "orders", "--concurrency", "10", "--publish", str(layer_zip))
    assert status in (OK, NOT_ALL_WARM), said
    output = run("status", "orders")[1]
    (line,) = [line for line in output.splitlines() if " timeout " in line]
    assert verdicts(output)["timeout"] == "OK", output
    assert "a round of 10 at 128 MB needs" in line, output
    # the worst case (a fanned-out instance's init first) does not fit 3 s, and status says so
    assert "when a fanned-out instance starts cold" in line, output
    budget = scheduled_round(128, 10, 75)
    assert f"needs ~{budget.timeout_needed_ms:,.0f} ms" in line, output
    assert f"up to {(budget.worst_case_ms + DEADLINE_MARGIN_MS) / 1000:.1f} s" in line, output
    # 40 do not fit flat at 3 s: the owner's pings (enable set a token) send a tree, priced beside flat.
    # enable's first ping may find fewer than 40 (1): how many a first tree ping of new environments
    # proves in time is the machine's (a loaded one, beside two busy loops, fell short); status is judged
    status, said = run("enable", "orders", "--concurrency", "40", "--publish", str(layer_zip))
    assert status in (OK, NOT_ALL_WARM), said
    output = run("status", "orders")[1]
    (line,) = [line for line in output.splitlines() if " timeout " in line]
    assert verdicts(output)["timeout"] == "OK", output
    assert "each ping sends a tree round (fan 6, depth 2" in line, output
    assert "GB-seconds a ping (flat, were it to fit:" in line, output


# -- upgrading from 1.3: what it left under colliding names goes ------------------------------------


def test_enable_and_disable_remove_what_1_3_left_for_this_function_only(
    aws: dict[str, Any], layered: Callable[..., LambdaEmulator], layer_zip: Path
) -> None:
    make_function(aws)
    layered("orders")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders"
    other = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payments"
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    aws["iam"].create_role(RoleName="lambdawarmer-scheduler-orders", AssumeRolePolicyDocument=trust)
    invoke = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arn}],
    }
    aws["iam"].put_role_policy(
        RoleName="lambdawarmer-scheduler-orders",
        PolicyName="invoke-target",
        PolicyDocument=json.dumps(invoke),
    )
    aws["scheduler"].create_schedule_group(Name=SCHEDULE_GROUP)
    aws["scheduler"].create_schedule(
        Name="lambdawarmer-orders",
        GroupName=SCHEDULE_GROUP,
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": arn,
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/lambdawarmer-scheduler-orders",
            "Input": "{}",
        },
    )
    shared = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [arn, f"{arn}:*"]}],
    }
    aws["iam"].put_role_policy(
        RoleName="orders-role", PolicyName="lambdawarmer-self-invoke", PolicyDocument=json.dumps(shared)
    )
    status, output = run("enable", "orders", "--concurrency", "2", "--publish", str(layer_zip))
    assert status == 0, output
    schedules = {s["Name"] for s in aws["scheduler"].list_schedules()["Schedules"]}
    assert schedules == {"lambdawarmer.orders"}
    assert "lambdawarmer-scheduler-orders" not in {r["RoleName"] for r in aws["iam"].list_roles()["Roles"]}
    assert "lambdawarmer-self-invoke" in policy_names(aws)  # enable leaves 1.3's policy: harmless
    status, output = run("disable", "orders")
    assert status == 0, output
    assert policy_names(aws) == []
    # 1.3's policy naming another function too is never removed.
    shared["Statement"][0]["Resource"] = [arn, other]
    aws["iam"].put_role_policy(
        RoleName="orders-role", PolicyName="lambdawarmer-self-invoke", PolicyDocument=json.dumps(shared)
    )
    assert run("disable", "orders")[0] == 0
    assert policy_names(aws) == ["lambdawarmer-self-invoke"]


# -- any sequence over functions sharing a role -----------------------------------------------------

OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["enable", "disable"]), st.sampled_from(["orders", "payments"])),
    min_size=1,
    max_size=5,
)


@pytest.fixture
def shop(aws: dict[str, Any], layered: Callable[..., LambdaEmulator]) -> dict[str, Any]:
    """moto's server, with orders and payments running in emulators (made once per test: Hypothesis
    runs its examples in one, resetting moto each time)."""
    for name in ("orders", "payments"):
        layered(name)
    return aws


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
@example(  # every transition on a shared role, whatever the random examples draw
    operations=[
        ("disable", "payments"),  # never enabled
        ("enable", "orders"),
        ("enable", "payments"),
        ("disable", "orders"),  # the other stays enabled
        ("enable", "payments"),  # again: changes nothing
    ]
)
def test_any_sequence_of_enable_and_disable_leaves_each_function_as_expected(
    shop: dict[str, Any], layer_zip: Path, operations: list[tuple[str, str]]
) -> None:
    aws = shop
    urllib.request.urlopen(urllib.request.Request(f"{shop['endpoint']}/moto-api/reset", method="POST"))
    original = {
        name: snapshot(aws, name) if make_function(aws, name) else None for name in ("orders", "payments")
    }
    enabled: set[str] = set()
    for command, name in operations:
        extra = ["--concurrency", "2", "--publish", str(layer_zip)] if command == "enable" else []
        status, output = run(command, name, *extra)
        assert status == 0, output
        (enabled.add if command == "enable" else enabled.discard)(name)
        for function in ("orders", "payments"):
            now = snapshot(aws, function)
            assert may_invoke_itself(function) == (function in enabled), (operations, function)
            has_schedule = f"lambdawarmer.{function}" in now["schedules"]
            assert has_schedule == (function in enabled)
            if function not in enabled:
                assert now["variables"] == original[function]["variables"]
                assert now["layers"] == original[function]["layers"]
                assert RECORD_TAG not in now["tags"]
                assert scheduler_role_name(REGION, parse_function_ref(function)) not in now["roles"]


# -- 8. any number of functions on one execution role ----------------------------------------------

SHARING = [f"shop-{n:02d}" for n in range(50)]


def _apply(clients: Clients, command: str, name: str, layer: str) -> None:
    """``enable`` or ``disable`` of one function as the command applies it (its plan read, shown and
    applied by adoption.py; enable's first ping, which needs the function running, left out)."""
    import argparse

    from lambdawarmer_cli.adoption import adopt
    from lambdawarmer_cli.disable_plan import plan_disable
    from lambdawarmer_cli.enable_plan import Options, plan_enable

    options = Options(concurrency=2, layer_arn=layer)
    plans = {
        "enable": lambda deployed: plan_enable(clients, deployed, options),
        "disable": lambda deployed: plan_disable(clients, deployed),
    }
    arguments = argparse.Namespace(command=command, dry_run=False, yes=True)
    out = io.StringIO()
    status, _, _ = adopt(clients, FunctionRef(name), plans[command], arguments, out)
    assert status == 0, out.getvalue()


def _granted(aws: dict[str, Any], name: str) -> bool:
    """Whether the function's own policy lets the shared role invoke it (read from Lambda)."""
    try:
        policy = json.loads(aws["lambda"].get_policy(FunctionName=name)["Policy"])["Statement"]
    except aws["lambda"].exceptions.ResourceNotFoundException:
        return False
    role = f"arn:aws:iam::{ACCOUNT}:role/orders-role"
    return any(
        s["Action"] == "lambda:InvokeFunction" and s["Principal"] in (role, {"AWS": role}) for s in policy
    )


@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    enabling=st.permutations(SHARING),
    toggled=st.lists(st.sampled_from(SHARING), max_size=6),
    disabling=st.permutations(SHARING),
)
def test_fifty_functions_on_one_role_enable_and_disable_in_any_order(
    aws: dict[str, Any], layer_zip: Path, enabling: list[str], toggled: list[str], disabling: list[str]
) -> None:
    """50 functions on one execution role: each may invoke itself exactly while enabled, and the role
    stays within IAM's 10,240 characters of inline policies (one ~270-character policy per target
    met it at the 37th function)."""
    urllib.request.urlopen(urllib.request.Request(f"{aws['endpoint']}/moto-api/reset", method="POST"))
    role = make_function(aws, SHARING[0], layers=[], tags={})["Role"]
    for name in SHARING[1:]:
        aws["lambda"].create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": code_zip()},
        )
    content = {"ZipFile": layer_zip.read_bytes()}
    layer = aws["lambda"].publish_layer_version(LayerName="lambdawarmer", Content=content)["LayerVersionArn"]
    clients = Clients(region=REGION)
    enabled: set[str] = set()

    def apply(command: str, name: str) -> None:
        _apply(clients, command, name, layer)
        (enabled.add if command == "enable" else enabled.discard)(name)
        assert _granted(aws, name) == (command == "enable"), name

    def within_iam_limits() -> None:
        inline = [
            aws["iam"].get_role_policy(RoleName="orders-role", PolicyName=policy)["PolicyDocument"]
            for policy in policy_names(aws)
        ]
        assert sum(len(json.dumps(document, separators=(",", ":"))) for document in inline) <= 10240
        assert [name for name in SHARING if _granted(aws, name) != (name in enabled)] == []

    for name in enabling:
        apply("enable", name)
    within_iam_limits()
    for name in toggled:
        apply("disable" if name in enabled else "enable", name)
    within_iam_limits()
    for name in disabling:
        if name in enabled:
            apply("disable", name)
    within_iam_limits()
    assert policy_names(aws) == []
    assert aws["scheduler"].list_schedules()["Schedules"] == []


def test_a_role_policy_removed_between_listing_and_reading_grants_nothing_and_fails_nothing(
    aws: dict[str, Any],
) -> None:
    """Functions on one role changed at the same time (a fleet's are, in parallel): one's policy can
    be listed and gone when read. It grants nothing; the others are read (a fleet rerun FAILed a
    function for it: "NoSuchEntity: Policy Document ... not attached to role")."""
    make_role(aws)
    grant = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}
    for name in ("kept", "removed-meanwhile"):
        aws["iam"].put_role_policy(
            RoleName="orders-role",
            PolicyName=name,
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{**grant, "Sid": name}]}),
        )
    clients = Clients(region=REGION)

    def removed_meanwhile(params: dict[str, Any], **_: Any) -> None:
        if params.get("PolicyName") == "removed-meanwhile":
            aws["iam"].delete_role_policy(RoleName="orders-role", PolicyName="removed-meanwhile")

    clients.iam.meta.events.register("before-parameter-build.iam.GetRolePolicy", removed_meanwhile)
    assert [statement.get("Sid") for statement in role_statements(clients, "orders-role")] == ["kept"]


def test_threads_catching_a_clients_modeled_error_at_once_all_catch_it(aws: dict[str, Any]) -> None:
    """A fleet's plans share each account's clients. botocore makes a client's modeled exceptions on
    first use, unlocked: threads catching ``iam.exceptions.NoSuchEntityException`` at once could each
    get classes of their own, and one missed the error raised with another's class (a fleet's dry
    run FAILed a function: "cannot read it: NoSuchEntity"). They are made with the client."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    make_role(aws)
    iam = Clients(region=REGION).iam
    assert iam._exceptions is not None  # botocore/client.py's lazily made attribute, made already
    together = threading.Barrier(8, timeout=10)

    def caught(_: int) -> bool:
        together.wait()
        try:
            iam.get_role_policy(RoleName="orders-role", PolicyName="never-there")
        except iam.exceptions.NoSuchEntityException:
            return True
        return False

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(caught, range(8)))
