"""What ``status`` checks of the role a target's schedule invokes with, which the schedule needs to fire.

That it exists, that EventBridge Scheduler may assume it for that schedule (``aws:SourceArn`` and
``aws:SourceAccount``, as ``enable`` makes it), and that it may invoke the target. Without any of
these the schedule never fires, though the schedule itself looks right."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

from .iam import allows, role_statements, statements
from .resources import schedule
from .setup_checks import FAIL, OK, WARN, Check

if TYPE_CHECKING:
    from .clients import Clients
    from .deployed import Deployed

SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
SOURCE_KEYS = ("aws:SourceArn", "aws:SourceAccount")
MATCHING = {"StringEquals": False, "ArnEquals": False, "StringLike": True, "ArnLike": True}
"""The condition operators a trust is judged by: whether each takes wildcards."""


def check_schedule_role(clients: Clients, deployed: Deployed) -> Check | None:
    """The role the schedule invokes with: there, trusted by Scheduler for this schedule (as
    ``enable`` makes it: ``aws:SourceArn`` and ``aws:SourceAccount``), allowed to invoke the target
    (its Allow statements, as :func:`check_self_invoke` reads them). None: no schedule (that check
    FAILs)."""
    found = schedule(clients, deployed.schedule_name)
    if found is None:
        return None
    arn = str(found.get("Target", {}).get("RoleArn", ""))
    role = arn.rsplit("/", 1)[-1]
    try:
        trust = clients.iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    except clients.iam.exceptions.NoSuchEntityException:
        return Check(
            "schedule role", FAIL, f"{arn} does not exist: the schedule cannot fire; run lambdawarmer enable"
        )
    verdict, problems = _trust_problems(trust, deployed)
    if not any(
        allows(s, "lambda:InvokeFunction", deployed.target_arn) for s in role_statements(clients, role)
    ):
        verdict = FAIL
        problems.append(
            f"it may not invoke {deployed.target_arn} (lambda:InvokeFunction): every ping is refused"
        )
    if problems:
        return Check(
            "schedule role", verdict, f"role {role}: " + "; ".join(problems) + "; run lambdawarmer enable"
        )
    return Check(
        "schedule role",
        OK,
        f"role {role}: Scheduler may assume it for this schedule only, to invoke {deployed.target_arn}",
    )


def _trust_problems(trust: Any, deployed: Deployed) -> tuple[str, list[str]]:
    """What is wrong with a schedule role's trust: FAIL when Scheduler may not assume it for this
    schedule, WARN when it may for any schedule of any account (no source condition)."""
    admitting = [
        statement
        for statement in statements(trust)
        if allows({**statement, "Resource": "*"}, "sts:AssumeRole", "*")
        and SCHEDULER_PRINCIPAL in _listed((statement.get("Principal") or {}).get("Service"))
        and _admits(statement.get("Condition") or {}, deployed) is not False
    ]
    if not admitting:
        return FAIL, [
            f"it does not trust {SCHEDULER_PRINCIPAL} for {deployed.schedule_arn} "
            f"(aws:SourceAccount {deployed.account}): the schedule cannot assume it"
        ]
    if all(_admits(s.get("Condition") or {}, deployed) for s in admitting):
        return OK, []
    return WARN, [
        f"it trusts {SCHEDULER_PRINCIPAL} without aws:SourceArn and aws:SourceAccount naming this "
        "schedule, or with conditions not read here: another schedule could assume it"
    ]


def _admits(condition: dict[str, Any], deployed: Deployed) -> bool | None:
    """Whether a trust statement's condition admits this schedule and names it (True), refuses it
    (False), or admits it without naming it by ``aws:SourceArn`` and ``aws:SourceAccount``, or with
    something not read here (None)."""
    wanted = {"aws:SourceArn": deployed.schedule_arn, "aws:SourceAccount": deployed.account}
    named: set[str] = set()
    unread = False
    for operator, tests in condition.items():
        for key, values in (tests or {}).items():
            if operator not in MATCHING or key not in wanted:
                unread = True
                continue
            matches = fnmatch.fnmatchcase if MATCHING[operator] else str.__eq__
            if not any(matches(wanted[key], str(value)) for value in _listed(values)):
                return False
            named.add(key)
    return None if unread or named != set(SOURCE_KEYS) else True


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(item) for item in value or []]
