"""Changing functions safely, for ``enable`` and ``disable``: read, plan, show, ask, apply, and again
when the function changed in between, so that a change made meanwhile is never undone."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from .clients import not_reached
from .deployed import read_function
from .exit_status import AWS_FAILED, CHANGE_FAILED, OK, USAGE, UsageError
from .plan import ConfigurationChanged
from .resources import ChangeError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from lambdawarmer.function_ref import FunctionRef

    from .clients import Clients
    from .deployed import Deployed
    from .plan import Plan

MAX_PLANS = 3
"""How many times a target is read and planned when it keeps changing under the command."""


def adopt(
    clients: Clients,
    target: FunctionRef,
    plan_for: Callable[[Deployed], Plan],
    arguments: argparse.Namespace,
    out: TextIO,
) -> tuple[int, Deployed | None, Plan | None]:
    """Plan ``target`` with ``plan_for``, show the plan and apply it (unless ``--dry-run``, or not
    confirmed). The status so far, and the function and plan applied (None when nothing was)."""
    for _ in range(MAX_PLANS):
        try:
            deployed = read_function(clients, target)
        except Exception as error:
            print(f"{target}: cannot read it: {not_reached(error, target, clients.region)}", file=out)
            return AWS_FAILED, None, None
        try:
            plan = plan_for(deployed)
        except (ChangeError, UsageError) as error:
            print(f"{deployed.label}: cannot {arguments.command}: {error}", file=out)
            return (USAGE if isinstance(error, UsageError) else CHANGE_FAILED), None, None
        for line in plan.show():
            print(line, file=out)
        if arguments.dry_run:
            say_notes(plan, out)
            return OK, None, None
        if plan.changes and not _confirmed(arguments, plan.label, out):
            print(f"{plan.label}: skipped, nothing changed", file=out)
            return OK, None, None
        try:
            applied = plan.apply(lambda line: print(line, file=out))
        except ConfigurationChanged as changed:
            written = (
                f"applied {', '.join(changed.applied)}, but not its configuration"
                if changed.applied
                else "nothing was written"
            )
            print(
                f"{plan.label}: changed by someone else since it was read; {written}, reading it again",
                file=out,
            )
            continue
        return (OK, deployed, plan) if applied else (CHANGE_FAILED, None, None)
    print(
        f"{target}: it kept changing while being planned ({MAX_PLANS} times): nothing more was "
        "written; run again",
        file=out,
    )
    return CHANGE_FAILED, None, None


def say_notes(plan: Plan, out: TextIO) -> None:
    """What the plan wants the user to know (what to do next, what it left alone)."""
    for note in plan.notes:
        print(f"note: {note}", file=out)


def say_dry_run(arguments: argparse.Namespace, out: TextIO) -> None:
    """The last line of a dry run."""
    if arguments.dry_run:
        print("dry run: nothing was changed", file=out)


def _confirmed(arguments: argparse.Namespace, label: str, out: TextIO) -> bool:
    """Ask before changing a function, at a terminal, unless --yes (scripts and CI are not asked)."""
    if arguments.yes or not sys.stdin.isatty():
        return True
    print(f"apply these changes to {label}? [y/N] ", end="", file=out, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")
