"""What goes over the wire, two vocabularies: what a ping is (``pings``), and what it answers (``reports``,
with the fan-out's records in ``rounds``).

Three kinds of ping are recognised:

* a scheduled ping, ``{"<flag>": true, "<concurrency>": N}`` (with ``"token"`` when one is set):
  the only kind that may fan out. :meth:`PingFormat.scheduled_ping` builds it from the function's
  own settings, for everything that sends one (``ping``, ``enable``'s schedule, the bench);
* a fanned-out ping, ``{"__lambdawarmer__": {"index": i, "total": N, "correlation_id": c}}``. All
  of its data sits under one reserved key whose value is an object, never ``true``, so it cannot
  be read as a scheduled ping whatever field names are configured;
* what other warmers send: the fanned-out payloads of lambda-warmer (JS) and lambda-warmer-py
  (``__WARMER_INVOCATION__`` beside the flag) and serverless-plugin-warmup's
  ``{"source": "serverless-plugin-warmup"}``. None of them fans out.

With a token set (``WARMER_TOKEN``) only the owner's pings count: a scheduled ping must carry it in
its ``token`` field, a fanned-out payload must carry a proof made with it (an HMAC of its fields,
not the token itself), and other warmers' payloads are not recognised. Anything else shaped like a
ping is a normal event: it goes to the handler untouched, and one bounded warning says so.

A ping is answered with a :class:`Report` (its rounds :class:`RoundReport`, its auto choice
:class:`AutoChoice`): built as objects, sent as JSON by :meth:`Report.as_dict`, read back by
:meth:`Report.from_dict`, the only two conversions; :func:`report_from_answer` reads an invoke's answer.

Each name is loaded from its module when first used (``from lambdawarmer.protocol import Report``
works as usual): recognising a ping loads ``pings`` only. The fields a request is checked for first
are in ``fields``: a plain request, which has none of them, loads no other module of the package.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .fields import ENVELOPE_FIELD, FANOUT_KEY, SOURCE_FIELD, trigger_fields
    from .pings import (
        AUTO,
        EVENTBRIDGE_FIELDS,
        LEGACY_CORRELATION_IDS,
        LEGACY_INDEX,
        LEGACY_TOTAL,
        PLUGIN_SOURCE,
        PROOF_FIELD,
        Ping,
        PingFormat,
        PingKind,
        TreePlace,
        fanout_payload,
    )
    from .proofs import proof
    from .reports import (
        FunctionFailed,
        NotAReport,
        Origination,
        PingFailedInside,
        Report,
        failure_answer,
        report_from_answer,
    )
    from .rounds import ROUND_FIELDS, AutoChoice, Failure, FanOutReport, RoundReport, TenantReport

__all__ = [
    "AUTO",
    "ENVELOPE_FIELD",
    "EVENTBRIDGE_FIELDS",
    "FANOUT_KEY",
    "LEGACY_CORRELATION_IDS",
    "LEGACY_INDEX",
    "LEGACY_TOTAL",
    "PLUGIN_SOURCE",
    "PROOF_FIELD",
    "ROUND_FIELDS",
    "SOURCE_FIELD",
    "AutoChoice",
    "Failure",
    "FanOutReport",
    "FunctionFailed",
    "NotAReport",
    "Origination",
    "Ping",
    "PingFailedInside",
    "PingFormat",
    "PingKind",
    "Report",
    "RoundReport",
    "TenantReport",
    "TreePlace",
    "failure_answer",
    "fanout_payload",
    "proof",
    "report_from_answer",
    "trigger_fields",
]
_MODULES = ("fields", "pings", "proofs", "rounds", "reports")
"""Where the names of ``__all__`` are defined, looked up in this order (a ping's first)."""


def __getattr__(name: str) -> object:
    """``name`` from the module that defines it, loaded now (and kept, so this runs once a name)."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    for module in _MODULES:
        found = getattr(import_module(f"{__name__}.{module}"), name, None)
        if found is not None:
            globals()[name] = found
            return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
