"""The fleet's autopilot (lambdawarmer_cli/fleet/autopilot.py), in-process against moto's server, on
tag-change events and the daily sweep; fleet/autopilot.yaml, cfn-lint clean and rolled out by a
StackSet (moto's CloudFormation); the zip its template deploys."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import boto3
import botocore
import pytest

from lambdawarmer.function_ref import parse_function_ref
from lambdawarmer.metrics import FUNCTION_DIMENSION, INVOCATION_DIMENSION
from lambdawarmer.settings import CONCURRENCY_LIMIT, SETTINGS
from lambdawarmer_cli.clients import Clients
from lambdawarmer_cli.deployed import read_function
from lambdawarmer_cli.enable_plan import Options, plan_enable
from lambdawarmer_cli.fleet import autopilot, package
from lambdawarmer_cli.fleet.autopilot import (
    AUTOPILOT_TAG,
    CONCURRENCY_TAG,
    DEFAULT_MAX_CONCURRENCY,
    OPT_OUT_TAG,
    Autopilot,
    handler,
)
from lambdawarmer_cli.fleet.scope import Account, session
from lambdawarmer_cli.iam import allows, statements
from lambdawarmer_cli.names import AUTOPILOT_VARIABLE, RECORD_TAG, SCHEDULE_GROUP
from lambdawarmer_cli.schedules import DEFAULT_SCHEDULE

from .control_plane import REGION, code_zip, make_role, run
from .templates import cloudformation

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "fleet" / "autopilot.yaml"
ACCOUNT = "123456789012"
SWEEP = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
SERVICES = {
    "lambda": "lambda",
    "iam": "iam",
    "scheduler": "scheduler",
    "resource-groups-tagging-api": "tag",
    "sts": "sts",
}
"""botocore's service ids, as IAM prefixes their actions."""
UNGATED = {"sts:GetCallerIdentity"}
"""Calls IAM lets every caller make (no policy grants or denies them)."""


def tag_event(arn: str) -> dict[str, Any]:
    """EventBridge's event for a tag change on a Lambda function (the tags themselves are read again)."""
    detail = {
        "service": "lambda",
        "resource-type": "function",
        "changed-tag-keys": [CONCURRENCY_TAG],
        "tags": {},
    }
    return {
        "source": "aws.tag",
        "detail-type": "Tag Change on Resource",
        "resources": [arn],
        "detail": detail,
    }


class Reconciler:
    """The autopilot as its handler builds it, each AWS call it makes recorded as an IAM action."""

    def __init__(self) -> None:
        self.actions: set[str] = set()
        self.log = io.StringIO()

    def __call__(self, event: dict[str, Any], **settings: Any) -> list[dict[str, Any]]:
        def called(event_name: str, **_: Any) -> None:
            service, operation = event_name.split(".")[1:3]
            self.actions.add(f"{SERVICES[service]}:{operation}")

        clients = Clients(session=session(None, Account(ACCOUNT), REGION, called))
        settings = {"layer_arn": None, "layer_sha256": None, "allow_auto": True, "dry_run": False, **settings}
        start = len(self.log.getvalue())
        Autopilot(clients, log=self.log, **settings).run(event)
        return [json.loads(line) for line in self.log.getvalue()[start:].splitlines()]


def function(aws: dict[str, Any], name: str, tags: dict[str, str], *, layer: bool = True) -> str:
    """A function carrying the lambdawarmer layer (as a deploy that attaches it does) and ``tags``."""
    layers = []
    if layer:
        layers = [
            aws["lambda"].publish_layer_version(LayerName="lambdawarmer", Content={"ZipFile": code_zip()})
        ]
    made = aws["lambda"].create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=make_role(aws, "app"),
        Handler="app.handler",
        Code={"ZipFile": code_zip()},
        Layers=[version["LayerVersionArn"] for version in layers],
        Tags={"team": "shop", **tags},
    )
    return str(made["FunctionArn"])


def zip_sha256(aws: dict[str, Any], arn: str) -> str:
    """The sha256 (hex) of the zip a layer version was published from, as the release names it."""
    parts = arn.split(":")
    version = aws["lambda"].get_layer_version(LayerName=parts[6], VersionNumber=int(parts[7]))
    return base64.b64decode(version["Content"]["CodeSha256"]).hex()


def tags(aws: dict[str, Any], arn: str) -> dict[str, str]:
    return dict(aws["lambda"].list_tags(Resource=arn)["Tags"])


def variables(aws: dict[str, Any], name: str) -> dict[str, str]:
    configuration = aws["lambda"].get_function_configuration(FunctionName=name)
    return dict(configuration.get("Environment", {}).get("Variables", {}))


def pinged_with(aws: dict[str, Any], name: str) -> int | str | None:
    """N in the function's schedule's ping (None: no schedule)."""
    try:
        schedule = aws["scheduler"].get_schedule(GroupName=SCHEDULE_GROUP, Name=f"lambdawarmer.{name}")
    except aws["scheduler"].exceptions.ResourceNotFoundException:
        return None
    found: int | str = json.loads(schedule["Target"]["Input"])["concurrency"]
    return found


def role_actions(*, grants_on_execution_roles: bool = True) -> list[dict[str, Any]]:
    """The statements of the template's role, its condition GrantsOnExecutionRoles (MetricsMode
    put_metric_data, or AllowAuto) as given."""
    template = cloudformation(TEMPLATE)
    policy = template["Resources"]["AutopilotRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    found = []
    for statement in statements(policy):
        if "Fn::If" in statement:
            condition, granted, otherwise = statement["Fn::If"]
            assert condition == "GrantsOnExecutionRoles", condition
            assert otherwise == {"Ref": "AWS::NoValue"}, otherwise
            if grants_on_execution_roles:
                found.append(granted)
        else:
            found.append(statement)
    return found


def assert_role_allows(actions: set[str]) -> None:
    """Every call the reconciler made is one its template's role grants (resources aside)."""
    granted = role_actions()
    refused = sorted(
        action
        for action in actions - UNGATED
        if not any(allows({**s, "Resource": "*"}, action, "x") for s in granted)
    )
    assert not refused, f"the autopilot's role does not grant {refused}"


def test_tag_added_changed_and_removed_enables_changes_n_and_disables(aws: dict[str, Any]) -> None:
    reconcile = Reconciler()
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    [line] = reconcile(tag_event(arn), metrics_mode="emf")
    assert (line["action"], line["concurrency"], line["dry_run"]) == ("enable", 2, False), line
    assert line["result"].startswith("applied"), line
    assert tags(aws, arn)[AUTOPILOT_TAG] == "enabled concurrency=2"
    assert RECORD_TAG in tags(aws, arn)
    assert pinged_with(aws, "orders") == 2
    assert variables(aws, "orders")["WARMER_SEND_METRIC"] == "true"  # the dashboard's metrics
    assert variables(aws, "orders")[AUTOPILOT_VARIABLE] == arn  # its mark of ownership: this function

    assert reconcile(tag_event(arn))[0]["result"] == "unchanged"  # its own tag change's event: nothing

    aws["lambda"].tag_resource(Resource=arn, Tags={CONCURRENCY_TAG: "auto"})
    [line] = reconcile(tag_event(arn))
    assert (line["action"], line["concurrency"]) == ("enable", "auto"), line
    assert pinged_with(aws, "orders") == "auto"
    assert tags(aws, arn)[AUTOPILOT_TAG] == "enabled concurrency=auto"

    aws["lambda"].untag_resource(Resource=arn, TagKeys=[CONCURRENCY_TAG])
    [line] = reconcile(tag_event(arn))
    assert (line["action"], line["result"][:7]) == ("disable", "applied"), line
    assert pinged_with(aws, "orders") is None
    assert AUTOPILOT_TAG not in tags(aws, arn)
    assert RECORD_TAG not in tags(aws, arn)
    assert AUTOPILOT_VARIABLE not in variables(aws, "orders")
    assert reconcile(tag_event(arn))[0]["result"].startswith("left alone: not enabled by the autopilot")

    aws["lambda"].tag_resource(Resource=arn, Tags={CONCURRENCY_TAG: "3"})  # disable took the layer away
    first = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:lambdawarmer:1"
    layer = {"layer_arn": first, "layer_sha256": zip_sha256(aws, first)}
    [line] = reconcile(tag_event(arn), **layer)
    assert line["result"].startswith("applied"), line
    assert pinged_with(aws, "orders") == 3
    aws["lambda"].tag_resource(Resource=arn, Tags={CONCURRENCY_TAG: "0"})
    assert reconcile(tag_event(arn))[0]["action"] == "disable"
    assert pinged_with(aws, "orders") is None
    assert_role_allows(reconcile.actions)


def test_opt_out_and_functions_enabled_by_someone_else_are_left_alone(aws: dict[str, Any]) -> None:
    reconcile = Reconciler()
    opted = function(aws, "opted", {CONCURRENCY_TAG: "2", OPT_OUT_TAG: "true"})
    [line] = reconcile(tag_event(opted))
    assert (line["action"], line["result"]) == ("none", f"left alone: {OPT_OUT_TAG}=true")
    assert pinged_with(aws, "opted") is None
    assert AUTOPILOT_TAG not in tags(aws, opted)

    theirs = function(aws, "theirs", {"owner": "cli"})
    status, output = run("fleet", "enable", "--tag", "owner=cli", "--concurrency", "4", "--yes")
    assert status == 0, output
    before = tags(aws, theirs)
    aws["lambda"].tag_resource(Resource=theirs, Tags={CONCURRENCY_TAG: "2"})
    assert reconcile(tag_event(theirs))[0]["result"].startswith("left alone: enabled by someone else")
    aws["lambda"].untag_resource(Resource=theirs, TagKeys=[CONCURRENCY_TAG])
    assert reconcile(tag_event(theirs))[0]["result"].startswith("left alone: not enabled by the autopilot")
    assert pinged_with(aws, "theirs") == 4
    assert tags(aws, theirs) == before


def test_a_dry_run_plans_and_logs_but_changes_nothing(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    configuration = aws["lambda"].get_function_configuration(FunctionName="orders")
    del configuration["ResponseMetadata"]
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "lambdawarmer-autopilot")  # its own function's name
    monkeypatch.setenv("DRY_RUN", "true")
    monkeypatch.setenv("METRICS_MODE", "emf")
    assert handler(tag_event(arn), None) == {"functions": 1, "errors": 0, "refused": 0}
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert (line["action"], line["dry_run"]) == ("enable", True)
    assert line["result"].startswith("would change ")
    assert f"tag {AUTOPILOT_TAG}" in line["result"]
    assert "variables" in line["result"]
    assert {**aws["lambda"].get_function_configuration(FunctionName="orders"), "ResponseMetadata": None} == {
        **configuration,
        "ResponseMetadata": None,
    }
    assert AUTOPILOT_TAG not in tags(aws, arn)
    assert pinged_with(aws, "orders") is None
    monkeypatch.setenv("METRICS_MODE", "cloudwatch")
    with pytest.raises(ValueError, match="METRICS_MODE 'cloudwatch': expected one of emf, put_metric_data"):
        handler(tag_event(arn), None)


def test_tags_changed_while_it_reconciles_are_not_overridden(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    read = autopilot.read_function

    def read_then_opt_out(*arguments: Any) -> Any:
        found = read(*arguments)
        aws["lambda"].tag_resource(Resource=arn, Tags={OPT_OUT_TAG: "true"})  # as its owner does, meanwhile
        return found

    monkeypatch.setattr(autopilot, "read_function", read_then_opt_out)
    [line] = Reconciler()(tag_event(arn))
    assert line["result"].endswith("its lambdawarmer tags changed while it was reconciled: nothing changed")
    assert AUTOPILOT_TAG not in tags(aws, arn)
    assert pinged_with(aws, "orders") is None


def test_a_forged_autopilot_tag_on_a_function_someone_enabled_changes_nothing(aws: dict[str, Any]) -> None:
    """Anyone allowed only lambda:TagResource tags a function a person enabled as the autopilot's,
    asking for 0 (or another N): the autopilot's broader role must not act on their word."""
    reconcile = Reconciler()
    theirs = function(aws, "theirs", {"owner": "cli"})
    status, output = run("fleet", "enable", "--tag", "owner=cli", "--concurrency", "4", "--yes")
    assert status == 0, output
    configuration = variables(aws, "theirs")
    forged = {AUTOPILOT_TAG: "enabled concurrency=4", CONCURRENCY_TAG: "0"}
    aws["lambda"].tag_resource(Resource=theirs, Tags=forged)
    for event in (tag_event(theirs), SWEEP):
        [line] = reconcile(event)
        assert (line["action"], line["function"]) == ("none", theirs), line
        assert line["result"].startswith("left alone: not enabled by the autopilot"), line
        assert f"{AUTOPILOT_TAG} tag is not trusted" in line["result"], line
    aws["lambda"].tag_resource(Resource=theirs, Tags={CONCURRENCY_TAG: "1"})
    [line] = reconcile(tag_event(theirs))
    assert line["result"].startswith("left alone: enabled by someone else"), line
    assert pinged_with(aws, "theirs") == 4
    assert variables(aws, "theirs") == configuration
    assert tags(aws, theirs)[AUTOPILOT_TAG] == forged[AUTOPILOT_TAG]  # not even its own record rewritten


def test_a_tag_asking_for_more_than_max_concurrency_is_refused(aws: dict[str, Any]) -> None:
    reconcile = Reconciler()
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    assert reconcile(tag_event(arn), max_concurrency=5)[0]["result"].startswith("applied")
    aws["lambda"].tag_resource(Resource=arn, Tags={CONCURRENCY_TAG: "50"})  # by a tagger, on its function
    [line] = reconcile(tag_event(arn), max_concurrency=5)
    assert (line["action"], line["concurrency"]) == ("none", 50), line
    assert line["result"] == (
        f"refused: {CONCURRENCY_TAG}=50 asks for more than the 5 environments the autopilot may warm a "
        "function with (its template's MaxConcurrency): nothing changed"
    )
    assert pinged_with(aws, "orders") == 2
    assert tags(aws, arn)[AUTOPILOT_TAG] == "enabled concurrency=2"
    fresh = function(aws, "fresh", {CONCURRENCY_TAG: "6"})
    lines = {line["function"]: line for line in reconcile(SWEEP, max_concurrency=5)}
    assert lines[fresh]["result"].startswith(f"refused: {CONCURRENCY_TAG}=6 asks for more than the 5")
    assert pinged_with(aws, "fresh") is None

    aws["lambda"].tag_resource(Resource=arn, Tags={CONCURRENCY_TAG: "auto"})  # auto is held to it too
    assert reconcile(tag_event(arn), max_concurrency=5)[0]["result"].startswith("applied")
    assert pinged_with(aws, "orders") == "auto"
    assert variables(aws, "orders")["WARMER_AUTO_MAX"] == "5"  # the layer's own cap is 100
    own = function(aws, "own", {CONCURRENCY_TAG: "auto"})
    aws["lambda"].update_function_configuration(
        FunctionName="own", Environment={"Variables": {"WARMER_AUTO_MAX": "40"}}
    )
    [line] = reconcile(tag_event(own), max_concurrency=5)
    assert line["result"].startswith(f"refused: {CONCURRENCY_TAG}=auto with its WARMER_AUTO_MAX=40"), line
    assert pinged_with(aws, "own") is None


def test_an_event_naming_a_function_of_another_account_or_region_is_refused(aws: dict[str, Any]) -> None:
    reconcile = Reconciler()
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    elsewhere = [arn.replace(f":{ACCOUNT}:", ":999999999999:"), arn.replace(f":{REGION}:", ":eu-west-3:")]
    for foreign in elsewhere:
        [line] = reconcile(tag_event(foreign))
        assert (line["function"], line["action"]) == (foreign, "none"), line
        assert line["result"].startswith("refused: it is in aws/"), line
        assert line["result"].endswith(
            f"not in the autopilot's own aws/{REGION}, account {ACCOUNT}: not acted on"
        )
    assert pinged_with(aws, "orders") is None
    assert AUTOPILOT_TAG not in tags(aws, arn)
    assert_role_allows(reconcile.actions)


def test_the_sweep_works_functions_in_parallel_each_line_whole(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"fn{index}" for index in range(6)]
    for name in names:
        function(aws, name, {CONCURRENCY_TAG: "1"}, layer=name != "fn3")  # fn3 fails: no layer
    # moto's CreateScheduleGroup replaces a group that exists, with the schedules already in it, where
    # Scheduler refuses (ConflictException, tested below): made first, so no late plan wipes them.
    aws["scheduler"].create_schedule_group(Name=SCHEDULE_GROUP)
    read = autopilot.read_function
    together = threading.Barrier(2, timeout=20)
    first = iter(range(2))

    def read_two_at_once(*arguments: Any) -> Any:
        if next(first, None) is not None:
            together.wait()  # a sweep one function after another never gets past this
        return read(*arguments)

    monkeypatch.setattr(autopilot, "read_function", read_two_at_once)
    lines = Reconciler()(SWEEP, max_workers=4)  # each line parsed: none interleaved with another
    results = {line["function"].split(":")[-1]: line["result"] for line in lines}
    assert sorted(results) == names
    assert "no lambdawarmer layer" in results.pop("fn3")
    assert all(result.startswith("applied") for result in results.values()), results
    assert all(pinged_with(aws, name) == 1 for name in results)


def test_a_schedule_group_made_meanwhile_by_a_parallel_function_is_as_good(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Functions worked in parallel all plan the missing group; Scheduler refuses each one but the
    first (ConflictException, which moto does not raise: raised here as Scheduler does)."""
    function(aws, "orders", {CONCURRENCY_TAG: "1"})
    clients = Clients()
    plan = plan_enable(
        clients, read_function(clients, parse_function_ref("orders")), Options(concurrency=1, layer_arn=None)
    )
    assert "schedule group" in [change.resource for change in plan.changes]
    aws["scheduler"].create_schedule_group(Name=SCHEDULE_GROUP)  # by another function's plan, meanwhile
    scheduler = clients.scheduler

    def conflict(**_: Any) -> None:
        raise scheduler.exceptions.ConflictException(
            {
                "Error": {
                    "Code": "ConflictException",
                    "Message": "Schedule group lambdawarmer already exists.",
                }
            },
            "CreateScheduleGroup",
        )

    monkeypatch.setattr(scheduler, "create_schedule_group", conflict)
    assert plan.apply(lambda _: None)
    assert pinged_with(aws, "orders") == 1


def test_the_handler_refuses_settings_it_cannot_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEDULE", "every 5 minutes")
    with pytest.raises(ValueError, match=r"^SCHEDULE 'every 5 minutes'"):
        handler(SWEEP, None)
    monkeypatch.delenv("SCHEDULE")
    for bad in ("0", "1001", "ten"):
        monkeypatch.setenv("MAX_CONCURRENCY", bad)
        with pytest.raises(ValueError, match=rf"^MAX_CONCURRENCY '{bad}': expected a whole number from 1 to"):
            handler(SWEEP, None)


def test_the_template_gives_the_handler_what_it_reads_and_charts_the_layers_metrics() -> None:
    template = cloudformation(TEMPLATE)
    function = template["Resources"]["Autopilot"]["Properties"]
    assert function["Handler"] == package.HANDLER
    assert set(function["Environment"]["Variables"]) == {
        "LAYER_ARN",
        "LAYER_SHA256",
        "SCHEDULE",
        "METRICS_MODE",
        "MAX_CONCURRENCY",
        "DRY_RUN",
        "METRICS_NAMESPACE",
        "ALLOW_AUTO",
    }
    assert template["Parameters"]["Schedule"]["Default"] == DEFAULT_SCHEDULE
    bound = template["Parameters"]["MaxConcurrency"]
    assert (bound["Default"], bound["MaxValue"]) == (DEFAULT_MAX_CONCURRENCY, CONCURRENCY_LIMIT)
    assert template["Parameters"]["MetricsNamespace"]["Default"] == SETTINGS["metrics_namespace"].default
    dashboard = template["Resources"]["FleetDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for metric in ("ColdStart", "InstancesWarmed", FUNCTION_DIMENSION, INVOCATION_DIMENSION):
        assert metric in dashboard
    pattern = template["Resources"]["OnTagChange"]["Properties"]["EventPattern"]
    assert pattern["detail"]["changed-tag-keys"] == [CONCURRENCY_TAG, OPT_OUT_TAG]  # not its own tags


def test_the_sweep_corrects_drift_and_one_failing_function_does_not_stop_the_rest(
    aws: dict[str, Any],
) -> None:
    reconcile = Reconciler()
    drifted = function(aws, "drifted", {CONCURRENCY_TAG: "2"})
    untagged = function(aws, "untagged", {CONCURRENCY_TAG: "2"})
    function(aws, "bare", {CONCURRENCY_TAG: "2"}, layer=False)
    function(aws, "other", {})
    reconcile(tag_event(drifted))
    reconcile(tag_event(untagged))
    aws["scheduler"].delete_schedule(GroupName=SCHEDULE_GROUP, Name="lambdawarmer.drifted")  # drift
    aws["lambda"].untag_resource(Resource=untagged, TagKeys=[CONCURRENCY_TAG])  # its event was missed

    lines = {line["function"].split(":")[-1]: line for line in reconcile(SWEEP)}
    assert sorted(lines) == ["bare", "drifted", "untagged"]  # "other" is not the autopilot's
    assert lines["drifted"]["result"].startswith("applied")
    assert pinged_with(aws, "drifted") == 2
    assert lines["untagged"]["action"] == "disable"
    assert pinged_with(aws, "untagged") is None
    assert lines["bare"]["result"].startswith("error: ")
    assert "no lambdawarmer layer" in lines["bare"]["result"]
    assert {line["result"] for line in reconcile(SWEEP)} >= {"unchanged"}
    assert_role_allows(reconcile.actions)


def test_the_layer_named_is_attached_only_when_its_content_is_the_one_named(aws: dict[str, Any]) -> None:
    reconcile = Reconciler()
    layer = aws["lambda"].publish_layer_version(LayerName="lambdawarmer", Content={"ZipFile": code_zip()})
    arn = function(aws, "bare", {CONCURRENCY_TAG: "1"}, layer=False)
    wrong = reconcile(tag_event(arn), layer_arn=layer["LayerVersionArn"], layer_sha256="0" * 64)
    assert "does not hold the content named" in wrong[0]["result"]
    unlisted = reconcile(tag_event(arn), layer_arn=layer["LayerVersionArn"])  # no LAYER_SHA256
    assert "is no lambdawarmer release this command knows" in unlisted[0]["result"], unlisted
    [line] = reconcile(
        tag_event(arn),
        layer_arn=layer["LayerVersionArn"],
        layer_sha256=zip_sha256(aws, layer["LayerVersionArn"]),
    )
    assert line["result"].startswith("applied"), line
    found = aws["lambda"].get_function_configuration(FunctionName="bare")["Layers"]
    assert [each["Arn"] for each in found] == [layer["LayerVersionArn"]]
    assert_role_allows(reconcile.actions)


def test_an_event_it_does_not_take_is_refused_naming_those_it_takes(aws: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Tag Change on Resource"):
        Reconciler()({"source": "aws.s3", "detail-type": "Object Created"})
    other = {**tag_event("arn:aws:s3:::bucket"), "detail": {"service": "s3", "resource-type": "bucket"}}
    assert Reconciler()(other) == []


def test_the_template_is_cfn_lint_clean() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_stackset_with_service_managed_permissions_is_created_from_the_template(
    aws: dict[str, Any],
) -> None:
    stacks = boto3.client("cloudformation", region_name=REGION)
    stacks.create_stack_set(
        StackSetName="lambdawarmer-autopilot",
        TemplateBody=TEMPLATE.read_text(),
        PermissionModel="SERVICE_MANAGED",
        AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": "CodeBucket", "ParameterValue": "lambdawarmer-autopilot-code"}],
    )
    found = stacks.describe_stack_set(StackSetName="lambdawarmer-autopilot")["StackSet"]
    assert found["PermissionModel"] == "SERVICE_MANAGED"
    assert "AutopilotRole" in found["TemplateBody"]
    assert "DailySweep" in found["TemplateBody"]


def test_the_zip_holds_what_the_handler_imports(tmp_path: Path) -> None:
    path = tmp_path / "autopilot.zip"
    digest = package.build(path)
    assert digest == package.build(tmp_path / "again.zip")  # reproducible
    assert "lambdawarmer_cli/fleet/autopilot.py" in zipfile.ZipFile(path).namelist()
    site = str(Path(botocore.__file__).parents[1])  # boto3 and botocore, as the runtime has them
    probe = (
        f"import sys; sys.path[:0] = [{str(path)!r}, {site!r}]; "
        "import lambdawarmer_cli.fleet.autopilot as a; print(a.__file__); print(callable(a.handler))"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(path / "lambdawarmer_cli/fleet/autopilot.py"), "True"]
