"""EventBridge Scheduler expressions for a warm-up schedule: checked before anything changes.

Scheduler takes ``rate(value unit)`` (a whole value of 1 or more; the unit singular for 1, plural
otherwise: ``minute(s)``, ``hour(s)``, ``day(s)``), ``cron(minutes hours day-of-month month
day-of-week year)`` and ``at(...)``, a one-time schedule, which cannot keep anything warm.
"""

from __future__ import annotations

import re

DEFAULT_SCHEDULE = "rate(5 minutes)"
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}
CRON_FIELDS = 6
_RATE = re.compile(r"rate\((\d+) ([a-z]+)\)")
_CRON = re.compile(r"cron\((.*)\)")
EXPECTED = "expected rate(1 minute), rate(N minutes|hours|days) or cron(MIN HOUR DAY MONTH WEEKDAY YEAR)"


class ScheduleError(ValueError):
    """An expression Scheduler would refuse, or one that cannot warm (the message says which)."""


def check(expression: str) -> str:
    """``expression`` when Scheduler takes it as a repeating schedule; raises :class:`ScheduleError`."""
    cron = _CRON.fullmatch(expression)
    if cron:
        fields = cron.group(1).split()
        if len(fields) != CRON_FIELDS:
            raise ScheduleError(
                f"{expression!r}: a cron expression has 6 fields, not {len(fields)}; {EXPECTED}"
            )
        if "?" not in (fields[2], fields[4]):
            raise ScheduleError(f"{expression!r}: day-of-month or day-of-week must be '?'")
        return expression
    period_s(expression)
    return expression


def period_s(expression: str) -> int:
    """The seconds between two firings of a rate expression; raises :class:`ScheduleError`."""
    if _CRON.fullmatch(expression):
        raise ScheduleError(f"{expression!r} has no fixed period: give the rate(...) nearest to it")
    if expression.startswith("at("):
        raise ScheduleError(f"{expression!r} fires once: a warm-up schedule must repeat; {EXPECTED}")
    found = _RATE.fullmatch(expression)
    if not found:
        raise ScheduleError(f"{expression!r} is not a schedule expression: {EXPECTED}")
    value, unit = int(found.group(1)), found.group(2)
    singular = unit.rstrip("s")
    if singular not in UNIT_SECONDS:
        raise ScheduleError(f"{expression!r}: the unit is minute(s), hour(s) or day(s), not {unit!r}")
    if value < 1:
        raise ScheduleError(f"{expression!r}: a rate of {value} never fires; give 1 or more")
    wanted = singular if value == 1 else f"{singular}s"
    if unit != wanted:
        raise ScheduleError(f"{expression!r}: Scheduler wants rate({value} {wanted})")
    return value * UNIT_SECONDS[singular]
