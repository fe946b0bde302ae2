"""The ``disable`` command: remove exactly what ``enable`` added, and nothing the user changed since.

Exit statuses: 0 done; 2 usage (refused before any change); 3 a function could not be read
(not found, denied); 5 a change failed (what was applied is reported; run the command again to finish).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from ..adoption import adopt, say_dry_run, say_notes
from ..clients import Clients
from ..deployed import selected_functions
from ..disable_plan import plan_disable
from ..exit_status import OK

if TYPE_CHECKING:
    import argparse


def add_parser(commands: Any, which: argparse.ArgumentParser, aws: argparse.ArgumentParser) -> None:
    """The ``disable`` arguments (``which``: the functions; ``aws``: profile, region)."""
    disable = commands.add_parser("disable", parents=[which, aws], help="remove exactly what enable added")
    disable.add_argument("--qualifier", help="the qualifier it was enabled with")
    disable.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    disable.add_argument("--yes", action="store_true", help="do not ask before applying")


def run(arguments: argparse.Namespace, out: TextIO) -> int:
    """Plan, show and apply ``disable`` on every function selected; the worst status."""
    clients = Clients(arguments.profile, arguments.region)
    targets = selected_functions(clients, arguments.functions, arguments.tag, arguments.qualifier)
    status = OK
    for target in targets:
        done, _, plan = adopt(
            clients, target, lambda deployed: plan_disable(clients, deployed), arguments, out
        )
        if plan is not None:
            say_notes(plan, out)
        status = max(status, done)
    say_dry_run(arguments, out)
    return status
