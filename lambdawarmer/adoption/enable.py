"""``lambdawarmer enable`` and ``disable``: the plan that attaches (or removes) everything warming needs.

enable, for each function: the layer (added, or replacing an older version of ours, every other
layer kept in its order), the variables (every other kept; an exec wrapper already there is
chained through ``WARMER_EXEC_WRAPPER``, never overwritten; a random ``WARMER_TOKEN``), a tag
recording the variables it added, an inline policy on the execution role letting the function
invoke itself (and the CloudWatch permission its metrics mode or auto concurrency needs), and an
EventBridge Scheduler schedule, in its own group, with a role that may invoke that target only.
disable removes exactly those, and restores a chained wrapper as the function's own.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from ..config import SETTINGS
from ..events import AUTO, TOKEN_FIELD
from .deployed import (
    LAYER_NAME,
    MAX_ENVIRONMENT_BYTES,
    MAX_LAYERS,
    POLICY_NAME,
    RECORD_TAG,
    SCHEDULE_GROUP,
    WRAPPER_PATH,
    Clients,
    Deployed,
    layer_name,
    short_name,
    wait_for_update,
)
from .plan import Plan

WRAPPER_VARIABLE = "AWS_LAMBDA_EXEC_WRAPPER"
CHAINED_VARIABLE = SETTINGS["exec_wrapper"].env
TOKEN_VARIABLE = SETTINGS["token"].env
POLICY_VERSION = "2012-10-17"


class EnableError(RuntimeError):
    """The function cannot be enabled as asked (the message says why and what to do)."""


class Options:
    """What ``enable`` was asked for."""

    def __init__(
        self,
        *,
        concurrency: int | str,
        schedule: str = "rate(5 minutes)",
        layer_arn: str,
        metrics_mode: str | None = None,
        token: bool = True,
    ) -> None:
        self.concurrency = concurrency
        self.schedule = schedule
        self.layer_arn = layer_arn
        self.metrics_mode = metrics_mode
        self.token = token


def wanted_layers(current: list[str], ours: str) -> list[str]:
    """Ours in place of an older version of ours (or last), every other layer kept in its order."""
    name = layer_name(ours)
    if any(layer_name(arn) == name for arn in current):
        layers = [ours if layer_name(arn) == name else arn for arn in current]
        return list(dict.fromkeys(layers))
    return [*current, ours]


def wanted_variables(deployed: Deployed, options: Options) -> tuple[dict[str, str], list[str]]:
    """The variables after enable, and the names enable owns (recorded for disable)."""
    variables = deployed.variables
    owned = list(deployed.added_variables)

    def own(name: str, value: str) -> None:
        if name not in variables:
            owned.append(name)
        variables[name] = value

    wrapper = variables.get(WRAPPER_VARIABLE)
    if wrapper and wrapper != WRAPPER_PATH and CHAINED_VARIABLE not in variables:
        own(CHAINED_VARIABLE, wrapper)  # theirs runs too, chained behind ours
    if wrapper != WRAPPER_PATH:
        if WRAPPER_VARIABLE in variables and WRAPPER_VARIABLE not in owned:
            owned.append(WRAPPER_VARIABLE)  # replaced: disable puts theirs back from the chained one
        own(WRAPPER_VARIABLE, WRAPPER_PATH)
    if options.metrics_mode:
        own(SETTINGS["send_metric"].env, "true")
        if options.metrics_mode != SETTINGS["metrics_mode"].default:
            own(SETTINGS["metrics_mode"].env, options.metrics_mode)
    if options.token and TOKEN_VARIABLE not in variables:
        own(TOKEN_VARIABLE, secrets.token_urlsafe(24))
    size = sum(len(name) + len(value) for name, value in variables.items())
    if size > MAX_ENVIRONMENT_BYTES:
        raise EnableError(
            f"the function's variables would take {size} bytes, over Lambda's {MAX_ENVIRONMENT_BYTES}: "
            "remove some first"
        )
    return variables, list(dict.fromkeys(owned))


def self_invoke_policy(deployed: Deployed, options: Options) -> dict[str, Any]:
    """The execution role's inline policy: invoke this function (any qualifier) and nothing else."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "LambdaWarmerSelfInvoke",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": [deployed.arn, f"{deployed.arn}:*"],
        }
    ]
    if options.metrics_mode == "put_metric_data":
        statements.append(
            {
                "Sid": "LambdaWarmerMetrics",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"cloudwatch:namespace": SETTINGS["metrics_namespace"].default}
                },
            }
        )
    if options.concurrency == AUTO:
        statements.append(
            {
                "Sid": "LambdaWarmerAuto",
                "Effect": "Allow",
                "Action": "cloudwatch:GetMetricData",
                "Resource": "*",
            }
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def scheduler_trust(account: str) -> dict[str, Any]:
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


def scheduler_policy(deployed: Deployed) -> dict[str, Any]:
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": deployed.target_arn}
        ],
    }


def ping_event(concurrency: int | str, token: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {
        str(SETTINGS["flag"].default): True,
        str(SETTINGS["concurrency"].default): concurrency,
    }
    if token:
        event[TOKEN_FIELD] = token
    return event


def _inline_policy(clients: Clients, role: str, name: str) -> dict[str, Any] | None:
    try:
        document = clients.iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    except clients.iam.exceptions.NoSuchEntityException:
        return None
    return json.loads(document) if isinstance(document, str) else dict(document)


def _role_arn(clients: Clients, role: str) -> str | None:
    try:
        return str(clients.iam.get_role(RoleName=role)["Role"]["Arn"])
    except clients.iam.exceptions.NoSuchEntityException:
        return None


def _schedule(clients: Clients, name: str) -> dict[str, Any] | None:
    try:
        return dict(clients.scheduler.get_schedule(Name=name, GroupName=SCHEDULE_GROUP))
    except clients.scheduler.exceptions.ResourceNotFoundException:
        return None


def _schedule_view(schedule: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the plan compares and shows of a schedule."""
    if schedule is None:
        return None
    target = schedule.get("Target", {})
    return {
        "expression": schedule.get("ScheduleExpression"),
        "state": schedule.get("State", "ENABLED"),
        "target": target.get("Arn"),
        "input": target.get("Input"),
        "flexible window": schedule.get("FlexibleTimeWindow", {}).get("Mode"),
    }


def plan_enable(clients: Clients, deployed: Deployed, options: Options) -> Plan:
    """Every change enable makes to ``deployed``; raises :class:`EnableError` when it cannot."""
    configuration = deployed.configuration
    if configuration.get("PackageType") == "Image":
        raise EnableError(
            "a container image takes no layers: copy the layer into the image and make the wrapper its "
            "ENTRYPOINT (see the README's container images)"
        )
    layers = wanted_layers(deployed.layers, options.layer_arn)
    if len(layers) > MAX_LAYERS:
        raise EnableError(
            f"the function already has {len(deployed.layers)} layers: with lambdawarmer's it would have "
            f"{len(layers)}, over Lambda's limit of {MAX_LAYERS}; merge or remove one first"
        )
    variables, owned = wanted_variables(deployed, options)
    plan = Plan(deployed.label)
    _plan_configuration(clients, deployed, layers, variables, plan)
    record = " ".join(owned)
    plan.add(
        f"tag {RECORD_TAG}",
        deployed.tags.get(RECORD_TAG),
        record,
        lambda: clients.lambda_.tag_resource(Resource=deployed.arn, Tags={RECORD_TAG: record}),
    )
    policy = self_invoke_policy(deployed, options)
    plan.add(
        f"role {deployed.role_name}: inline policy {POLICY_NAME}",
        _inline_policy(clients, deployed.role_name, POLICY_NAME),
        policy,
        lambda: clients.iam.put_role_policy(
            RoleName=deployed.role_name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy)
        ),
    )
    _plan_schedule(clients, deployed, options, variables.get(TOKEN_VARIABLE), plan)
    if deployed.qualifier:
        plan.notes.append(
            f"{deployed.label}: configuration changes reach $LATEST only. For them to reach "
            f"{deployed.qualifier}, publish a version and point it there: aws lambda publish-version "
            f"--function-name {deployed.name}, then aws lambda update-alias --function-name "
            f"{deployed.name} --name {deployed.qualifier} --function-version <the new version> (the "
            "schedule already targets it)"
        )
    return plan


def _plan_configuration(
    clients: Clients, deployed: Deployed, layers: list[str], variables: dict[str, str], plan: Plan
) -> None:
    """The layers and the variables: shown apart, applied in one update, waited for."""

    def update() -> None:
        clients.lambda_.update_function_configuration(
            FunctionName=deployed.name, Layers=layers, Environment={"Variables": variables}
        )
        status = wait_for_update(clients, deployed.name)
        if status != "Successful":
            raise EnableError(f"the configuration update ended {status}")

    plan.add("layers", deployed.layers, layers, update)
    # When the layers change too, their update carries the variables.
    plan.add("variables", deployed.variables, variables, update if layers == deployed.layers else _nothing)


def _nothing() -> None:
    """The variables go in the same update as the layers."""


def _plan_schedule(
    clients: Clients, deployed: Deployed, options: Options, token: str | None, plan: Plan
) -> None:
    groups = {group["Name"] for group in clients.scheduler.list_schedule_groups()["ScheduleGroups"]}
    plan.add(
        "schedule group",
        SCHEDULE_GROUP if SCHEDULE_GROUP in groups else None,
        SCHEDULE_GROUP,
        lambda: clients.scheduler.create_schedule_group(Name=SCHEDULE_GROUP),
    )
    role = short_name(
        "lambdawarmer-scheduler", deployed.name, *([deployed.qualifier] if deployed.qualifier else [])
    )
    trust, permission = scheduler_trust(deployed.account), scheduler_policy(deployed)
    current_permission = _inline_policy(clients, role, "invoke-target") if _role_arn(clients, role) else None
    plan.add(
        f"scheduler role {role}",
        current_permission,
        permission,
        lambda: _put_scheduler_role(clients, role, trust, permission),
    )
    event = json.dumps(ping_event(options.concurrency, token), separators=(",", ":"))
    wanted = {
        "expression": options.schedule,
        "state": "ENABLED",
        "target": deployed.target_arn,
        "input": event,
        "flexible window": "OFF",
    }
    current = _schedule(clients, deployed.schedule_name)

    def put_schedule() -> None:
        arguments = {
            "Name": deployed.schedule_name,
            "GroupName": SCHEDULE_GROUP,
            "ScheduleExpression": options.schedule,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Description": f"lambdawarmer warm-up ping for {deployed.label}",
            "Target": {"Arn": deployed.target_arn, "RoleArn": _role_arn(clients, role), "Input": event},
        }
        call = clients.scheduler.create_schedule if current is None else clients.scheduler.update_schedule
        _retry_while_the_role_propagates(lambda: call(**arguments))

    view = _schedule_view(current)
    shown_wanted = {**wanted, "input": _masked_input(wanted["input"])}
    shown_view = None if view is None else {**view, "input": _masked_input(view.get("input"))}
    if view != wanted:
        plan.add(
            f"schedule {SCHEDULE_GROUP}/{deployed.schedule_name}", shown_view, shown_wanted, put_schedule
        )


def _retry_while_the_role_propagates(call: Any, attempts: int = 10, pause_s: float = 2.0) -> None:
    """A new IAM role takes seconds to be usable; Scheduler refuses it meanwhile (ValidationException)."""
    import time

    from botocore.exceptions import ClientError

    for attempt in range(attempts):
        try:
            call()
            return
        except ClientError as error:
            if (
                error.response.get("Error", {}).get("Code") != "ValidationException"
                or attempt == attempts - 1
            ):
                raise
            time.sleep(pause_s)


def _masked_input(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        event = json.loads(text)
    except ValueError:
        return text
    if isinstance(event, dict) and TOKEN_FIELD in event:
        event[TOKEN_FIELD] = f"<hidden, {len(str(event[TOKEN_FIELD]))} characters>"
    return json.dumps(event, separators=(",", ":"))


def _put_scheduler_role(
    clients: Clients, role: str, trust: dict[str, Any], permission: dict[str, Any]
) -> None:
    if _role_arn(clients, role) is None:
        clients.iam.create_role(
            RoleName=role,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description="lambdawarmer: lets EventBridge Scheduler invoke one function's warm-up target",
        )
    clients.iam.put_role_policy(
        RoleName=role, PolicyName="invoke-target", PolicyDocument=json.dumps(permission)
    )


def plan_disable(clients: Clients, deployed: Deployed) -> Plan:
    """Every change disable makes: exactly what enable added goes, nothing else."""
    plan = Plan(deployed.label)
    layers = [arn for arn in deployed.layers if layer_name(arn) != LAYER_NAME]
    variables = deployed.variables
    owned = deployed.added_variables
    if CHAINED_VARIABLE in owned and CHAINED_VARIABLE in variables:
        variables[WRAPPER_VARIABLE] = variables.pop(CHAINED_VARIABLE)  # theirs is the function's own again
        owned = [name for name in owned if name not in (CHAINED_VARIABLE, WRAPPER_VARIABLE)]
    if not owned and variables.get(WRAPPER_VARIABLE) == WRAPPER_PATH:
        owned = [WRAPPER_VARIABLE]  # enabled by hand: only the wrapper is surely ours
    for name in owned:
        variables.pop(name, None)
    _plan_configuration(clients, deployed, layers, variables, plan)
    plan.add(
        f"tag {RECORD_TAG}",
        deployed.tags.get(RECORD_TAG),
        None,
        lambda: clients.lambda_.untag_resource(Resource=deployed.arn, TagKeys=[RECORD_TAG]),
    )
    plan.add(
        f"role {deployed.role_name}: inline policy {POLICY_NAME}",
        _inline_policy(clients, deployed.role_name, POLICY_NAME),
        None,
        lambda: clients.iam.delete_role_policy(RoleName=deployed.role_name, PolicyName=POLICY_NAME),
    )
    current = _schedule(clients, deployed.schedule_name)
    plan.add(
        f"schedule {SCHEDULE_GROUP}/{deployed.schedule_name}",
        None if current is None else _masked_input(current["Target"].get("Input")),
        None,
        lambda: clients.scheduler.delete_schedule(Name=deployed.schedule_name, GroupName=SCHEDULE_GROUP),
    )
    role = short_name(
        "lambdawarmer-scheduler", deployed.name, *([deployed.qualifier] if deployed.qualifier else [])
    )
    arn = _role_arn(clients, role)
    plan.add(f"scheduler role {role}", arn, None, lambda: _delete_role(clients, role))
    return plan


def _delete_role(clients: Clients, role: str) -> None:
    for policy in clients.iam.list_role_policies(RoleName=role)["PolicyNames"]:
        clients.iam.delete_role_policy(RoleName=role, PolicyName=policy)
    clients.iam.delete_role(RoleName=role)


def new_layer_version(clients: Clients, zip_path: str) -> str:
    """The layer version holding ``zip_path``: the newest of ours if it already does, else a new one."""
    import base64
    import hashlib
    from pathlib import Path

    data = Path(zip_path).read_bytes()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    versions = clients.lambda_.list_layer_versions(LayerName=LAYER_NAME).get("LayerVersions", [])
    if versions:
        newest = clients.lambda_.get_layer_version(LayerName=LAYER_NAME, VersionNumber=versions[0]["Version"])
        if newest.get("Content", {}).get("CodeSha256") == digest:
            return str(versions[0]["LayerVersionArn"])
    published = clients.lambda_.publish_layer_version(
        LayerName=LAYER_NAME,
        Description=f"lambdawarmer: set {WRAPPER_VARIABLE}={WRAPPER_PATH}",
        Content={"ZipFile": data},
        CompatibleArchitectures=["x86_64", "arm64"],
    )
    return str(published["LayerVersionArn"])


def newest_layer_version(clients: Clients) -> str | None:
    versions = clients.lambda_.list_layer_versions(LayerName=LAYER_NAME).get("LayerVersions", [])
    return str(versions[0]["LayerVersionArn"]) if versions else None
