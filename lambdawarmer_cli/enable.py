"""``lambdawarmer enable``: the plan that attaches everything warming needs to a function.

For each function: the layer (added, or replacing an older version of ours, every other layer kept
in its order), the variables (every other kept; an exec wrapper already there is chained through
``WARMER_EXEC_WRAPPER``, never overwritten; a random ``WARMER_TOKEN``), a tag recording the
variables it added, an inline policy on the execution role letting the function invoke itself (and
the CloudWatch permission its metrics mode or auto concurrency needs), and an EventBridge Scheduler
schedule, in its own group, with a role that may invoke that target only. The schedule's input is
the scheduled ping built from the function's own settings (its field names, its token), so the
function takes it for a ping whatever it calls its fields.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from lambdawarmer.aws import error_code
from lambdawarmer.config import SETTINGS, WarmerConfigError
from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH
from lambdawarmer.protocol import AUTO, PingFormat

from .clients import Clients
from .deployed import Deployed
from .layers import wanted_layers
from .names import POLICY_NAME, RECORD_TAG, SCHEDULE_GROUP, SCHEDULER_ROLE_POLICY
from .plan import Plan
from .policies import scheduler_policy, scheduler_trust, self_invoke_policy
from .resources import ChangeError, inline_policy, masked_input, plan_configuration, role_arn, schedule

CHAINED_VARIABLE = SETTINGS["exec_wrapper"].env
TOKEN_VARIABLE = SETTINGS["token"].env
DEFAULT_SCHEDULE = "rate(5 minutes)"
MAX_LAYERS = 5
MAX_ENVIRONMENT_BYTES = 4096
ROLE_PROPAGATION_ATTEMPTS = 10
ROLE_PROPAGATION_PAUSE_S = 2.0


class Options:
    """What ``enable`` was asked for."""

    def __init__(
        self,
        *,
        concurrency: int | str,
        schedule: str = DEFAULT_SCHEDULE,
        layer_arn: str,
        metrics_mode: str | None = None,
        token: bool = True,
    ) -> None:
        self.concurrency = concurrency
        self.schedule = schedule
        self.layer_arn = layer_arn
        self.metrics_mode = metrics_mode
        self.token = token


def wanted_variables(deployed: Deployed, options: Options) -> tuple[dict[str, str], list[str]]:
    """The variables after enable, and the names enable owns (recorded for disable)."""
    variables = deployed.variables
    owned = list(deployed.added_variables)

    def own(name: str, value: str) -> None:
        if name not in variables:
            owned.append(name)
        variables[name] = value

    wrapper = variables.get(EXEC_WRAPPER_VARIABLE)
    if wrapper and wrapper != WRAPPER_PATH and CHAINED_VARIABLE not in variables:
        own(CHAINED_VARIABLE, wrapper)  # theirs runs too, chained behind ours
    if wrapper != WRAPPER_PATH:
        if EXEC_WRAPPER_VARIABLE in variables and EXEC_WRAPPER_VARIABLE not in owned:
            owned.append(EXEC_WRAPPER_VARIABLE)  # replaced: disable puts theirs back from the chained one
        own(EXEC_WRAPPER_VARIABLE, WRAPPER_PATH)
    if options.metrics_mode:
        own(SETTINGS["send_metric"].env, "true")
        if options.metrics_mode != SETTINGS["metrics_mode"].default:
            own(SETTINGS["metrics_mode"].env, options.metrics_mode)
    if options.token and TOKEN_VARIABLE not in variables:
        own(TOKEN_VARIABLE, secrets.token_urlsafe(24))
    size = sum(len(name) + len(value) for name, value in variables.items())
    if size > MAX_ENVIRONMENT_BYTES:
        raise ChangeError(
            f"the function's variables would take {size} bytes, over Lambda's {MAX_ENVIRONMENT_BYTES}: "
            "remove some first"
        )
    return variables, list(dict.fromkeys(owned))


def scheduled_input(deployed: Deployed, variables: dict[str, str], concurrency: int | str) -> str:
    """The schedule's input: the ping the function, with ``variables``, takes for a scheduled ping."""
    try:
        ping_format = PingFormat.of(deployed.settings(variables))
    except WarmerConfigError as error:
        raise ChangeError(
            f"its WARMER_* settings are invalid, so the layer would fail its init: {error}; fix them first "
            "(lambdawarmer config checks them)"
        ) from None
    return json.dumps(ping_format.scheduled_ping(concurrency), separators=(",", ":"))


def plan_enable(clients: Clients, deployed: Deployed, options: Options) -> Plan:
    """Every change enable makes to ``deployed``; raises :class:`ChangeError` when it cannot."""
    if deployed.configuration.get("PackageType") == "Image":
        raise ChangeError(
            "a container image takes no layers: copy the layer into the image and make the wrapper its "
            "ENTRYPOINT (see the README's container images)"
        )
    layers = wanted_layers(deployed.layers, options.layer_arn)
    if len(layers) > MAX_LAYERS:
        raise ChangeError(
            f"the function already has {len(deployed.layers)} layers: with lambdawarmer's it would have "
            f"{len(layers)}, over Lambda's limit of {MAX_LAYERS}; merge or remove one first"
        )
    variables, owned = wanted_variables(deployed, options)
    event = scheduled_input(deployed, variables, options.concurrency)
    plan = Plan(deployed.label)
    plan_configuration(clients, deployed, layers, variables, plan)
    record = " ".join(owned)
    plan.add(
        f"tag {RECORD_TAG}",
        deployed.tags.get(RECORD_TAG),
        record,
        lambda: clients.lambda_.tag_resource(Resource=deployed.arn, Tags={RECORD_TAG: record}),
    )
    policy = self_invoke_policy(
        deployed.arn, metrics_mode=options.metrics_mode, auto=options.concurrency == AUTO
    )
    plan.add(
        f"role {deployed.role_name}: inline policy {POLICY_NAME}",
        inline_policy(clients, deployed.role_name, POLICY_NAME),
        policy,
        lambda: clients.iam.put_role_policy(
            RoleName=deployed.role_name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy)
        ),
    )
    _plan_schedule(clients, deployed, options, event, plan)
    if deployed.qualifier:
        plan.notes.append(
            f"{deployed.label}: configuration changes reach $LATEST only. For them to reach "
            f"{deployed.qualifier}, publish a version and point it there: aws lambda publish-version "
            f"--function-name {deployed.name}, then aws lambda update-alias --function-name "
            f"{deployed.name} --name {deployed.qualifier} --function-version <the new version> (the "
            "schedule already targets it)"
        )
    return plan


def _plan_schedule(clients: Clients, deployed: Deployed, options: Options, event: str, plan: Plan) -> None:
    groups = {group["Name"] for group in clients.scheduler.list_schedule_groups()["ScheduleGroups"]}
    plan.add(
        "schedule group",
        SCHEDULE_GROUP if SCHEDULE_GROUP in groups else None,
        SCHEDULE_GROUP,
        lambda: clients.scheduler.create_schedule_group(Name=SCHEDULE_GROUP),
    )
    role = deployed.scheduler_role_name
    trust, permission = scheduler_trust(deployed.account), scheduler_policy(deployed.target_arn)
    current_permission = (
        inline_policy(clients, role, SCHEDULER_ROLE_POLICY) if role_arn(clients, role) else None
    )
    plan.add(
        f"scheduler role {role}",
        current_permission,
        permission,
        lambda: _put_scheduler_role(clients, role, trust, permission),
    )
    wanted = {
        "expression": options.schedule,
        "state": "ENABLED",
        "target": deployed.target_arn,
        "input": event,
        "flexible window": "OFF",
    }
    current = schedule(clients, deployed.schedule_name)

    def put_schedule() -> None:
        arguments = {
            "Name": deployed.schedule_name,
            "GroupName": SCHEDULE_GROUP,
            "ScheduleExpression": options.schedule,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Description": f"lambdawarmer warm-up ping for {deployed.label}",
            "Target": {"Arn": deployed.target_arn, "RoleArn": role_arn(clients, role), "Input": event},
        }
        call = clients.scheduler.create_schedule if current is None else clients.scheduler.update_schedule
        _retry_while_the_role_propagates(lambda: call(**arguments))

    view = _schedule_view(current)
    if view != wanted:
        shown_wanted = {**wanted, "input": masked_input(wanted["input"])}
        shown_view = None if view is None else {**view, "input": masked_input(view.get("input"))}
        plan.add(
            f"schedule {SCHEDULE_GROUP}/{deployed.schedule_name}", shown_view, shown_wanted, put_schedule
        )


def _schedule_view(found: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the plan compares and shows of a schedule."""
    if found is None:
        return None
    target = found.get("Target", {})
    return {
        "expression": found.get("ScheduleExpression"),
        "state": found.get("State", "ENABLED"),
        "target": target.get("Arn"),
        "input": target.get("Input"),
        "flexible window": found.get("FlexibleTimeWindow", {}).get("Mode"),
    }


def _retry_while_the_role_propagates(call: Any) -> None:
    """A new IAM role takes seconds to be usable; Scheduler refuses it meanwhile (ValidationException)."""
    for attempt in range(ROLE_PROPAGATION_ATTEMPTS):
        try:
            call()
            return
        except Exception as error:
            if error_code(error) != "ValidationException" or attempt == ROLE_PROPAGATION_ATTEMPTS - 1:
                raise
            time.sleep(ROLE_PROPAGATION_PAUSE_S)


def _put_scheduler_role(
    clients: Clients, role: str, trust: dict[str, Any], permission: dict[str, Any]
) -> None:
    if role_arn(clients, role) is None:
        clients.iam.create_role(
            RoleName=role,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description="lambdawarmer: lets EventBridge Scheduler invoke one function's warm-up target",
        )
    clients.iam.put_role_policy(
        RoleName=role, PolicyName=SCHEDULER_ROLE_POLICY, PolicyDocument=json.dumps(permission)
    )
