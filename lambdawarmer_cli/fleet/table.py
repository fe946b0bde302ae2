"""The fleet's result, as a table or as JSON: a row per function, or per account and region not worked."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from ..setup_checks import FAIL, OK, WARN

STATES = (OK, WARN, FAIL)
NEEDS_SHOWN = 120
"""Characters of "what it needs" shown in the table (--json has it whole)."""
HEADINGS = ("ACCOUNT", "REGION", "FUNCTION", "N", "STATE", "NEEDS")
EVERY_FUNCTION = "*"
"""The function column of a row about a whole account and region."""


@dataclass
class Row:
    """One function of the fleet: how many environments its schedule warms (``n``), its state, and
    what it needs (empty when nothing); ``checks``: status's checks, when they ran."""

    account: str
    region: str
    function: str
    n: str
    state: str
    needs: str
    checks: list[dict[str, str]] = field(default_factory=list)


def rows_sorted(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: (row.account, row.region, row.function))


def table(rows: list[Row]) -> list[str]:
    """Columns two spaces apart, the longest needs cut to :data:`NEEDS_SHOWN` characters."""
    cells = [HEADINGS] + [
        (row.account, row.region, row.function, row.n, row.state, _cut(row.needs)) for row in rows
    ]
    widths = [max(len(line[column]) for line in cells) for column in range(len(HEADINGS) - 1)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths)) + "  " + line[-1]
        for line in cells
    ]


def as_json(rows: list[Row]) -> str:
    return json.dumps([asdict(row) for row in rows], indent=2)


def totals(rows: list[Row]) -> str:
    """``20 functions: 18 OK, 1 WARN, 1 FAIL``."""
    functions = sum(1 for row in rows if row.function != EVERY_FUNCTION)
    counts = ", ".join(f"{sum(1 for row in rows if row.state == state)} {state}" for state in STATES)
    return f"{functions} function(s): {counts}"


def _cut(text: str) -> str:
    return text if len(text) <= NEEDS_SHOWN else text[: NEEDS_SHOWN - 3] + "..."


def worst(verdicts: list[str]) -> str:
    """FAIL over WARN over OK."""
    return max(verdicts, key=STATES.index, default=OK)
