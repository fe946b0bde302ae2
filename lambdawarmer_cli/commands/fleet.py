"""``lambdawarmer fleet status | enable | disable | cost``: every function a tag or a name pattern selects.

In one or more regions of one or more accounts (``--organization``: all of them), through the same
checks and plans as ``status``, ``enable`` and ``disable``.

    lambdawarmer fleet status --tag team=shop --regions all --organization
    lambdawarmer fleet enable --tag lambdawarmer:warm --concurrency 3 --regions us-east-1,eu-west-1 \\
        --accounts 111111111111,222222222222 --manifest layers.json --dry-run
    lambdawarmer fleet disable --tag lambdawarmer:warm --regions us-east-1 --yes
    lambdawarmer fleet cost --tag lambdawarmer:warm --regions all --budget 50

enable and disable show every plan first, then apply them (at a terminal, after one question unless
--yes; --dry-run changes nothing), each function read and planned again as it is applied. enable does
not ping: each schedule does, and the table shows status's checks once applied. One account, region
or function that fails is a row of its own; the others go on, and running again finishes it.
``fleet disable --autopilot-owned`` disables only the functions the autopilot enabled (its
:func:`~lambdawarmer_cli.fleet.autopilot.owns`, never a tag): each other one is a WARN row saying
why it was left.

Exit statuses: 0 done, no FAIL; 2 usage (refused before anything is read or changed); 3 an account,
region or function could not be reached or read; 5 a change failed, or a function cannot be changed
as asked (no layer to attach...); 6 a check FAILed; 7 (cost) a function has too little history to
price (the others are). The highest wins.

``fleet cost --budget USD`` prices each function on its own CloudWatch history (fleet/budget.py) and
recommends N for each so that the fleet's warming stays within USD a month, ranked by cold starts
avoided per dollar, naming where Provisioned Concurrency would be cheaper.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import TYPE_CHECKING, Any, TextIO

from lambdawarmer.settings import METRICS_MODES
from lambdawarmer_model.simulation import DEFAULT_INIT_MS, Assumptions

from ..adoption import say_notes
from ..clients import Clients
from ..disable_plan import plan_disable
from ..enable_plan import Options, plan_enable
from ..exit_status import OK, UsageError, epilog
from ..fleet.autopilot import not_ours, owns, plan_mark
from ..fleet.costing import budget_rows
from ..fleet.discovery import Selector, discover
from ..fleet.parallel import DEFAULT_WORKERS
from ..fleet.scope import DEFAULT_ROLE, organization_accounts, parse_account_ids, parse_regions, reach
from ..fleet.table import Row, as_json, rows_sorted, table, totals
from ..fleet.work import Fleet, Left, Outcome, PlanFor, Target
from ..history import DEFAULT_DAYS, MAX_DAYS
from ..layers import LayerError
from ..pinging import concurrency_argument
from ..plan import Plan
from ..progress import progress_of
from ..schedules import DEFAULT_SCHEDULE, ScheduleError, period_s
from .enable import add_layer_checks, enable_options, layer_checks

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..deployed import Deployed


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 64; got {text!r}")
    return int(text)


def _usd(text: str) -> float:
    try:
        amount = float(text)
    except ValueError:
        amount = -1.0
    if not 0 <= amount < float("inf"):
        raise argparse.ArgumentTypeError(f"expected dollars a month, 0 or more; got {text!r}")
    return amount


def add_parser(commands: Any, aws: argparse.ArgumentParser) -> None:
    """``fleet`` and its commands (``aws``: profile, and the region Organizations and STS are asked in)."""
    fleet = commands.add_parser(
        "fleet",
        help="status, enable or disable every function a tag selects, across regions and accounts",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    which = argparse.ArgumentParser(add_help=False)
    which.add_argument("--tag", metavar="KEY[=VALUE]", help="functions carrying this tag (any value: KEY)")
    which.add_argument("--name-pattern", metavar="REGEX", help="functions whose name it matches")
    which.add_argument("--regions", help="comma-separated, or all (default: the configured region)")
    accounts = which.add_mutually_exclusive_group()
    accounts.add_argument("--accounts", metavar="ID,...", help="these accounts (default: the caller's)")
    accounts.add_argument(
        "--organization", action="store_true", help="every active account of the caller's organization"
    )
    which.add_argument(
        "--role-name",
        default=DEFAULT_ROLE,
        help=f"assumed in other accounts (default {DEFAULT_ROLE})",
    )
    which.add_argument("--qualifier", help="the alias or version pinged, for every function")
    which.add_argument(
        "--max-workers", type=_workers, default=DEFAULT_WORKERS, help="calls in flight at once (default 8)"
    )
    which.add_argument("--quiet", action="store_true", help="no progress bar (never shown but at a terminal)")
    which.add_argument("--json", action="store_true", help="the table as JSON (plans go to stderr)")
    change = argparse.ArgumentParser(add_help=False)
    change.add_argument("--dry-run", action="store_true", help="print the plans, change nothing")
    change.add_argument("--yes", action="store_true", help="do not ask at a terminal before applying")
    subcommands = fleet.add_subparsers(dest="fleet_command", required=True)
    subcommands.add_parser("status", parents=[which, aws], help="status's checks on every function")
    enable = subcommands.add_parser("enable", parents=[which, aws, change], help="enable every function")
    enable.add_argument("--concurrency", type=concurrency_argument, required=True, help="N, or auto")
    enable.add_argument("--schedule", default=DEFAULT_SCHEDULE, help="EventBridge Scheduler expression")
    layer = enable.add_mutually_exclusive_group()
    layer.add_argument("--manifest", metavar="FILE", help="publish's manifest: each region's ARN")
    layer.add_argument("--layer-parameter", metavar="NAME", help="the SSM parameter holding the layer's ARN")
    add_layer_checks(enable)
    enable.add_argument("--metrics", action="store_true", help="ColdStart/WarmStart and round metrics (EMF)")
    enable.add_argument("--metrics-mode", choices=METRICS_MODES, help="implies --metrics")
    enable.add_argument("--no-token", action="store_true", help="no WARMER_TOKEN (default: a random one)")
    disable = subcommands.add_parser("disable", parents=[which, aws, change], help="disable every function")
    disable.add_argument(
        "--autopilot-owned",
        action="store_true",
        help="only the functions the autopilot enabled (its mark in the configuration or schedule, "
        "never a tag); each other one is a row saying it was left",
    )
    cost = subcommands.add_parser(
        "cost", parents=[which, aws], help="N for each function within a monthly budget, from its history"
    )
    cost.add_argument("--budget", type=_usd, required=True, metavar="USD", help="a month, for the fleet")
    cost.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"history read (default {DEFAULT_DAYS})")
    cost.add_argument("--schedule", default=DEFAULT_SCHEDULE, help="how often the pings would run")
    cost.add_argument("--init-ms", type=int, default=int(DEFAULT_INIT_MS), help="a cold start's init, ms")
    for command in subcommands.choices.values():
        command.epilog = epilog("fleet")
        command.formatter_class = argparse.RawDescriptionHelpFormatter
        command.allow_abbrev = False


def run(arguments: argparse.Namespace, out: TextIO, on_call: Callable[..., None] | None = None) -> int:
    """The fleet command asked for; the worst status (``on_call``: told of every AWS call, for counting)."""
    home = Clients(arguments.profile, arguments.region)
    selector = Selector.parse(arguments.tag, arguments.name_pattern)
    if arguments.fleet_command == "enable":
        try:
            layer_checks(arguments, "--manifest or --layer-parameter")
        except LayerError as error:
            raise UsageError(str(error)) from None
    regions = parse_regions(home, arguments.regions)
    if arguments.organization:
        ids = organization_accounts(home)
    else:
        ids = parse_account_ids(arguments.accounts) if arguments.accounts else [home.account]
    fleet = Fleet(
        profile=arguments.profile,
        accounts=reach(home, ids, arguments.role_name, arguments.max_workers),
        regions=regions,
        selector=selector,
        qualifier=arguments.qualifier,
        max_workers=arguments.max_workers,
        progress=progress_of(arguments),
        on_call=on_call,
    )
    if arguments.fleet_command == "status":
        targets, outcomes = fleet.discover(discover)
        return _report(outcomes + fleet.map("checking", targets, fleet.status), arguments, out)
    if arguments.fleet_command == "cost":
        return _cost(fleet, arguments, out)
    if arguments.fleet_command == "enable":
        plan_for = _enable_plans(arguments)
    else:
        plan_for = _autopilots_only(_disable_plan) if arguments.autopilot_owned else _disable_plan
    return _change(fleet, arguments, out, plan_for)


def _enable_plans(arguments: argparse.Namespace) -> PlanFor:
    """enable's plan, with enable's options checked once for each account and region (the layer named
    by --manifest or --layer-parameter is that region's)."""
    asked = argparse.Namespace(**vars(arguments), publish=None, layer_arn=None, tenants=None)
    options: dict[tuple[str, str], Options | UsageError] = {}
    lock = threading.Lock()

    def plan(clients: Clients, deployed: Deployed) -> Plan:
        where = (deployed.account, deployed.region)
        with lock:
            if where not in options:
                try:
                    options[where] = enable_options(clients, asked)
                except UsageError as error:
                    options[where] = error
        found = options[where]
        if isinstance(found, UsageError):
            raise found
        return plan_enable(clients, deployed, found)

    return plan


def _disable_plan(clients: Clients, deployed: Deployed) -> Plan:
    return plan_disable(clients, deployed)


def _autopilots_only(plan_for: PlanFor) -> PlanFor:
    """``plan_for`` on a function the autopilot :func:`~lambdawarmer_cli.fleet.autopilot.owns`,
    its record tag removed last, as the autopilot's own disable does; any other is left, saying why
    (as it is read again when applied, so is its ownership)."""

    def plan(clients: Clients, deployed: Deployed) -> Plan:
        if not owns(clients, deployed):
            raise Left(not_ours(deployed))
        planned = plan_for(clients, deployed)
        plan_mark(clients, deployed, planned, None)
        return planned

    return plan


def _change(fleet: Fleet, arguments: argparse.Namespace, out: TextIO, plan_for: PlanFor) -> int:
    """Every plan shown, then applied (unless a dry run or not confirmed), then the table."""
    command = arguments.fleet_command
    said = sys.stderr if arguments.json else out
    targets, outcomes = fleet.discover(discover)
    planned: list[tuple[Target, Plan]] = []
    for target, plan in zip(targets, fleet.map("planning", targets, lambda t: fleet.plan(t, plan_for))):
        if isinstance(plan, Outcome):
            outcomes.append(plan)
            continue
        planned.append((target, plan))
        print(f"[{target.scope.account.id} {target.scope.region}] " + "\n".join(plan.show()), file=said)
        say_notes(plan, said)
    changing = [target for target, plan in planned if plan.changes]
    if arguments.dry_run or not changing or not _confirmed(arguments, len(changing), said):
        if arguments.dry_run or changing:
            print(f"{'dry run: ' if arguments.dry_run else ''}nothing was changed", file=said)
        outcomes += [_planned_row(fleet, target, plan) for target, plan in planned]
        return _report(outcomes, arguments, out)
    failed: set[Target] = set()
    for target, (status, log) in zip(
        changing, fleet.map("applying", changing, lambda t: fleet.apply(t, plan_for, command))
    ):
        print(log, end="", file=said)
        if status != OK:
            failed.add(target)
            lines = log.strip().splitlines()
            outcomes.append(fleet.failed(target, lines[-1] if lines else f"{command} failed", status))
    done = [target for target, _ in planned if target not in failed]
    if command == "enable":
        outcomes += fleet.map("checking", done, fleet.status)
    else:
        outcomes += [Outcome(fleet.row(target, "OK", ""), OK) for target in done]
    return _report(outcomes, arguments, out)


def _planned_row(fleet: Fleet, target: Target, plan: Plan) -> Outcome:
    """A function as planned and not changed: OK with nothing to change, else WARN naming the changes."""
    if not plan.changes:
        return Outcome(fleet.row(target, "OK", ""), OK)
    changes = ", ".join(change.resource for change in plan.changes)
    return Outcome(fleet.row(target, "WARN", f"{len(plan.changes)} change(s) not applied: {changes}"), OK)


def _confirmed(arguments: argparse.Namespace, count: int, said: TextIO) -> bool:
    """At a terminal, one question for the whole fleet, unless --yes (scripts and CI are not asked)."""
    if arguments.yes or not sys.stdin.isatty():
        return True
    print(f"apply these changes to {count} function(s)? [y/N] ", end="", file=said, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _cost(fleet: Fleet, arguments: argparse.Namespace, out: TextIO) -> int:
    """The budget spent on the fleet, each function priced on its own history; ranked rows."""
    if not 1 <= arguments.days <= MAX_DAYS:
        raise UsageError(f"--days {arguments.days}: expected 1 to {MAX_DAYS}")
    try:
        every_min = period_s(arguments.schedule) // 60
    except ScheduleError as error:
        raise UsageError(f"--schedule {error}") from None
    assumptions = Assumptions(init_ms=arguments.init_ms, ping_every_min=every_min)
    targets, failed = fleet.discover(discover)
    ranked, summary = budget_rows(fleet, targets, arguments.budget, arguments.days, assumptions)
    return _report(failed + ranked, arguments, out, ranked=True, summary=summary)


def _report(
    outcomes: list[Outcome],
    arguments: argparse.Namespace,
    out: TextIO,
    *,
    ranked: bool = False,
    summary: str | None = None,
) -> int:
    """The table (or JSON) of every row, sorted (unless ``ranked``); the worst status."""
    rows: list[Row] = [outcome.row for outcome in outcomes]
    rows = rows if ranked else rows_sorted(rows)
    if arguments.json:
        print(as_json(rows), file=out)
    else:
        for line in table(rows):
            print(line, file=out)
        print(summary or totals(rows), file=out)
    return max((outcome.status for outcome in outcomes), default=OK)
