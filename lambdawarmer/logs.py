"""The ``lambdawarmer`` logger: one level per process, and records Lambda's JSON log format keeps as fields.

The level is ``WARMER_LOG_LEVEL`` (or the decorator's ``log_level``) when given, else the function's
own: Lambda's ``AWS_LAMBDA_LOG_LEVEL`` when set, else whatever the root logger has (the logger is
left unset and follows it). It is set once, by the first warmer built in the process.

With ``AWS_LAMBDA_LOG_FORMAT=JSON`` the runtime writes each record as a JSON object and adds the
record's extra attributes as keys: a report then becomes fields of that object, not a JSON string
inside ``message``. In the Text format the message is the fields as one compact JSON object.
"""

from __future__ import annotations

import json
import logging
import os

logger = logging.getLogger("lambdawarmer")

JSON_FORMAT = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
_LAMBDA_LEVELS = {"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}
_applied: list[str | None] = []  # the level set by the first warmer, once one was built


def function_log_level() -> str | None:
    """The function's log level from Lambda's advanced logging controls, as a ``logging`` level name."""
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").strip().upper()
    level = _LAMBDA_LEVELS.get(level, level)
    return level if level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") else None


def apply_level(level: str | None) -> None:
    """Set the logger's level, the first time only: ``level``, else the function's own.

    A later warmer asking for another level is told, once, that the first one's stands.
    """
    if not _applied:
        chosen = level or function_log_level()
        _applied.append(chosen)
        if chosen is not None:
            logger.setLevel(chosen)
    elif level is not None and level != _applied[0]:
        logger.warning(
            "lambdawarmer: log level %s ignored: the lambdawarmer logger's level is one per process, "
            "already %s (set by the first warmer)",
            level,
            _applied[0] or "the function's own",
        )


def log_fields(level: int, message: str, fields: dict[str, object]) -> None:
    """Log ``fields``: as fields of a record saying ``message`` in the JSON format, else as JSON text."""
    if not logger.isEnabledFor(level):
        return
    if JSON_FORMAT:
        logger.log(level, message, extra=fields)
    else:
        logger.log(level, json.dumps(fields, separators=(",", ":")))


MAX_LOGGED_VALUE_LENGTH = 64


def bounded(value: object, limit: int = MAX_LOGGED_VALUE_LENGTH) -> str:
    """A value from an event as a log line may show it, in at most ``limit`` characters and at a
    cost that does not grow with the value: a string's start, a number, or a container's kind and
    size (never its repr, which for a 6 MB event costs seconds at 128 MB)."""
    if isinstance(value, str):
        text = repr(value[:limit])
    elif isinstance(value, bool) or value is None or isinstance(value, float):
        text = repr(value)
    elif isinstance(value, int):
        text = repr(value) if value.bit_length() <= 64 else f"a whole number of {value.bit_length()} bits"
    elif isinstance(value, (dict, list)):
        text = f"a JSON {'object' if isinstance(value, dict) else 'array'} of {len(value)} items"
    else:
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."
