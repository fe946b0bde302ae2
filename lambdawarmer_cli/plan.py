"""A plan: the changes to make, each shown as before -> after, applied in order, reported as it goes.

A change that is already in place is not in the plan, so running the same command twice changes
nothing the second time. When a change fails, the ones applied before it and the ones not done are
reported (and what the failed one leaves running, when it matters), and the command can be run
again to finish.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE
from lambdawarmer.settings import SETTINGS, mask

from .clients import error_reason


class ConfigurationChanged(RuntimeError):
    """The function's configuration changed after it was read (its RevisionId no longer matches, or
    an update was under way): the configuration was not written; read it again and plan again.
    :meth:`Plan.apply` sets :attr:`applied` to the changes it made before (disable's plan stops the
    pings first)."""

    applied: tuple[str, ...] = ()


SHOWN_VARIABLES = {EXEC_WRAPPER_VARIABLE, *(s.env for s in SETTINGS.values() if not s.secret)}
"""The variables whose values a plan prints: lambdawarmer's own, not secret. Any other (the token,
the user's own) is shown as its length only."""


def shown(name: str, value: Any) -> str:
    """A variable's value as it may be printed (a secret, or anything of the user's, never is)."""
    return str(value) if name in SHOWN_VARIABLES else str(mask(value))


class Change:
    """One resource going from ``before`` to ``after`` (None: absent), by calling ``apply``."""

    def __init__(
        self,
        resource: str,
        before: Any,
        after: Any,
        apply: Callable[[], None],
        if_failed: str | None = None,
    ) -> None:
        self.resource = resource
        self.before = before
        self.after = after
        self.apply = apply
        self.if_failed = if_failed
        """What the user must know when this change fails (what it leaves running, how to finish)."""

    def lines(self) -> list[str]:
        """The diff: ``-`` what goes, ``+`` what comes, ``~`` what changes value."""
        before, after = self.before, self.after
        if isinstance(before, dict) and isinstance(after, dict):
            lines = [f"+ {k}={shown(k, after[k])}" for k in after if k not in before]
            lines += [f"- {k}={shown(k, before[k])}" for k in before if k not in after]
            lines += [
                f"~ {k}={shown(k, before[k])} -> {shown(k, after[k])}"
                for k in after
                if k in before and before[k] != after[k]
            ]
            kept = sum(1 for k in after if k in before and before[k] == after[k])
            return [*lines, f"  ({kept} other(s) kept as they are)"] if kept else lines
        if isinstance(before, list) and isinstance(after, list):
            gone = [f"- {item}" for item in before if item not in after]
            return gone + [f"{'  ' if item in before else '+ '}{item}" for item in after]
        return [f"- {_one_line(before)}", f"+ {_one_line(after)}"]


def _one_line(value: Any) -> str:
    if value is None:
        return "(none)"
    return json.dumps(value, separators=(",", ":")) if isinstance(value, (dict, list)) else str(value)


class Plan:
    """The changes for one function, and notes for the user."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.changes: list[Change] = []
        self.notes: list[str] = []
        self.not_ready: str | None = None
        """Why the target cannot be pinged once the plan is applied (None: it can)."""

    def add(
        self,
        resource: str,
        before: Any,
        after: Any,
        apply: Callable[[], None],
        if_failed: str | None = None,
    ) -> None:
        """Plan ``resource``'s change, unless it is already as wanted (``if_failed``: what to say
        when it fails)."""
        if before != after:
            self.changes.append(Change(resource, before, after, apply, if_failed))

    def show(self) -> list[str]:
        if not self.changes:
            return [f"{self.label}: nothing to change"]
        lines = [f"{self.label}:"]
        for change in self.changes:
            lines.append(f"  {change.resource}:")
            lines += [f"    {line}" for line in change.lines()]
        return lines

    def apply(self, say: Callable[[str], None]) -> bool:
        """Apply every change in order; False (after saying what was applied) at the first failure.
        Raises :class:`ConfigurationChanged` when the function changed since it was read, naming
        the changes applied before the configuration's."""
        done: list[str] = []
        for index, change in enumerate(self.changes):
            try:
                change.apply()
            except ConfigurationChanged as changed:
                changed.applied = tuple(done)
                raise
            except Exception as error:
                applied = ", ".join(done) or "nothing"
                left = ", ".join(later.resource for later in self.changes[index:])
                say(
                    f"{self.label}: FAILED at {change.resource}: {error_reason(error)}; applied before it: "
                    f"{applied}; not done, as it was: {left}. "
                    + (f"{change.if_failed}. " if change.if_failed else "")
                    + "Run the same command again to finish."
                )
                return False
            done.append(change.resource)
        if done:
            say(f"{self.label}: applied {', '.join(done)}")
        return True
