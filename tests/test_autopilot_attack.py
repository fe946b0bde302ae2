"""The autopilot attacked, and run by an unlucky operator: a tenant who may only tag, a pipeline
deploying while it reconciles, a user's own settings before the tag, a dry run, a rollback of its
stack. Against moto's server, as tests/test_autopilot.py runs it."""

from __future__ import annotations

import io
import json
import re
from types import SimpleNamespace
from typing import Any

from lambdawarmer_cli.clients import Clients
from lambdawarmer_cli.fleet.autopilot import AUTOPILOT_TAG, CONCURRENCY_TAG, Autopilot, own_names
from lambdawarmer_cli.fleet.scope import Account, session
from lambdawarmer_cli.iam import allows
from lambdawarmer_cli.names import AUTOPILOT_VARIABLE, SCHEDULE_GROUP

from .control_plane import REGION, code_zip, run
from .templates import cloudformation
from .test_autopilot import (
    ACCOUNT,
    SERVICES,
    SWEEP,
    TEMPLATE,
    UNGATED,
    Reconciler,
    function,
    pinged_with,
    role_actions,
    tag_event,
    tags,
    variables,
    zip_sha256,
)

READS = ("Get", "List")
"""How the name of every call that changes nothing begins (the autopilot's reads)."""


def test_a_dry_run_makes_only_reads_whatever_it_would_do(aws: dict[str, Any]) -> None:
    """Enable, a new N and disable planned in a dry run: every call made is a read."""
    reconcile = Reconciler()
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    layer = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:lambdawarmer:1"
    dry = Reconciler()
    checked = {"layer_arn": layer, "layer_sha256": zip_sha256(aws, layer)}
    assert dry(tag_event(arn), dry_run=True, **checked)[0]["result"].startswith("would change")
    reconcile(tag_event(arn))
    aws["lambda"].tag_resource(Resource=arn, Tags={CONCURRENCY_TAG: "auto"})
    assert dry(SWEEP, dry_run=True)[0]["result"].startswith("would change")
    aws["lambda"].untag_resource(Resource=arn, TagKeys=[CONCURRENCY_TAG])
    [line] = dry(tag_event(arn), dry_run=True)
    assert (line["action"], line["result"][:12]) == ("disable", "would change"), line
    writes = sorted(a for a in dry.actions if not a.split(":")[1].startswith(READS))
    assert not writes, writes
    assert pinged_with(aws, "orders") == 2


def test_the_users_own_variables_layers_and_wrapper_come_back_as_they_were(aws: dict[str, Any]) -> None:
    """A user who set their own variables, layer, exec wrapper and WARMER_* settings before tagging:
    the autopilot's disable leaves exactly those, values included, and prints none of them."""
    reconcile = Reconciler()
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    tools = aws["lambda"].publish_layer_version(LayerName="tools", Content={"ZipFile": code_zip()})
    theirs = tools["LayerVersionArn"]
    ours = aws["lambda"].get_function_configuration(FunctionName="orders")["Layers"][0]["Arn"]
    own = {
        "APP_SECRET": "s3cr3t-of-the-user",
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument",
        "WARMER_TOKEN": "the-users-own-token-0123456789",
        "WARMER_METRICS_NAMESPACE": "Shop",
        "WARMER_AUTO_MAX": "4",
    }
    aws["lambda"].update_function_configuration(
        FunctionName="orders", Layers=[theirs, ours], Environment={"Variables": own}
    )
    [line] = reconcile(tag_event(arn), metrics_mode="emf")
    assert line["result"].startswith("applied"), line
    assert variables(aws, "orders")["WARMER_EXEC_WRAPPER"] == "/opt/otel-instrument"
    aws["lambda"].tag_resource(Resource=arn, Tags={CONCURRENCY_TAG: "0"})
    assert reconcile(tag_event(arn))[0]["action"] == "disable"
    assert variables(aws, "orders") == own
    found = aws["lambda"].get_function_configuration(FunctionName="orders")["Layers"]
    assert [layer["Arn"] for layer in found] == [theirs]
    logged = reconcile.log.getvalue()
    assert "s3cr3t" not in logged
    assert own["WARMER_TOKEN"] not in logged


def test_a_copy_of_an_enabled_functions_configuration_is_not_the_autopilots(aws: dict[str, Any]) -> None:
    """A function created from another's configuration (a pipeline cloning a service,
    ``get-function-configuration`` into ``create-function``) carries the other's mark: it is not
    taken for one the autopilot enabled (with the mark one constant, a tag on the copy had the
    autopilot disable warming it never set up), and is left alone as enabled by someone else."""
    reconcile = Reconciler()
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    assert reconcile(tag_event(arn))[0]["result"].startswith("applied")
    source = aws["lambda"].get_function_configuration(FunctionName="orders")
    copy = function(aws, "orders-copy", {})
    aws["lambda"].update_function_configuration(
        FunctionName="orders-copy",
        Layers=[layer["Arn"] for layer in source["Layers"]],
        Environment=source["Environment"],
    )
    assert variables(aws, "orders-copy")[AUTOPILOT_VARIABLE] == variables(aws, "orders")[AUTOPILOT_VARIABLE]
    aws["lambda"].tag_resource(Resource=copy, Tags={CONCURRENCY_TAG: "0"})
    [line] = reconcile(tag_event(copy))
    assert line["action"] == "none", line
    assert variables(aws, "orders-copy") == dict(source["Environment"]["Variables"])


def test_the_autopilots_log_outlives_its_stack() -> None:
    """Its log (one JSON line per change it made) is the only account of what it did: rolling the
    stack back must not delete it with the function."""
    template = cloudformation(TEMPLATE)
    logs = template["Resources"]["AutopilotLogs"]
    assert (logs.get("DeletionPolicy"), logs.get("UpdateReplacePolicy")) == ("Retain", "Retain")


def granted(statement: dict[str, Any]) -> dict[str, Any]:
    """A statement of the template's role with its ``Fn::Sub`` resources as they are in this account."""
    values = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}

    def resolved(resource: Any) -> str:
        text = resource["Fn::Sub"] if isinstance(resource, dict) else str(resource)
        for name, value in values.items():
            text = text.replace("${" + name + "}", value)
        return text

    resources = statement["Resource"]
    return {
        **statement,
        "Resource": [resolved(r) for r in (resources if isinstance(resources, list) else [resources])],
    }


def resource_of(service: str, params: dict[str, Any]) -> str | None:
    """The ARN IAM authorizes a call on (None: a call on no one resource, granted on ``*``)."""
    if service == "iam" and "RoleName" in params:
        return f"arn:aws:iam::{ACCOUNT}:role/{params['RoleName']}"
    if service == "scheduler" and "Name" in params and "GroupName" in params:
        return f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{params['GroupName']}/{params['Name']}"
    if service == "lambda" and ("FunctionName" in params or "Resource" in params):
        named = str(params.get("FunctionName") or params["Resource"])
        return named if named.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{named}"
    return None


Call = tuple[str, "str | None", "list[str] | None"]
"""An AWS call as IAM authorizes it: its action, its resource and the tag keys it writes."""


def recorded(calls: list[Call]) -> Clients:
    """Clients in the autopilot's account and region that record each call they make in ``calls``."""

    def called(event_name: str, params: dict[str, Any], **_: Any) -> None:
        service, operation = event_name.split(".")[1:3]
        keys = params.get("TagKeys") or (
            list(params["Tags"]) if isinstance(params.get("Tags"), dict) else None
        )
        calls.append((f"{SERVICES[service]}:{operation}", resource_of(service, params), keys))

    made = session(None, Account(ACCOUNT), REGION)
    made.events.register("before-parameter-build", called)
    return Clients(session=made)


def tag_keys_allowed(statement: dict[str, Any], keys: list[str] | None) -> bool:
    """Whether the statement's aws:TagKeys condition (ForAllValues:StringEquals) lets ``keys`` be written."""
    condition = statement.get("Condition")
    if condition is None:
        return True
    allowed = condition["ForAllValues:StringEquals"]["aws:TagKeys"]
    return keys is not None and set(keys) <= set(allowed)


def refused_calls(calls: list[Call], *, grants_on_execution_roles: bool) -> list[str]:
    """The calls the template's role does not grant, on their resource, with their tag keys."""
    statements = [granted(s) for s in role_actions(grants_on_execution_roles=grants_on_execution_roles)]
    return sorted(
        {
            f"{action} on {resource} (tags {keys})"
            for action, resource, keys in calls
            if action not in UNGATED
            and not any(allows(s, action, resource or "*") and tag_keys_allowed(s, keys) for s in statements)
        }
    )


def test_every_call_the_autopilot_makes_is_granted_on_its_resource(aws: dict[str, Any]) -> None:
    """Its role's resources, not only its actions: enable, a new N, a drifted schedule, disable, and
    disable of a function whose schedule is already gone (which looks for a stack's schedule in
    Scheduler's default group). IAM answers AccessDenied before it says a role or schedule does not
    exist, so a read the role does not grant fails the whole function. It tags only with the keys
    of its own records, the only ones its role may write."""
    calls: list[Call] = []
    autopilot = Autopilot(
        recorded(calls), layer_arn=None, layer_sha256=None, allow_auto=True, dry_run=False, log=io.StringIO()
    )
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    assert autopilot.reconcile(arn)["result"].startswith("applied")
    aws["lambda"].tag_resource(Resource=arn, Tags={CONCURRENCY_TAG: "auto"})
    assert autopilot.reconcile(arn)["result"].startswith("applied")
    aws["scheduler"].delete_schedule(GroupName=SCHEDULE_GROUP, Name="lambdawarmer.orders")  # drift
    aws["lambda"].untag_resource(Resource=arn, TagKeys=[CONCURRENCY_TAG])
    assert autopilot.reconcile(arn)["result"].startswith("applied")
    assert any(keys for _, _, keys in calls)
    refused = refused_calls(calls, grants_on_execution_roles=True)
    assert not refused, refused


def test_without_put_metric_data_or_allow_auto_it_writes_no_policy_on_execution_roles(
    aws: dict[str, Any],
) -> None:
    """MetricsMode emf and AllowAuto false: the role has no iam:PutRolePolicy/DeleteRolePolicy on
    execution roles, and enabling, a new N and disabling need none; a tag ``auto`` is refused."""
    calls: list[Call] = []
    autopilot = Autopilot(
        recorded(calls),
        layer_arn=None,
        layer_sha256=None,
        metrics_mode="emf",
        dry_run=False,
        log=io.StringIO(),
    )
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    assert autopilot.reconcile(arn)["result"].startswith("applied")
    aws["lambda"].tag_resource(Resource=arn, Tags={CONCURRENCY_TAG: "auto"})
    line = autopilot.reconcile(arn)
    assert line["result"].startswith("refused: lambdawarmer:concurrency=auto needs"), line
    assert "AllowAuto" in line["result"]
    assert pinged_with(aws, "orders") == 2
    aws["lambda"].tag_resource(Resource=arn, Tags={CONCURRENCY_TAG: "3"})
    assert autopilot.reconcile(arn)["result"].startswith("applied")
    aws["lambda"].untag_resource(Resource=arn, TagKeys=[CONCURRENCY_TAG])
    assert autopilot.reconcile(arn)["result"].startswith("applied")
    assert pinged_with(aws, "orders") is None
    refused = refused_calls(calls, grants_on_execution_roles=False)
    assert not refused, refused


def test_the_autopilot_refuses_to_act_on_its_own_function(aws: dict[str, Any]) -> None:
    """Tagged, its own function (named by its invocation's ARN or its environment) is not changed."""
    arn = function(aws, "autopilot", {CONCURRENCY_TAG: "2"})
    by_context = own_names({}, SimpleNamespace(invoked_function_arn=f"{arn}:live"))
    by_environment = own_names({"AWS_LAMBDA_FUNCTION_NAME": "autopilot"}, None)
    for itself in (by_context, by_environment):
        [line] = Reconciler()(tag_event(arn), itself=itself)
        assert line["result"] == "refused: it is the autopilot's own function: not acted on", line
    assert pinged_with(aws, "autopilot") is None
    assert AUTOPILOT_VARIABLE not in variables(aws, "autopilot")


def test_a_deploy_that_resets_the_environment_is_enabled_again_and_disabled_when_untagged(
    aws: dict[str, Any],
) -> None:
    """The function's own pipeline deploys its template (its variables, its layers): the wrapper,
    the token and the mark in its configuration are gone; the schedule, its role and the tags stay.
    The schedule's description carries the mark, so the function is still the autopilot's: the
    sweep enables it again (no ping reaches the handler), and removing the tag disables it."""
    reconcile = Reconciler()
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    assert reconcile(tag_event(arn))[0]["result"].startswith("applied")
    layers = [
        layer["Arn"] for layer in aws["lambda"].get_function_configuration(FunctionName="orders")["Layers"]
    ]
    aws["lambda"].update_function_configuration(  # the pipeline's deploy, from its own template
        FunctionName="orders", Layers=layers, Environment={"Variables": {"APP": "v2"}}
    )
    [line] = reconcile(SWEEP)
    assert line["action"] == "enable", line
    assert line["result"].startswith("applied"), line
    assert variables(aws, "orders")[AUTOPILOT_VARIABLE] == arn
    assert variables(aws, "orders")["APP"] == "v2"
    assert pinged_with(aws, "orders") == 2
    aws["lambda"].update_function_configuration(  # deployed again, then the team wants it off
        FunctionName="orders", Layers=layers, Environment={"Variables": {"APP": "v3"}}
    )
    aws["lambda"].untag_resource(Resource=arn, TagKeys=[CONCURRENCY_TAG])
    [line] = reconcile(tag_event(arn))
    assert line["action"] == "disable", line
    assert pinged_with(aws, "orders") is None


def test_a_schedule_naming_the_mark_but_pinging_another_function_is_no_proof(aws: dict[str, Any]) -> None:
    """The schedule proves ownership only when it targets the function itself."""
    reconcile = Reconciler()
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    other = function(aws, "other", {})
    assert reconcile(tag_event(arn))[0]["result"].startswith("applied")
    found = aws["scheduler"].get_schedule(GroupName=SCHEDULE_GROUP, Name="lambdawarmer.orders")
    aws["scheduler"].update_schedule(
        Name=found["Name"],
        GroupName=SCHEDULE_GROUP,
        ScheduleExpression=found["ScheduleExpression"],
        FlexibleTimeWindow=found["FlexibleTimeWindow"],
        Description=found["Description"],
        Target={**found["Target"], "Arn": other},
    )
    layers = [
        layer["Arn"] for layer in aws["lambda"].get_function_configuration(FunctionName="orders")["Layers"]
    ]
    aws["lambda"].update_function_configuration(
        FunctionName="orders", Layers=layers, Environment={"Variables": {"APP": "v2"}}
    )
    [line] = reconcile(SWEEP)
    assert line["action"] == "none", line
    assert "enabled by someone else" in line["result"], line


def policies_of(aws: dict[str, Any], role: str) -> list[str]:
    """The inline policies of ``role``, as JSON text."""
    iam = aws["iam"]
    return [
        json.dumps(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]


def test_a_functions_own_variables_do_not_choose_what_its_role_is_granted(aws: dict[str, Any]) -> None:
    """Whoever may update one function's configuration (and tag it) does not have the autopilot
    grant its execution role cloudwatch:PutMetricData into a namespace of their choosing: in emf
    mode it grants none, whatever WARMER_METRICS_MODE says; in put_metric_data mode, only its
    template's MetricsNamespace, set on the function, and a function of another namespace is refused."""
    arn = function(aws, "orders", {CONCURRENCY_TAG: "2"})
    layers = [
        layer["Arn"] for layer in aws["lambda"].get_function_configuration(FunctionName="orders")["Layers"]
    ]
    chosen = {"WARMER_METRICS_MODE": "put_metric_data", "WARMER_METRICS_NAMESPACE": "Billing"}
    aws["lambda"].update_function_configuration(
        FunctionName="orders", Layers=layers, Environment={"Variables": chosen}
    )
    [line] = Reconciler()(tag_event(arn), metrics_mode="emf")
    assert line["result"].startswith("applied"), line
    assert not any("Billing" in text for text in policies_of(aws, "app")), line
    other = function(aws, "other", {CONCURRENCY_TAG: "2"})
    aws["lambda"].update_function_configuration(
        FunctionName="other",
        Layers=layers,
        Environment={"Variables": {"WARMER_METRICS_NAMESPACE": "Billing"}},
    )
    [line] = Reconciler()(tag_event(other), metrics_mode="put_metric_data", metrics_namespace="Fleet")
    assert line["result"] == (
        "refused: its own WARMER_METRICS_NAMESPACE=Billing is not Fleet, the one namespace this autopilot "
        "grants cloudwatch:PutMetricData into (its template's MetricsNamespace): nothing changed"
    ), line
    assert pinged_with(aws, "other") is None
    fresh = function(aws, "fresh", {CONCURRENCY_TAG: "2"})
    [line] = Reconciler()(tag_event(fresh), metrics_mode="put_metric_data", metrics_namespace="Fleet")
    assert line["result"].startswith("applied"), line
    assert variables(aws, "fresh")["WARMER_METRICS_NAMESPACE"] == "Fleet"
    granted_text = policies_of(aws, "app")
    assert any("Fleet" in text for text in granted_text)
    assert not any("Billing" in text for text in granted_text)


def test_the_guides_rollback_disables_only_what_the_autopilot_enabled(aws: dict[str, Any]) -> None:
    """The guide's one-step rollback (``fleet disable --tag lambdawarmer:autopilot
    --autopilot-owned``) selects by a tag anyone allowed lambda:TagResource may forge: a tenant who
    forges it on a function a person enabled does not have that person's warming taken away; that
    function is a row saying it was left, and the autopilot's own (its mark in the configuration,
    or, after a deploy reset its variables, in its schedule) are disabled."""
    reconcile = Reconciler()
    ours = function(aws, "ours", {CONCURRENCY_TAG: "2"})
    redeployed = function(aws, "redeployed", {CONCURRENCY_TAG: "2"})
    for arn in (ours, redeployed):
        assert reconcile(tag_event(arn))[0]["result"].startswith("applied")
    layers = [
        layer["Arn"]
        for layer in aws["lambda"].get_function_configuration(FunctionName="redeployed")["Layers"]
    ]
    aws["lambda"].update_function_configuration(
        FunctionName="redeployed", Layers=layers, Environment={"Variables": {"APP": "v2"}}
    )  # the team's deploy: the autopilot's mark is left only in the schedule's description
    theirs = function(aws, "theirs", {"owner": "cli"})
    status, output = run("fleet", "enable", "--tag", "owner=cli", "--concurrency", "4", "--yes")
    assert status == 0, output
    aws["lambda"].tag_resource(Resource=theirs, Tags={AUTOPILOT_TAG: "enabled concurrency=4"})  # forged
    status, output = run("fleet", "disable", "--tag", AUTOPILOT_TAG, "--autopilot-owned", "--yes")
    assert status == 0, output
    assert pinged_with(aws, "theirs") == 4, output
    assert pinged_with(aws, "ours") is None, output
    assert pinged_with(aws, "redeployed") is None, output
    assert AUTOPILOT_TAG not in tags(aws, ours), output  # its record goes with its warming
    assert AUTOPILOT_TAG in tags(aws, theirs), output
    rows = {
        cells[2]: cells[4:]
        for cells in (re.split(r" {2,}", line) for line in output.splitlines())
        if len(cells) == 6
    }
    assert rows["theirs"][0] == "WARN", output
    assert rows["theirs"][1].startswith("left: not enabled by the autopilot"), output
    assert "3 function(s): 2 OK, 1 WARN, 0 FAIL" in output, output
