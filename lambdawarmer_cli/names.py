"""The names lambdawarmer gives what it adds beside a function: layer, policy, schedule, role, tag."""

from __future__ import annotations

import hashlib

from lambdawarmer.function_ref import FunctionRef

LAYER_NAME = "lambdawarmer"
POLICY_NAME = "lambdawarmer-self-invoke"
"""The inline policy on the function's execution role."""
SCHEDULE_GROUP = "lambdawarmer"
SCHEDULER_ROLE_POLICY = "invoke-target"
"""The inline policy of a schedule's role."""
RECORD_TAG = "lambdawarmer:added"
"""The function tag that lists the variables ``enable`` added, so ``disable`` removes exactly those."""
MAX_NAME_LENGTH = 64
"""IAM's and Scheduler's limit on a role's or a schedule's name."""


def short_name(prefix: str, *parts: str) -> str:
    """A resource name from ``parts`` that fits :data:`MAX_NAME_LENGTH` (a digest keeps it unique)."""
    name = "-".join((prefix, *parts)).replace("$", "")
    if len(name) <= MAX_NAME_LENGTH:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{name[: MAX_NAME_LENGTH - 11]}-{digest}"


def _parts(target: FunctionRef) -> list[str]:
    return [target.name, *([target.qualifier] if target.qualifier else [])]


def schedule_name(target: FunctionRef) -> str:
    """The schedule that pings ``target``: ``lambdawarmer-<function>[-<qualifier>]``."""
    return short_name("lambdawarmer", *_parts(target))


def scheduler_role_name(target: FunctionRef) -> str:
    """The role the schedule of ``target`` invokes it with."""
    return short_name("lambdawarmer-scheduler", *_parts(target))
