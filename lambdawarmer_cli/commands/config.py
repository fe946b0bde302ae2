"""``lambdawarmer config``: check the ``WARMER_*`` settings with the layer's own code, show the
effective ones, and the handler chain the variables arrange."""

from __future__ import annotations

import argparse
import difflib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from lambdawarmer.config import WarmerConfig, resolve_settings
from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, HANDLER_VARIABLE, WRAPPER_NAME, WRAPPER_PATH
from lambdawarmer.settings import HOOK, SETTINGS, WARMER_SCOPES, mask

from ..exit_status import INVALID_SETTINGS, OK, UsageError

REDIRECT_VARIABLES = {"DD_LAMBDA_HANDLER": "Datadog", "NEW_RELIC_LAMBDA_HANDLER": "New Relic"}
"""Handler-redirecting layers: the function's handler is theirs, and they run the one named here."""


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (``export`` and quotes allowed, ``#`` comments), as a .env file has them."""
    variables = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, value = line.removeprefix("export ").partition("=")
        if not separator:
            raise ValueError(
                f"{path}:{number}: expected NAME=value (the line is not shown: it may hold a secret)"
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        variables[name.strip()] = value
    return variables


def handler_chain(environ: Mapping[str, str]) -> list[str]:
    """What runs an invocation, outermost first, as these variables arrange it; and what is wrong."""
    wrapper = environ.get(EXEC_WRAPPER_VARIABLE)
    chained = SETTINGS["exec_wrapper"].env
    other = environ.get(chained)
    if wrapper is None or not wrapper.endswith(f"/{WRAPPER_NAME}"):
        now = f"is {wrapper}" if wrapper else "is not set"
        advice = f"; keep yours as {SETTINGS['exec_wrapper'].env}={wrapper}" if wrapper else ""
        return [f"warning: {EXEC_WRAPPER_VARIABLE} {now}: set it to {WRAPPER_PATH}{advice}"]
    steps = [f"{wrapper} ({EXEC_WRAPPER_VARIABLE})"]
    if other:
        steps.append(f"{other} ({SETTINGS['exec_wrapper'].env}: sets up its environment and its handler)")
    steps.append("lambdawarmer: answers warm-up pings here, passes everything else on")
    handler = environ.get("_HANDLER") or environ.get(HANDLER_VARIABLE) or "the function's handler"
    steps.append(f"the handler {other} set, which runs {handler}" if other else handler)
    steps.extend(
        f"{environ[variable]} ({variable}: run by the {vendor} handler)"
        for variable, vendor in REDIRECT_VARIABLES.items()
        if variable in environ
    )
    return ["handler chain, outermost first:", *(f"  {n}. {step}" for n, step in enumerate(steps, 1))]


def add_parser(commands: Any) -> None:
    """The ``config`` command's arguments."""
    command = commands.add_parser("config", help="check the WARMER_* settings and show the effective ones")
    command.add_argument("--env-file", help="read the variables from this file instead of the environment")


def run(arguments: argparse.Namespace, out: TextIO) -> int:
    """Check the settings; :data:`INVALID_SETTINGS` when one is not allowed."""
    try:
        environ = read_env_file(Path(arguments.env_file)) if arguments.env_file else dict(os.environ)
    except (OSError, ValueError) as error:
        raise UsageError(str(error)) from None
    hook = any(setting.env in environ for setting in SETTINGS.values() if setting.scope == HOOK)
    resolution = resolve_settings(environ=environ, scopes=(*WARMER_SCOPES, HOOK) if hook else WARMER_SCOPES)
    known = {setting.env for setting in SETTINGS.values()}
    for name in sorted(n for n in environ if n.startswith("WARMER_") and n not in known):
        guess = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {guess[0]}?)" if guess else ""
        print(f"warning: {name} is not a lambdawarmer setting{hint}", file=out)
    if resolution.errors:
        for problem in resolution.errors:
            print(f"error: {problem}", file=out)
        return INVALID_SETTINGS
    width = max(len(setting.env) for setting in SETTINGS.values())
    print(f"{'variable':<{width}}  {'value':<14}  from", file=out)
    for name, setting in SETTINGS.items():
        if name not in resolution.values:  # the deploy hook's, on a function that is not the hook
            continue
        raw = resolution.values[name]
        plain = raw if isinstance(raw, (str, int, bool)) else str(raw)  # the hook's target: its ARN
        value = "unset" if raw is None else str(mask(raw)) if setting.secret else json.dumps(plain)
        source = "environment" if resolution.sources[name] == setting.env else "default"
        print(f"{setting.env:<{width}}  {value:<14}  {source}", file=out)
    config = WarmerConfig(resolution.values)
    derived = "" if config.invoke_timeout is not None else " (the longest hold plus a cold instance's init)"
    print(f"\nfan-out read timeout: {config.read_timeout_ms} ms{derived}", file=out)
    level = config.log_level or "the function's own (AWS_LAMBDA_LOG_LEVEL, else its root logger's)"
    print(f"log level: {level}", file=out)
    for line in handler_chain(environ):
        print(line, file=out)
    return OK
