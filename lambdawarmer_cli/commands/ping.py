"""The ``ping`` command: send functions the scheduled warm-up ping (pinging.py) and show what it warmed."""

from __future__ import annotations

import argparse
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from lambdawarmer.auto import AUTO_TIMEOUT_MS
from lambdawarmer.config import WarmerConfigError
from lambdawarmer.prewarm import environments_needed
from lambdawarmer.protocol import AUTO, PingFormat
from lambdawarmer.settings import CONCURRENCY_LIMIT, SETTINGS

from ..clients import MAX_PARALLEL_PINGS, Clients, error_code
from ..deployed import home_refs, read_function
from ..exit_status import OK, UsageError
from ..ping_targets import tenants_argument
from ..pinging import DEFAULT_TIMEOUT_S, PingResult, concurrency_argument, ping, summary_line
from ..progress import progress_of

if TYPE_CHECKING:
    from lambdawarmer.function_ref import FunctionRef
    from lambdawarmer.protocol import FanOutReport, Report

MAX_TIMEOUT_S = 900.0


def print_table(result: PingResult, out: TextIO) -> None:
    """The readable form of one ping."""
    if result.report is None:
        print(f"{result.target}: {result.message}", file=out)
        return
    report, fan_out = result.report, result.report.fan_out
    origination = report.origination
    rows = [
        ("function", str(result.target)),
        *([("concurrency", describe_auto(report))] if origination and origination.auto else []),
        ("instances warm", f"{result.warm} of {result.requested}"),
        ("cold among them", f"{result.cold} (started by this ping)"),
        *([("provisioned", _provisioned(report))] if report.instances_provisioned else []),
        *([("tenants", _tenants(report))] if report.tenants else []),
        ("invokes failed", f"{report.invocations_failed} of {report.invocations_sent}"),
        ("fan-out", f"{fan_out.fanout_ms} ms" if fan_out else _no_fan_out(report)),
        *([("rounds", _rounds(fan_out))] if fan_out and len(fan_out.rounds) > 1 else []),
        ("wall time", f"{result.elapsed_s:.2f} s"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}", file=out)
    for failure in fan_out.failures if fan_out else []:
        print(f"  invoke #{failure.index}: {failure.reason}", file=out)
    print("OK: all instances warm" if result.status == OK else f"NOT ALL WARM: {result.message}", file=out)


def _tenants(report: Report) -> str:
    """Each tenant's warm instances of those asked for."""
    shares = (report.tenants or {}).items()
    return ", ".join(f"{name} {share.instances_warmed} of {share.concurrency}" for name, share in shares)


def _no_fan_out(report: Report) -> str:
    return f"none: {report.fan_out_skipped}" if report.fan_out_skipped else "none (concurrency 1)"


def _provisioned(report: Report) -> str:
    """What the Provisioned Concurrency environments among those warmed mean for warming."""
    provisioned = report.instances_provisioned
    if provisioned >= report.instances_warmed:
        return (
            f"{provisioned}: every instance is Provisioned Concurrency's, warm anyway (requests go to them "
            "first): a ping at or below the provisioned level warms nothing more; ping more or stop warming"
        )
    return f"{provisioned} of them Provisioned Concurrency's (warm anyway); the rest on-demand"


def _rounds(fan_out: FanOutReport) -> str:
    warmed = " -> ".join(str(one.instances_warmed) for one in fan_out.rounds)
    return f"{len(fan_out.rounds)} (a top-up round after instances answered twice; warm after each: {warmed})"


def describe_auto(report: Report) -> str:
    """How an auto ping chose N, in words."""
    auto = report.origination.auto if report.origination else None
    if auto is None:
        return str(report.concurrency)
    if auto.fallback:
        return f"auto: {report.concurrency}, the fallback ({auto.fallback})"
    return (
        f"auto: {report.concurrency}, from a peak of {auto.peak} concurrent executions in the last "
        f"{auto.window_minutes} minutes ({auto.excluded_minutes} warm-up minute(s) left out)"
    )


def _names(arguments: argparse.Namespace) -> list[str]:
    names = list(arguments.functions)
    if arguments.file:
        try:
            lines = Path(arguments.file).read_text().splitlines()
        except OSError as error:
            raise UsageError(f"--file: {error}") from None
        names += [name for line in lines if (name := line.split("#", 1)[0].strip())]
    if not names:
        raise UsageError("name at least one function (or --file)")
    return names


def _token(arguments: argparse.Namespace) -> str | None:
    """The token to send: from this shell's environment or a file (never the command line's own
    text, which the process list and the shell's history keep), or ``--token``."""
    variable = SETTINGS["token"].env
    if arguments.token_file:
        try:
            token = Path(arguments.token_file).read_text().strip()
        except OSError as error:
            raise UsageError(f"--token-file: {error.strerror or error}") from None
        if not token:
            raise UsageError(f"--token-file {arguments.token_file}: the file is empty")
        return token
    if not arguments.token_from_env:
        return arguments.token  # type: ignore[no-any-return]
    found = os.environ.get(variable)
    if not found:
        raise UsageError(f"--token-from-env: {variable} is not set")
    return found


def timeout_argument(text: str) -> float:
    """``--timeout``: seconds, more than 0 and at most 900 (Lambda's longest run)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(
            f"expected seconds, more than 0 and at most {MAX_TIMEOUT_S:g}; got {text!r}"
        )
    return seconds


def add_parser(commands: Any) -> None:
    """The ``ping`` command's arguments."""
    command = commands.add_parser(
        "ping",
        help="send the warm-up ping and count the warm instances",
        description="Exit status: 0 all warm, 1 fewer warm than asked, 2 usage, 3 not sent (denied, "
        "not found, throttled, unreachable), 4 the function did not answer as lambdawarmer does.",
    )
    command.add_argument("functions", nargs="*", metavar="FUNCTION", help="names, name:qualifier or ARNs")
    command.add_argument("--file", help="a file with more function names, one per line")
    command.add_argument(
        "--concurrency",
        type=concurrency_argument,
        default=1,
        help="instances to warm (default 1), or auto: as many as the function's recent peak needs",
    )
    command.add_argument("--qualifier", help="alias or version to ping")
    command.add_argument(
        "--tenants",
        type=tenants_argument,
        help="a function that isolates tenants: the tenants to warm and how many each (acme=3,globex=2)",
    )
    command.add_argument(
        "--like",
        metavar="ALIAS",
        help="warm the qualifier to what ALIAS needs now (its recent peak, as auto reads it; at least "
        "--concurrency): before moving ALIAS to a new version",
    )
    for option, name in (("--flag", "flag"), ("--concurrency-field", "concurrency")):
        setting = SETTINGS[name]
        command.add_argument(
            option,
            dest=name.replace("concurrency", "concurrency_field"),
            default=setting.default,
            help=f"the function's {setting.env} (default {setting.default})",
        )
    token = command.add_mutually_exclusive_group()
    token.add_argument(
        "--token-from-env", action="store_true", help="send the WARMER_TOKEN of this shell's environment"
    )
    token.add_argument("--token-file", metavar="FILE", help="send the token this file holds")
    token.add_argument(
        "--token",
        help="the token itself (the process list and your shell's history keep it: prefer the two above)",
    )
    command.add_argument("--json", action="store_true", help="print the raw report(s)")
    command.add_argument(
        "--timeout", type=timeout_argument, default=DEFAULT_TIMEOUT_S, help="seconds to wait for an answer"
    )
    command.add_argument("--profile", help="AWS profile (default: the usual configuration)")
    command.add_argument("--region", help="AWS region (default: the usual configuration)")


def run(arguments: argparse.Namespace, out: TextIO) -> int:
    """Ping every function named, in parallel; the worst status."""
    clients = Clients(arguments.profile, arguments.region)
    targets = home_refs(clients, _names(arguments), arguments.qualifier)
    if arguments.like:
        return _run_like(clients, targets, arguments, out)
    ping_format = PingFormat(
        arguments.flag, arguments.concurrency_field, CONCURRENCY_LIMIT, _token(arguments)
    )
    tenants = arguments.tenants
    event = ping_format.scheduled_ping(arguments.concurrency, tenants)
    client = clients.invoke_client(arguments.timeout)
    answered: list[PingResult] = []

    def one(target: FunctionRef) -> PingResult:
        result = ping(client, target, event, arguments.concurrency, tenants, token_chosen=True)
        answered.append(result)
        return result

    with (
        ThreadPoolExecutor(min(len(targets), MAX_PARALLEL_PINGS)) as pool,
        progress_of(arguments).ticking(lambda s: _waiting(targets, len(answered), arguments.concurrency, s)),
    ):
        results = list(pool.map(one, targets))
    return _show(results, arguments.json, out)


def _waiting(targets: list[FunctionRef], answered: int, concurrency: int | str, seconds: float) -> str:
    """The progress line of a ping still waiting: the function reports once its rounds are done."""
    if len(targets) == 1:
        return (
            f"pinging {targets[0]} (concurrency {concurrency}): {seconds:.0f} s, the report comes when "
            "its rounds are done"
        )
    return f"pinging {len(targets)} functions: {answered} of {len(targets)} answered, {seconds:.0f} s"


def _show(results: list[PingResult], as_json: bool, out: TextIO) -> int:
    """Print the pings' results (raw answers, one table, or a line each); the worst status."""
    if as_json:
        answers = {str(r.target): r.answer if r.report is not None else {"error": r.message} for r in results}
        print(
            json.dumps(answers[str(results[0].target)] if len(results) == 1 else answers, indent=2), file=out
        )
    elif len(results) == 1:
        print_table(results[0], out)
    else:
        for result in results:
            print(summary_line(result), file=out)
    return max(result.status for result in results)


def _run_like(
    clients: Clients, targets: list[FunctionRef], arguments: argparse.Namespace, out: TextIO
) -> int:
    """``--like ALIAS``: warm one version to what ALIAS needs now, with the function's own settings
    (its auto headroom and bounds, its ping's field names and token), and verify N of N."""
    if len(targets) != 1 or not targets[0].qualifier:
        raise UsageError("--like warms one function's version: name one function and its --qualifier")
    if arguments.concurrency == AUTO:
        raise UsageError("--like takes --concurrency N (the least to warm), not auto")
    target = targets[0]
    try:
        clients.lambda_.get_alias(FunctionName=target.function, Name=arguments.like)
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            raise UsageError(f"--like {arguments.like}: {target.name} has no such alias") from None
        raise
    deployed = read_function(clients, target)
    try:
        config = deployed.settings()
    except WarmerConfigError as error:
        raise UsageError(f"{target.name}'s WARMER_* settings are invalid: {error}") from None
    read = clients.metric_reader(AUTO_TIMEOUT_MS / 1000)
    need = environments_needed(
        config, deployed.name, arguments.like, arguments.concurrency, float("inf"), read=read
    )
    print(f"needed: {need.describe(arguments.like)}", file=out)
    event = PingFormat.of(config).scheduled_ping(need.instances)
    result = ping(clients.invoke_client(arguments.timeout), target, event, need.instances)
    return _show([result], arguments.json, out)
