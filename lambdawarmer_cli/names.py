"""The names lambdawarmer gives what it adds beside a function: layer, policy, schedule, role, tag, mark.

Every name is per target (function and qualifier) and, where the resource is global (IAM), per
region, so that any number of functions may share an execution role and no two targets ever share
a name: parts are joined with ``.``, which no function, alias or region name contains, and a name
that had to be shortened or had a character dropped ends in a digest of the exact target.
"""

from __future__ import annotations

import hashlib

from lambdawarmer.function_ref import FunctionRef

LAYER_NAME = "lambdawarmer"
SCHEDULE_GROUP = "lambdawarmer"
"""The group ``enable`` puts its schedules in (and never deletes)."""
IAC_SCHEDULE_GROUP = "default"
"""Where the CDK construct, the Terraform module and the SAM template put theirs: Scheduler's own group,
in every account and region, which no stack owns and none can delete."""
SCHEDULE_PREFIX = "lambdawarmer"
"""How every warm-up schedule's name begins."""
SCHEDULER_ROLE_POLICY = "invoke-target"
"""The inline policy of a schedule's role."""
RECORD_TAG = "lambdawarmer:added"
"""The function tag that records which variables ``enable`` set, and a digest of each value."""
AUTOPILOT_VARIABLE = "LAMBDAWARMER_AUTOPILOT"


def autopilot_mark(function_arn: str) -> str:
    """The autopilot's mark of ownership: the value it sets :data:`AUTOPILOT_VARIABLE` to, in the
    same configuration update that sets up the warming, on each function it enables (the function's
    own unqualified ARN), and the only thing it trusts to say a function is its own (to change N, or
    disable). Forging it takes lambda:UpdateFunctionConfiguration on that function, which removes
    the warming directly anyway; a tag would take only lambda:TagResource. Being the function's own,
    it says nothing on a function made from another's configuration (a copy, a clone of a service)."""
    return function_arn


def schedule_description(label: str, mark: str | None) -> str:
    """The Description of ``enable``'s schedule for ``label``; the autopilot's (``mark``: its mark of
    ownership) carries the mark too, a second proof of ownership that writing takes
    scheduler:UpdateSchedule, not lambda:TagResource, and that a deploy resetting the function's
    variables leaves in place."""
    said = f"lambdawarmer warm-up ping for {label}"
    return said if mark is None else f"{said}; {AUTOPILOT_VARIABLE}={mark}"


MAX_NAME_LENGTH = 64
"""IAM's limit on a role's name, Scheduler's on a schedule's (an inline policy's is 128)."""
SEPARATOR = "."
DIGEST_LENGTH = 10

LEGACY_POLICY_NAME = "lambdawarmer-self-invoke"
"""The one inline policy name of versions up to 1.3, shared by every function on a role."""


def unique_name(prefix: str, *parts: str) -> str:
    """``prefix.part.part``, within :data:`MAX_NAME_LENGTH` and the characters IAM and Scheduler
    allow; shortened or with a ``$`` dropped, it ends in a digest of the exact parts."""
    exact = SEPARATOR.join((prefix, *parts))
    name = exact.replace("$", "")
    if name == exact and len(name) <= MAX_NAME_LENGTH:
        return name
    digest = hashlib.sha256(exact.encode()).hexdigest()[:DIGEST_LENGTH]
    return f"{name[: MAX_NAME_LENGTH - DIGEST_LENGTH - 1]}-{digest}"


def _parts(target: FunctionRef) -> list[str]:
    return [target.name, *([target.qualifier] if target.qualifier else [])]


def schedule_name(target: FunctionRef) -> str:
    """The schedule that pings ``target``: ``lambdawarmer.<function>[.<qualifier>]`` (regional)."""
    return unique_name(SCHEDULE_PREFIX, *_parts(target))


def scheduler_role_name(region: str, target: FunctionRef) -> str:
    """The role the schedule of ``target`` invokes it with (IAM is global: the region is in it)."""
    return unique_name("lambdawarmer-scheduler", region, *_parts(target))


def self_invoke_policy_name(region: str, target: FunctionRef) -> str:
    """The execution role's inline policy that lets ``target`` invoke itself: one per target, so
    functions sharing a role never replace or delete each other's."""
    return unique_name("lambdawarmer", region, *_parts(target))


def legacy_names(target: FunctionRef) -> tuple[str, str]:
    """The schedule and scheduler role names versions up to 1.3 gave ``target`` (``-``-joined, no
    region: they collided), so that ``enable`` and ``disable`` remove what is left of them."""
    joined = "-".join(_parts(target)).replace("$", "")

    def legacy(prefix: str) -> str:
        name = f"{prefix}-{joined}"
        if len(name) <= MAX_NAME_LENGTH:
            return name
        digest = hashlib.sha256(name.encode()).hexdigest()[:DIGEST_LENGTH]
        return f"{name[: MAX_NAME_LENGTH - DIGEST_LENGTH - 1]}-{digest}"

    return legacy("lambdawarmer"), legacy("lambdawarmer-scheduler")
