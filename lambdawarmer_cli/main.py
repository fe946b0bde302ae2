"""The ``lambdawarmer`` command: its parser, and every error turned into a documented exit status.

    lambdawarmer ping orders --concurrency 5 --qualifier live
    lambdawarmer ping orders payments --file more-functions.txt
    lambdawarmer config --env-file prod.env
    lambdawarmer enable orders --concurrency 3 --dry-run
    lambdawarmer status orders
    lambdawarmer cost orders --concurrency 3
    lambdawarmer cost orders --history --days 14

Each command lives in its own module (``add_parser`` and ``run``); exit_status.py has the table.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import TextIO

from lambdawarmer.aws import error_reason
from lambdawarmer.version import __version__

from . import adopt, config_command, cost, ping, status
from .clients import is_aws_error
from .exit_status import AWS_FAILED, INTERNAL_ERROR, USAGE, UsageError

COMMANDS = {
    "ping": ping.run,
    "config": config_command.run,
    "enable": adopt.run,
    "disable": adopt.run,
    "status": status.run,
    "cost": cost.run,
}


def parser() -> argparse.ArgumentParser:
    """Every command's arguments (argparse exits :data:`USAGE` on a bad one)."""
    main = argparse.ArgumentParser(
        prog="lambdawarmer", description="Keep functions warm with lambdawarmer: adopt it, check it, ping."
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
    config_command.add_parser(commands)
    adopt.add_parsers(commands, which, aws)
    status.add_parser(commands, which, aws)
    cost.add_parser(commands, aws)
    return main


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run the ``lambdawarmer`` command; its exit status."""
    arguments = parser().parse_args(argv)
    try:
        return COMMANDS[arguments.command](arguments, out or sys.stdout)
    except UsageError as error:
        print(f"lambdawarmer {arguments.command}: {error}", file=sys.stderr)
        return USAGE
    except Exception as error:
        if is_aws_error(error):
            print(f"lambdawarmer {arguments.command}: {error_reason(error)}", file=sys.stderr)
            return AWS_FAILED
        traceback.print_exc()
        print(f"lambdawarmer {arguments.command}: internal error (a bug: please report it)", file=sys.stderr)
        return INTERNAL_ERROR
