"""The ``lambdawarmer`` command: its parser, and every error turned into a documented exit status.

    lambdawarmer ping orders --concurrency 5 --qualifier live
    lambdawarmer ping orders payments --file more-functions.txt
    lambdawarmer config --env-file prod.env
    lambdawarmer enable orders --concurrency 3 --dry-run
    lambdawarmer status orders
    lambdawarmer cost orders --concurrency 3
    lambdawarmer cost orders --history --days 14
    lambdawarmer publish dist/lambdawarmer-layer.zip --organization o-a1b2c3d4e5
    lambdawarmer fleet status --tag team=shop --regions all --organization

Each command lives in its own module under ``commands/`` (``add_parser`` and ``run``);
exit_status.py has the table.
"""

from __future__ import annotations

import argparse
import difflib
import signal
import sys
import traceback
from typing import TextIO

from lambdawarmer.version import __version__

from .clients import error_reason, is_aws_error
from .commands import config, cost, disable, enable, fleet, ping, publish, status
from .exit_status import AWS_FAILED, INTERNAL_ERROR, USAGE, UsageError, epilog
from .progress import Progress

COMMANDS = {
    "ping": ping.run,
    "config": config.run,
    "enable": enable.run,
    "disable": disable.run,
    "status": status.run,
    "cost": cost.run,
    "publish": publish.run,
    "fleet": fleet.run,
}


def parser() -> argparse.ArgumentParser:
    """Every command's arguments (argparse exits :data:`USAGE` on a bad one)."""
    main = argparse.ArgumentParser(
        prog="lambdawarmer",
        description="Keep functions warm with lambdawarmer: adopt it, check it, ping.",
        allow_abbrev=False,
    )
    main.add_argument("--version", action="version", version=f"lambdawarmer {__version__}")
    commands = main.add_subparsers(dest="command", required=True)
    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument("--profile", help="AWS profile (default: the usual configuration)")
    aws.add_argument("--region", help="AWS region (default: the usual configuration)")
    which = argparse.ArgumentParser(add_help=False)
    which.add_argument("functions", nargs="*", metavar="FUNCTION", help="names, name:qualifier or ARNs")
    which.add_argument("--tag", metavar="KEY=VALUE", help="every function carrying this tag")
    ping.add_parser(commands)
    config.add_parser(commands)
    enable.add_parser(commands, which, aws)
    disable.add_parser(commands, which, aws)
    status.add_parser(commands, which, aws)
    cost.add_parser(commands, aws)
    publish.add_parser(commands, aws)
    fleet.add_parser(commands, aws)
    for name, command in commands.choices.items():
        command.add_argument(
            "--quiet",
            action="store_true",
            help="no progress on stderr (none either when it is not a terminal)",
        )
        command.epilog = epilog(name)
        command.formatter_class = argparse.RawDescriptionHelpFormatter
        command.allow_abbrev = False
    return main


def check_options(main: argparse.ArgumentParser, argv: list[str]) -> None:
    """Refuse an option the command does not have, naming the one meant (argparse would first
    report a required option as missing: ``--concurency 3`` said ``--concurrency`` was missing)."""
    chosen, rest = main, argv
    while True:  # down to the command chosen (``fleet status``: a command of a command)
        commands = next((a for a in chosen._actions if isinstance(a, argparse._SubParsersAction)), None)
        name = next((token for token in rest if not token.startswith("-")), None)
        if commands is None or name not in commands.choices:
            break
        chosen, rest = commands.choices[name], rest[rest.index(name) + 1 :]
    known = set(chosen._option_string_actions)  # argparse keeps every option string here
    for token in argv:
        if token == "--":
            return
        option = token.split("=", 1)[0]
        if option.startswith("--") and option not in known:
            close = difflib.get_close_matches(option, known, n=1)
            hint = f": did you mean {close[0]}?" if close else ""
            raise UsageError(f"unknown option {option}{hint}")


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run the ``lambdawarmer`` command; its exit status."""
    argv = sys.argv[1:] if argv is None else argv
    commands = parser()
    try:
        check_options(commands, argv)
    except UsageError as error:
        print(f"lambdawarmer: {error}", file=sys.stderr)
        return USAGE
    arguments = commands.parse_args(argv)
    arguments.progress = Progress(arguments.quiet)
    try:
        try:
            return COMMANDS[arguments.command](arguments, out or sys.stdout)
        finally:
            arguments.progress.clear()  # before anything below prints
    except UsageError as error:
        print(f"lambdawarmer {arguments.command}: {error}", file=sys.stderr)
        return USAGE
    except ModuleNotFoundError as error:
        if error.name not in ("boto3", "botocore"):
            raise
        print(
            f"lambdawarmer {arguments.command}: the command line needs boto3, which this installation "
            "lacks: pip install 'lambdawarmer[cli]'",
            file=sys.stderr,
        )
        return USAGE
    except Exception as error:
        if is_aws_error(error):
            print(f"lambdawarmer {arguments.command}: {error_reason(error)}", file=sys.stderr)
            return AWS_FAILED
        traceback.print_exc()
        print(f"lambdawarmer {arguments.command}: internal error (a bug: please report it)", file=sys.stderr)
        return INTERNAL_ERROR


def console() -> None:
    """The ``lambdawarmer`` script: as command-line tools do, a closed pipe (``| head``) ends it
    quietly, by the default SIGPIPE action, instead of a traceback."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
