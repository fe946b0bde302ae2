"""The fields a request is checked for first: an event with none of them is no ping.

The per-request check reads them before anything about pings is loaded (``pings`` recognises a
ping, ``durable`` reads one inside a durable execution's envelope), so a plain request loads
nothing more than this.
"""

from __future__ import annotations

FANOUT_KEY = "__lambdawarmer__"
"""The one field a fanned-out ping's data sits under (an object, never ``true``)."""
SOURCE_FIELD = "source"
"""The field serverless-plugin-warmup's ping names itself in."""
ENVELOPE_FIELD = "DurableExecutionArn"
"""The field every durable invocation's envelope has (and no ping has): see ``durable``."""


def trigger_fields(flag: str) -> tuple[str, str, str]:
    """The fields a ping has one of, for a function whose flag field is ``flag``: an event with none
    of them is not a ping (the per-request check, made before anything about pings is loaded)."""
    return (FANOUT_KEY, flag, SOURCE_FIELD)
