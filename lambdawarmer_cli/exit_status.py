"""The exit statuses of the ``lambdawarmer`` command: one table, and the error that means usage.

    0  done: every ping warmed N of N; status found no FAIL; config found no error
    1  a ping warmed fewer than N (capped, failed invokes, reused instances); config: an invalid
       setting
    2  usage: an argument, a file or a name that cannot be used (the message says which); an ARN
       of another account, region or partition; refused before any change
    3  an AWS call was refused or not answered (denied, not found, throttled, unreachable, no
       credentials); enable, disable, status: a function could not be read
    4  the function did not answer as lambdawarmer does (not attached, or a function error);
       enable: the version the qualifier serves does not have the layer (not pinged)
    5  enable or disable: a change failed, or the function cannot be changed as asked
    6  status found a FAIL
    7  cost --history: CloudWatch holds too little of the function's traffic to replay
   70  an internal error (a bug in lambdawarmer; the traceback is printed)

With several functions, the worst status wins (the highest number).
"""

OK = 0
NOT_ALL_WARM = 1
INVALID_SETTINGS = 1
"""``config``'s status for an invalid setting (as documented since the first release)."""
USAGE = 2
AWS_FAILED = 3
NOT_LAMBDAWARMER = 4
CHANGE_FAILED = 5
STATUS_FAILED = 6
NO_HISTORY = 7
INTERNAL_ERROR = 70
"""sysexits.h's EX_SOFTWARE: Python's own 1 for an uncaught exception would read as "fewer warm"."""


class UsageError(Exception):
    """The command was asked for something it cannot use; exits :data:`USAGE` with the message."""


MEANINGS = {
    OK: "done (N of N warm; no FAIL; no invalid setting)",
    NOT_ALL_WARM: "a ping warmed fewer than N; config: an invalid setting",
    USAGE: "usage: an argument, a file or a name that cannot be used; nothing was changed",
    AWS_FAILED: "an AWS call was refused or not answered (denied, not found, throttled, no credentials)",
    NOT_LAMBDAWARMER: "the function did not answer as lambdawarmer does, or cannot be pinged yet",
    CHANGE_FAILED: "a change failed or cannot be made (what was applied is said; run again to finish)",
    STATUS_FAILED: "a check FAILed",
    NO_HISTORY: "too little CloudWatch history to replay",
    INTERNAL_ERROR: "an internal error (a bug in lambdawarmer: please report it)",
}
"""Each status in a line, for the commands' ``--help``."""
COMMAND_STATUSES = {
    "ping": (OK, NOT_ALL_WARM, USAGE, AWS_FAILED, NOT_LAMBDAWARMER, INTERNAL_ERROR),
    "config": (OK, INVALID_SETTINGS, USAGE, INTERNAL_ERROR),
    "enable": (OK, NOT_ALL_WARM, USAGE, AWS_FAILED, NOT_LAMBDAWARMER, CHANGE_FAILED, INTERNAL_ERROR),
    "disable": (OK, USAGE, AWS_FAILED, CHANGE_FAILED, INTERNAL_ERROR),
    "status": (OK, USAGE, AWS_FAILED, STATUS_FAILED, INTERNAL_ERROR),
    "cost": (OK, USAGE, AWS_FAILED, NO_HISTORY, INTERNAL_ERROR),
    "publish": (OK, USAGE, AWS_FAILED, CHANGE_FAILED, INTERNAL_ERROR),
    "fleet": (OK, USAGE, AWS_FAILED, CHANGE_FAILED, STATUS_FAILED, NO_HISTORY, INTERNAL_ERROR),
}
"""The statuses each command can end with."""


COMMAND_MEANINGS = {
    "ping": {OK: "every function pinged warmed N of N", NOT_ALL_WARM: "a ping warmed fewer than N"},
    "config": {OK: "every setting is valid", INVALID_SETTINGS: "an invalid setting (the message says which)"},
    "enable": {
        OK: "done (or a dry run): the first ping warmed N of N",
        NOT_ALL_WARM: "the first ping warmed fewer than N",
    },
    "disable": {OK: "done (or a dry run)"},
    "status": {OK: "no check FAILed"},
    "cost": {OK: "done"},
    "publish": {
        OK: "published (or already there) in every region asked; the manifest written",
        AWS_FAILED: "an AWS call was refused or not answered before publishing (the account, the regions)",
        CHANGE_FAILED: "a region failed, the others are done and kept: run the same command again to finish",
    },
}
"""What a status means for one command, where :data:`MEANINGS` says it for them all."""
SEVERAL_FUNCTIONS = ("ping", "enable", "disable", "status")
"""The commands that take several functions (the worst status wins)."""


def epilog(command: str) -> str:
    """The exit statuses of ``command``, as its ``--help`` ends: its own meaning of each."""
    meanings = {**MEANINGS, **COMMAND_MEANINGS.get(command, {})}
    lines = [f"  {code:>2}  {meanings[code]}" for code in COMMAND_STATUSES[command]]
    several = " (several functions: the highest)" if command in SEVERAL_FUNCTIONS else ""
    return f"exit statuses{several}:\n" + "\n".join(lines)
