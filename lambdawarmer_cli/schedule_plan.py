"""What ``enable`` plans for a target's warm-up schedule: the Scheduler group, the role the schedule
invokes with (trusted by Scheduler for that schedule only, allowed to invoke the target only), and
the schedule, created or brought to what it should be."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from .clients import error_code
from .iam import scheduler_policy, scheduler_trust
from .names import SCHEDULE_GROUP, SCHEDULER_ROLE_POLICY, schedule_description
from .ping_targets import ping_target
from .resources import inline_policy, masked_input, role_arn, schedule

if TYPE_CHECKING:
    from .clients import Clients
    from .deployed import Deployed
    from .plan import Plan

ROLE_PROPAGATION_ATTEMPTS = 10
ROLE_PROPAGATION_PAUSE_S = 2.0


def plan_schedule(
    clients: Clients,
    deployed: Deployed,
    event: str,
    plan: Plan,
    *,
    expression: str,
    tenants: dict[str, int] | None,
    mark: str | None = None,
) -> None:
    """Plan the schedule that sends ``event`` to ``deployed`` on ``expression`` (through a tenant of
    ``tenants``, when named): its group, its role, the schedule itself (its description carrying
    ``mark``, the autopilot's mark of ownership, when given)."""
    pages = clients.scheduler.get_paginator("list_schedule_groups").paginate()
    groups = {group["Name"] for page in pages for group in page["ScheduleGroups"]}
    plan.add(
        "schedule group",
        SCHEDULE_GROUP if SCHEDULE_GROUP in groups else None,
        SCHEDULE_GROUP,
        lambda: _create_group(clients),
    )
    role = deployed.scheduler_role_name
    trust = scheduler_trust(deployed.account, deployed.schedule_arn)
    permission = scheduler_policy(deployed.target_arn)
    current_role = _scheduler_role(clients, role)
    plan.add(
        f"scheduler role {role}",
        current_role,
        {"trust": trust, "permission": permission},
        lambda: _put_scheduler_role(clients, role, trust, permission),
    )
    state = "DISABLED" if plan.not_ready else "ENABLED"
    target, target_input = ping_target(deployed, event, tenants)
    wanted = {
        "expression": expression,
        "state": state,
        "target": target,
        "input": target_input,
        "flexible window": "OFF",
        "description": schedule_description(deployed.label, mark),
    }
    current = schedule(clients, deployed.schedule_name)

    def put_schedule() -> None:
        arguments = {
            "Name": deployed.schedule_name,
            "GroupName": SCHEDULE_GROUP,
            "ScheduleExpression": expression,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": state,
            "Description": wanted["description"],
            "Target": {"Arn": target, "RoleArn": role_arn(clients, role), "Input": target_input},
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


def _create_group(clients: Clients) -> None:
    """The schedule group made; one made meanwhile (for another function of a fleet or of the
    autopilot's sweep, worked in parallel) is as good: Scheduler's ConflictException is not an error."""
    try:
        clients.scheduler.create_schedule_group(Name=SCHEDULE_GROUP)
    except Exception as error:
        if error_code(error) != "ConflictException":
            raise


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
        "description": found.get("Description"),
    }


def _scheduler_role(clients: Clients, role: str) -> dict[str, Any] | None:
    """A schedule's role as the plan compares it: its trust and its permission (None: no role)."""
    try:
        found = clients.iam.get_role(RoleName=role)["Role"]
    except clients.iam.exceptions.NoSuchEntityException:
        return None
    trust = found.get("AssumeRolePolicyDocument")
    return {
        "trust": json.loads(trust) if isinstance(trust, str) else trust,
        "permission": inline_policy(clients, role, SCHEDULER_ROLE_POLICY),
    }


def _retry_while_the_role_propagates(call: Any) -> None:
    """A new IAM role takes seconds to be usable; Scheduler refuses it meanwhile (ValidationException).
    The expression was checked before anything changed, so this is the role."""
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
            Description="lambdawarmer: lets one EventBridge Scheduler schedule invoke its warm-up target",
        )
    else:
        clients.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))
    clients.iam.put_role_policy(
        RoleName=role, PolicyName=SCHEDULER_ROLE_POLICY, PolicyDocument=json.dumps(permission)
    )
