"""``lambdawarmer``: ping deployed functions and count their warm instances; check the settings;
adopt, inspect and remove warming on existing functions (lambdawarmer/adoption/).

    lambdawarmer ping orders --concurrency 5 --qualifier live
    lambdawarmer ping orders payments --file more-functions.txt
    lambdawarmer config --env-file prod.env
    lambdawarmer enable orders --concurrency 3 --dry-run
    lambdawarmer status orders

Uses boto3 with the caller's usual AWS configuration (profile, region, ``AWS_ENDPOINT_URL_LAMBDA``).
Not part of the layer, and never imported by a function.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from .aws import error_reason
from .config import SETTINGS, WarmerConfig, mask, resolve_settings
from .events import AUTO, TOKEN_FIELD
from .version import __version__

ALL_WARM = 0
NOT_ALL_WARM = 1
USAGE = 2
NOT_SENT = 3
NOT_LAMBDAWARMER = 4
MAX_PARALLEL_PINGS = 16


class PingResult:
    """What one ping gave: the report, or why there is none, and the exit status it means."""

    __slots__ = ("elapsed_s", "function", "message", "report", "requested", "status")

    def __init__(self, function: str, requested: int) -> None:
        self.function = function
        self.requested = requested
        self.report: dict[str, Any] | None = None
        self.message = ""
        self.status = ALL_WARM
        self.elapsed_s = 0.0

    @property
    def warm(self) -> int:
        return int(self.report.get("instances_warmed", 1)) if self.report else 0

    @property
    def cold(self) -> int:
        if not self.report:
            return 0
        return int(self.report.get("instances_cold", int(bool(self.report.get("cold")))))


def _lambda_client(arguments: argparse.Namespace) -> Any:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(profile_name=arguments.profile, region_name=arguments.region)
    config = Config(
        read_timeout=arguments.timeout,
        connect_timeout=10,
        retries={"total_max_attempts": 1},
        max_pool_connections=MAX_PARALLEL_PINGS,
    )
    return session.client("lambda", config=config)


NOT_SENT_HINTS = {
    "AccessDeniedException": "access denied: these credentials may not call lambda:InvokeFunction on it",
    "ResourceNotFoundException": "not found: check the name, the qualifier and the region",
    "TooManyRequestsException": "throttled: the function or the account is at its concurrency limit",
}


def ping(client: Any, function: str, arguments: argparse.Namespace) -> PingResult:
    """Send the warm-up ping to ``function`` synchronously and judge the answer."""
    auto = arguments.concurrency == AUTO
    result = PingResult(function, 0 if auto else arguments.concurrency)
    event: dict[str, object] = {arguments.flag: True, arguments.concurrency_field: arguments.concurrency}
    if arguments.token is not None:
        event[TOKEN_FIELD] = arguments.token
    call = {"FunctionName": function, "Payload": json.dumps(event).encode()}
    if arguments.qualifier:
        call["Qualifier"] = arguments.qualifier
    started = time.monotonic()
    try:
        response = client.invoke(**call)
        body = response["Payload"].read()
    except Exception as error:
        result.elapsed_s = time.monotonic() - started
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        result.status = NOT_SENT
        result.message = f"{NOT_SENT_HINTS.get(code, 'the ping was not answered')} ({error_reason(error)})"
        return result
    result.elapsed_s = time.monotonic() - started
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if response.get("FunctionError"):
        detail = answer if isinstance(answer, dict) else {}
        result.status = NOT_LAMBDAWARMER
        result.message = (
            f"the function failed: {detail.get('errorType', response['FunctionError'])}: "
            f"{detail.get('errorMessage', body[:200].decode(errors='replace'))}"
        )
    elif not isinstance(answer, dict) or answer.get("warmed") is not True or "instance_id" not in answer:
        result.status = NOT_LAMBDAWARMER
        result.message = (
            "the answer is not a lambdawarmer report: is the layer attached with "
            "AWS_LAMBDA_EXEC_WRAPPER=/opt/lambdawarmer-wrapper (or the handler decorated), and do "
            f"--flag/--concurrency-field match its settings? It said: {body[:120].decode(errors='replace')}"
        )
    else:
        result.report = answer
        if auto:
            result.requested = int(answer.get("concurrency", 1))
        if result.warm < result.requested:
            result.status = NOT_ALL_WARM
            result.message = _shortfall(answer, result.requested)
    return result


def _shortfall(report: dict[str, Any], requested: int) -> str:
    granted = report.get("concurrency", requested)
    if isinstance(granted, int) and granted < requested:
        return f"the function capped the ping at {granted} (its WARMER_MAX_CONCURRENCY)"
    failed = report.get("invocations_failed", 0)
    if failed:
        return f"{failed} fanned-out invoke(s) failed"
    return "fewer distinct instances answered than were asked for (some were reused)"


def _target_name(function: str, qualifier: str | None) -> str:
    return f"{function}:{qualifier}" if qualifier else function


def print_table(result: PingResult, qualifier: str | None, out: TextIO) -> None:
    """The readable form of one ping."""
    name = _target_name(result.function, qualifier)
    if result.report is None:
        print(f"{name}: {result.message}", file=out)
        return
    report = result.report
    rows = [
        ("function", name),
        *([("concurrency", describe_auto(report))] if report.get("concurrency_source") == AUTO else []),
        ("instances warm", f"{result.warm} of {result.requested}"),
        ("cold among them", f"{result.cold} (started by this ping)"),
        ("invokes failed", f"{report.get('invocations_failed', 0)} of {report.get('invocations_sent', 0)}"),
        ("fan-out", f"{report['fanout_ms']} ms" if "fanout_ms" in report else "none (concurrency 1)"),
        *([("rounds", _rounds(report["rounds"]))] if len(report.get("rounds", [])) > 1 else []),
        ("wall time", f"{result.elapsed_s:.2f} s"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}", file=out)
    for failure in report.get("failures", []):
        print(f"  invoke #{failure.get('index')}: {failure.get('reason')}", file=out)
    print(
        "OK: all instances warm" if result.status == ALL_WARM else f"NOT ALL WARM: {result.message}", file=out
    )


def _rounds(rounds: list[dict[str, Any]]) -> str:
    warmed = " -> ".join(str(r.get("instances_warmed")) for r in rounds)
    return f"{len(rounds)} (a top-up round after instances answered twice; warm after each: {warmed})"


def summary_line(result: PingResult, qualifier: str | None) -> str:
    """One line per function, for pings of several."""
    name = _target_name(result.function, qualifier)
    if result.report is None:
        return f"{name}  FAILED  {result.message}"
    verdict = "OK" if result.status == ALL_WARM else f"NOT ALL WARM ({result.message})"
    return (
        f"{name}  {result.warm}/{result.requested} warm  {result.cold} cold  "
        f"{result.report.get('invocations_failed', 0)} failed  {result.elapsed_s:.2f} s  {verdict}"
    )


def _functions(arguments: argparse.Namespace) -> list[str]:
    names = list(arguments.functions)
    if arguments.file:
        for line in Path(arguments.file).read_text().splitlines():
            name = line.split("#", 1)[0].strip()
            if name:
                names.append(name)
    return list(dict.fromkeys(names))


def command_ping(arguments: argparse.Namespace, out: TextIO) -> int:
    functions = _functions(arguments)
    if not functions:
        print("lambdawarmer ping: name at least one function (or --file)", file=sys.stderr)
        return USAGE
    if arguments.token_from_env:
        import os

        arguments.token = os.environ.get(SETTINGS["token"].env)
        if not arguments.token:
            print(f"lambdawarmer ping: --token-from-env: {SETTINGS['token'].env} is not set", file=sys.stderr)
            return USAGE
    client = _lambda_client(arguments)
    with ThreadPoolExecutor(min(len(functions), MAX_PARALLEL_PINGS)) as pool:
        results = list(pool.map(lambda function: ping(client, function, arguments), functions))
    if arguments.json:
        answers = {r.function: r.report if r.report is not None else {"error": r.message} for r in results}
        print(json.dumps(answers[functions[0]] if len(functions) == 1 else answers, indent=2), file=out)
    elif len(results) == 1:
        print_table(results[0], arguments.qualifier, out)
    else:
        for result in results:
            print(summary_line(result, arguments.qualifier), file=out)
    return max(result.status for result in results)


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (``export`` and quotes allowed, ``#`` comments), as a .env file has them."""
    variables = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, value = line.removeprefix("export ").partition("=")
        if not separator:
            raise ValueError(f"{path}:{number}: expected NAME=value, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        variables[name.strip()] = value
    return variables


def command_config(arguments: argparse.Namespace, out: TextIO) -> int:
    import os

    try:
        environ = read_env_file(Path(arguments.env_file)) if arguments.env_file else dict(os.environ)
    except (OSError, ValueError) as error:
        print(f"lambdawarmer config: {error}", file=sys.stderr)
        return USAGE
    resolution = resolve_settings(environ=environ)
    known = {setting.env for setting in SETTINGS.values()}
    for name in sorted(n for n in environ if n.startswith("WARMER_") and n not in known):
        guess = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {guess[0]}?)" if guess else ""
        print(f"warning: {name} is not a lambdawarmer setting{hint}", file=out)
    if resolution.errors:
        for problem in resolution.errors:
            print(f"error: {problem}", file=out)
        return 1
    width = max(len(setting.env) for setting in SETTINGS.values())
    print(f"{'variable':<{width}}  {'value':<14}  from", file=out)
    for name, setting in SETTINGS.items():
        raw = resolution.values[name]
        value = "unset" if raw is None else str(mask(raw)) if setting.secret else json.dumps(raw)
        source = "environment" if resolution.sources[name] == setting.env else "default"
        print(f"{setting.env:<{width}}  {value:<14}  {source}", file=out)
    config = WarmerConfig(resolution.values)
    derived = "" if config.invoke_timeout is not None else " (the longest hold plus a cold instance's init)"
    print(f"\nfan-out read timeout: {config.read_timeout_ms} ms{derived}", file=out)
    level = config.log_level or "the function's own (AWS_LAMBDA_LOG_LEVEL, else its root logger's)"
    print(f"log level: {level}", file=out)
    for line in handler_chain(environ):
        print(line, file=out)
    return 0


WRAPPER_NAME = "lambdawarmer-wrapper"
REDIRECT_VARIABLES = {"DD_LAMBDA_HANDLER": "Datadog", "NEW_RELIC_LAMBDA_HANDLER": "New Relic"}
"""Handler-redirecting layers: the function's handler is theirs, and they run the one named here."""


def handler_chain(environ: Mapping[str, str]) -> list[str]:
    """What runs an invocation, outermost first, as these variables arrange it; and what is wrong."""
    wrapper = environ.get("AWS_LAMBDA_EXEC_WRAPPER")
    other = environ.get("WARMER_EXEC_WRAPPER")
    if wrapper is None or not wrapper.endswith(f"/{WRAPPER_NAME}"):
        now = f"is {wrapper}" if wrapper else "is not set"
        advice = f"; keep yours as WARMER_EXEC_WRAPPER={wrapper}" if wrapper else ""
        return [f"warning: AWS_LAMBDA_EXEC_WRAPPER {now}: set it to /opt/{WRAPPER_NAME}{advice}"]
    steps = [f"{wrapper} (AWS_LAMBDA_EXEC_WRAPPER)"]
    if other:
        steps.append(f"{other} (WARMER_EXEC_WRAPPER: sets up its environment and its handler)")
    steps.append("lambdawarmer: answers warm-up pings here, passes everything else on")
    handler = environ.get("_HANDLER") or environ.get("LAMBDAWARMER_HANDLER") or "the function's handler"
    steps.append(f"the handler {other} set, which runs {handler}" if other else handler)
    steps.extend(
        f"{environ[variable]} ({variable}: run by the {vendor} handler)"
        for variable, vendor in REDIRECT_VARIABLES.items()
        if variable in environ
    )
    return ["handler chain, outermost first:", *(f"  {n}. {step}" for n, step in enumerate(steps, 1))]


def _concurrency(text: str) -> int | str:
    if text == AUTO:
        return text
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number or {AUTO!r}, got {text!r}")
    return int(text)


def describe_auto(report: dict[str, Any]) -> str:
    """How an auto ping chose N, in words."""
    auto = report.get("auto") or {}
    chosen = report.get("concurrency")
    if auto.get("fallback"):
        return f"auto: {chosen}, the fallback ({auto['fallback']})"
    excluded = auto.get("warm_up_minutes_excluded", 0)
    return (
        f"auto: {chosen}, from a peak of {auto.get('peak')} concurrent executions in the last "
        f"{auto.get('window_minutes')} minutes ({excluded} warm-up minute(s) left out)"
    )


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="lambdawarmer", description="Keep functions warm with lambdawarmer: adopt it, check it, ping."
    )
    main.add_argument("--version", action="version", version=f"lambdawarmer {__version__}")
    commands = main.add_subparsers(dest="command", required=True)

    ping_command = commands.add_parser(
        "ping",
        help="send the warm-up ping and count the warm instances",
        description="Exit status: 0 all warm, 1 fewer warm than asked, 3 not sent (denied, not found, "
        "throttled, unreachable), 4 the function did not answer as lambdawarmer does.",
    )
    ping_command.add_argument("functions", nargs="*", metavar="FUNCTION", help="function names or ARNs")
    ping_command.add_argument("--file", help="a file with more function names, one per line")
    ping_command.add_argument(
        "--concurrency",
        type=_concurrency,
        default=1,
        help="instances to warm (default 1), or auto: as many as the function's recent peak needs",
    )
    ping_command.add_argument("--qualifier", help="alias or version to ping")
    ping_command.add_argument("--flag", default="warmer", help="the function's WARMER_FLAG (default warmer)")
    ping_command.add_argument(
        "--concurrency-field",
        default="concurrency",
        help="the function's WARMER_CONCURRENCY (default concurrency)",
    )
    token = ping_command.add_mutually_exclusive_group()
    token.add_argument("--token", help="the function's WARMER_TOKEN, sent in the ping's token field")
    token.add_argument(
        "--token-from-env", action="store_true", help="send the WARMER_TOKEN of this shell's environment"
    )
    ping_command.add_argument("--json", action="store_true", help="print the raw report(s)")
    ping_command.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for an answer")
    ping_command.add_argument("--profile", help="AWS profile (default: the usual configuration)")
    ping_command.add_argument("--region", help="AWS region (default: the usual configuration)")

    config_command = commands.add_parser(
        "config", help="check the WARMER_* settings and show the effective ones"
    )
    config_command.add_argument(
        "--env-file", help="read the variables from this file instead of the environment"
    )
    from .adoption.commands import add_commands

    add_commands(commands, _concurrency)
    return main


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """The ``lambdawarmer`` command."""
    arguments = parser().parse_args(argv)
    out = out or sys.stdout
    if arguments.command == "config":
        return command_config(arguments, out)
    if arguments.command == "ping":
        return command_ping(arguments, out)
    from .adoption.commands import run

    return run(arguments, out)
