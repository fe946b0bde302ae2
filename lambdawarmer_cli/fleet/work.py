"""What a fleet command does to each function, in parallel, with the single-function commands' code.

Status's checks (:func:`~lambdawarmer_cli.commands.status.run_checks`), enable's and disable's
plans, applied by :func:`~lambdawarmer_cli.adoption.adopt` (which reads the function again and
never undoes a change made meanwhile). Every account and region is discovered, and every function
worked, in parallel, at most ``max_workers`` at once; a failure is that function's (or that account
and region's) row, and the others go on.
"""

from __future__ import annotations

import argparse
import io
import itertools
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from lambdawarmer.function_ref import parse_function_ref

from ..adoption import adopt
from ..clients import Clients, error_reason, is_aws_error
from ..commands.status import run_checks
from ..deployed import Deployed, read_function
from ..exit_status import AWS_FAILED, CHANGE_FAILED, OK, STATUS_FAILED, UsageError
from ..resources import ChangeError
from ..setup_checks import FAIL, WARN
from ..setup_checks import OK as CHECK_OK
from .parallel import in_parallel
from .scope import Account, session
from .table import EVERY_FUNCTION, Row, worst

if TYPE_CHECKING:
    from lambdawarmer.function_ref import FunctionRef

    from ..plan import Plan
    from ..progress import Progress
    from .discovery import Found, Selector

T = TypeVar("T")
R = TypeVar("R")
PlanFor = Callable[["Clients", Deployed], "Plan"]
WARMED = re.compile(r"concurrency (\w+)|tenants ([^(]+) \(through")
"""N as the schedule check states it (``concurrency 3`` or ``tenants acme 3, globex 2 (through``)."""


class Left(ChangeError):
    """A function the command leaves as it is, on purpose (the message says why): its own row,
    WARN, not a failure. Raised by a plan found when applying, it is that function's failure (it
    changed since it was planned)."""


@dataclass(frozen=True)
class Scope:
    """One account in one region."""

    account: Account
    region: str


@dataclass(frozen=True)
class Target:
    """One function of the fleet, where it is."""

    scope: Scope
    found: Found


@dataclass
class Outcome:
    """A function's (or a scope's) row and exit status."""

    row: Row
    status: int


class Fleet:
    """The accounts and regions worked, the functions selected, how many at once."""

    def __init__(
        self,
        *,
        profile: str | None,
        accounts: list[Account],
        regions: list[str],
        selector: Selector,
        qualifier: str | None,
        max_workers: int,
        progress: Progress,
        on_call: Callable[..., None] | None = None,
    ) -> None:
        self.profile = profile
        self.scopes = [Scope(account, region) for account in accounts for region in regions]
        self.selector = selector
        self.qualifier = qualifier
        self.max_workers = max_workers
        self.progress = progress
        self.on_call = on_call
        self._clients: dict[Scope, Clients] = {}
        self._lock = threading.Lock()

    def clients(self, scope: Scope) -> Clients:
        """The clients of ``scope``, made once (shared by the threads working it)."""
        with self._lock:
            if scope not in self._clients:
                made = session(self.profile, scope.account, scope.region, self.on_call)
                self._clients[scope] = Clients(session=made)
            return self._clients[scope]

    def map(self, label: str, items: list[T], work: Callable[[T], R]) -> list[R]:
        """``work`` on each item, in parallel, in order, the progress bar counting them."""
        done = itertools.count(1)
        lock = threading.Lock()

        def counted(item: T) -> R:
            try:
                return work(item)
            finally:
                with lock:
                    self.progress.count(label, next(done), len(items))

        try:
            return in_parallel(items, counted, self.max_workers)
        finally:
            self.progress.clear()

    def discover(
        self, functions_of: Callable[[Clients, Selector], list[Found]]
    ) -> tuple[list[Target], list[Outcome]]:
        """Every function selected in every scope, and a failed row for each scope not reached or
        not readable (its account's role refused, the tagging API denied...)."""

        def one(scope: Scope) -> list[Target] | Outcome:
            if scope.account.error:
                return scope_failed(scope, scope.account.error, AWS_FAILED)
            try:
                found = functions_of(self.clients(scope), self.selector)
            except Exception as error:
                if not is_aws_error(error):
                    raise
                return scope_failed(scope, f"cannot list its functions: {error_reason(error)}", AWS_FAILED)
            return [Target(scope, each) for each in found]

        targets: list[Target] = []
        failed: list[Outcome] = []
        for result in self.map("discovering", self.scopes, one):
            if isinstance(result, Outcome):
                failed.append(result)
            else:
                targets += result
        return targets, failed

    def ref(self, target: Target) -> FunctionRef:
        return parse_function_ref(target.found.arn).qualified(self.qualifier)

    def label(self, target: Target) -> str:
        return target.found.name + (f":{self.qualifier}" if self.qualifier else "")

    def status(self, target: Target) -> Outcome:
        """status's checks on ``target``; its row."""
        clients = self.clients(target.scope)
        try:
            deployed = self._read(clients, target)
        except Exception as error:
            if not is_aws_error(error):
                raise
            return self.failed(target, f"cannot read it: {error_reason(error)}", AWS_FAILED)
        checks = run_checks(clients, deployed)
        state = worst([check.verdict for check in checks])
        needs = "; ".join(f"{check.name}: {check.detail}" for check in checks if check.verdict != CHECK_OK)
        row = self.row(target, state, needs, n=warmed(checks))
        row.checks = [check.as_dict() for check in checks]
        return Outcome(row, STATUS_FAILED if state == FAIL else OK)

    def _read(self, clients: Clients, target: Target) -> Deployed:
        """The function as status checks it, with the tags discovery already has (no ListTags)."""
        tags = target.found.tags
        return read_function(clients, self.ref(target), None if tags is None else dict(tags))

    def plan(self, target: Target, plan_for: PlanFor) -> Plan | Outcome:
        """``target``'s plan (nothing applied), or its row when it is left (WARN), or cannot be read
        or planned (FAIL)."""
        clients = self.clients(target.scope)
        try:
            return plan_for(clients, read_function(clients, self.ref(target)))
        except Left as left:
            return Outcome(self.row(target, WARN, f"left: {left}"), OK)
        except (ChangeError, UsageError) as error:  # in a fleet, that function's refusal: the others go on
            return self.failed(target, f"cannot: {error}", CHANGE_FAILED)
        except Exception as error:
            if not is_aws_error(error):
                raise
            return self.failed(target, f"cannot read it: {error_reason(error)}", AWS_FAILED)

    def apply(self, target: Target, plan_for: PlanFor, command: str) -> tuple[int, str]:
        """``target`` read, planned and changed again by adopt (as ``command --yes`` does); its
        status and what adopt said."""
        clients = self.clients(target.scope)
        said = io.StringIO()
        arguments = argparse.Namespace(command=command, dry_run=False, yes=True)
        status, _, _ = adopt(
            clients, self.ref(target), lambda deployed: plan_for(clients, deployed), arguments, said
        )
        return status, said.getvalue()

    def key(self, target: Target) -> str:
        """``account/region/function``: one function of the fleet."""
        return f"{target.scope.account.id}/{target.scope.region}/{self.label(target)}"

    def row(self, target: Target, state: str, needs: str, n: str = "-") -> Row:
        scope = target.scope
        return Row(scope.account.id, scope.region, self.label(target), n, state, needs)

    def failed(self, target: Target, why: str, status: int) -> Outcome:
        return Outcome(self.row(target, FAIL, why), status)


def scope_failed(scope: Scope, why: str, status: int) -> Outcome:
    """The row of an account and region that could not be worked."""
    return Outcome(Row(scope.account.id, scope.region, EVERY_FUNCTION, "-", FAIL, why), status)


def warmed(checks: Iterable[Any]) -> str:
    """N, as the schedule check read it from the schedule's ping ("-": no schedule to read)."""
    for check in checks:
        if check.name == "schedule" and check.verdict != FAIL:
            found = WARMED.search(check.detail)
            if found:
                return (found.group(1) or found.group(2)).strip()
    return "-"
