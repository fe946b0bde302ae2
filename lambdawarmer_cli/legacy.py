"""What versions up to 1.3 left beside a target under names that collided, removed when it is surely
this target's alone: a schedule aimed at it and a scheduler role allowed to invoke it alone (by
``enable`` and ``disable``), and, by ``disable`` only, an execution-role policy naming this function
alone once no schedule in the group aims at the function any more. Anything else stays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdawarmer.function_ref import parse_function_ref

from .iam import statements
from .names import LEGACY_POLICY_NAME, SCHEDULE_GROUP, SCHEDULER_ROLE_POLICY, legacy_names
from .resources import delete_role, inline_policy, role_arn, schedule

if TYPE_CHECKING:
    from .clients import Clients
    from .deployed import Deployed
    from .plan import Plan

LEGACY = "(lambdawarmer 1.3's name)"


def _invoked(document: dict[str, Any] | None) -> set[str]:
    """The resources a policy's ``lambda:InvokeFunction`` statements name."""
    found: set[str] = set()
    for statement in statements(document or {}):
        actions = statement.get("Action", [])
        if "lambda:InvokeFunction" in ([actions] if isinstance(actions, str) else actions):
            resource = statement.get("Resource", [])
            found.update([resource] if isinstance(resource, str) else resource)
    return found


def _other_schedules_aim_at(clients: Clients, deployed: Deployed, leaving: set[str]) -> bool:
    """Whether a schedule of the group, other than ``leaving``, invokes the function."""
    pages = clients.scheduler.get_paginator("list_schedules").paginate(GroupName=SCHEDULE_GROUP)
    for page in pages:
        for found in page.get("Schedules", []):
            arn = found.get("Target", {}).get("Arn", "")
            mine = arn.startswith("arn:") and parse_function_ref(arn).function == deployed.arn
            if found["Name"] not in leaving and mine:
                return True
    return False


def plan_legacy_removal(clients: Clients, deployed: Deployed, plan: Plan, *, disabling: bool) -> None:
    """Plan the removal of what an older lambdawarmer made for ``deployed`` alone."""
    schedule_name, role = legacy_names(deployed.ref)
    found = schedule(clients, schedule_name)
    if found is not None and found.get("Target", {}).get("Arn") == deployed.target_arn:
        plan.add(
            f"schedule {SCHEDULE_GROUP}/{schedule_name} {LEGACY}",
            deployed.target_arn,
            None,
            lambda: clients.scheduler.delete_schedule(Name=schedule_name, GroupName=SCHEDULE_GROUP),
        )
    if role_arn(clients, role) and _invoked(inline_policy(clients, role, SCHEDULER_ROLE_POLICY)) == {
        deployed.target_arn
    }:
        plan.add(f"scheduler role {role} {LEGACY}", role, None, lambda: delete_role(clients, role))
    if not disabling:
        return
    invoked = _invoked(inline_policy(clients, deployed.role_name, LEGACY_POLICY_NAME))
    mine = {deployed.arn, f"{deployed.arn}:*"}
    leaving = {schedule_name, deployed.schedule_name}
    if invoked and invoked <= mine and not _other_schedules_aim_at(clients, deployed, leaving):
        plan.add(
            f"role {deployed.role_name}: inline policy {LEGACY_POLICY_NAME} {LEGACY}",
            sorted(invoked),
            None,
            lambda: clients.iam.delete_role_policy(
                RoleName=deployed.role_name, PolicyName=LEGACY_POLICY_NAME
            ),
        )
