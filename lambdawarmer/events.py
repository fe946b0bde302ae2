"""Telling warm-up pings from real events, and the payloads of a fan-out.

Three kinds of ping are recognised:

* a scheduled ping, ``{"<flag>": true, "<concurrency>": N}``: the only kind that may fan out;
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
"""

from __future__ import annotations

import json

from .config import CONCURRENCY_LIMIT
from .logs import logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

FANOUT_KEY = "__lambdawarmer__"
LEGACY_INDEX = "__WARMER_INVOCATION__"
LEGACY_TOTAL = "__WARMER_CONCURRENCY__"
LEGACY_CORRELATION_IDS = ("__WARMER_CORRELATION_ID__", "__WARMER_CORRELATIONID__")
PLUGIN_SOURCE = "serverless-plugin-warmup"
SOURCE_FIELD = "source"
AUTO = "auto"
"""The concurrency a scheduled ping may ask for instead of a number: as many as recent traffic needs."""
TOKEN_FIELD = "token"
PROOF_FIELD = "proof"
MAX_CORRELATION_ID_LENGTH = 128
MAX_LOGGED_VALUE_LENGTH = 64


class PingKind:
    """The kinds of ping (the report's ``source`` field)."""

    SCHEDULED = "schedule"
    FANNED_OUT = "fanout"
    LAMBDA_WARMER = "lambda-warmer"
    PLUGIN = PLUGIN_SOURCE


class Ping:
    """A recognised warm-up ping.

    ``index`` is 1 on the instance that received the scheduled ping and 2..N on the instances it
    invoked; ``total`` is N (0 while ``auto``: N is then chosen from the function's recent
    traffic). ``hold_ms`` is how long the originator asked this instance to hold (None: the
    configured delay; the receiver bounds it). ``warning`` says why a requested concurrency was
    not used as given.
    """

    __slots__ = ("auto", "correlation_id", "hold_ms", "index", "kind", "total", "warning")

    def __init__(
        self,
        kind: str,
        index: int,
        total: int,
        correlation_id: str | None,
        *,
        warning: str | None = None,
        hold_ms: int | None = None,
        auto: bool = False,
    ) -> None:
        self.kind = kind
        self.auto = auto
        self.hold_ms = hold_ms
        self.index = index
        self.total = total
        self.correlation_id = correlation_id
        self.warning = warning

    @property
    def fans_out(self) -> bool:
        """Whether this ping asks its instance to invoke the function ``total - 1`` more times."""
        return self.kind == PingKind.SCHEDULED and (self.auto or self.total > 1)


def bounded(value: object, limit: int = MAX_LOGGED_VALUE_LENGTH) -> str:
    """``repr`` of a value from an event, cut to ``limit`` characters so logs stay small."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _position(value: object) -> int:
    """An index or total from a fanned-out payload, or 0 when it is missing or out of range."""
    number = _whole(value)
    return number if number is not None and 1 <= number <= CONCURRENCY_LIMIT else 0


def _correlation_id(value: object) -> str | None:
    return value[:MAX_CORRELATION_ID_LENGTH] if isinstance(value, str) else None


def _as_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def proof(token: str, data: Mapping[str, object]) -> str:
    """The proof a fanned-out payload carries: an HMAC-SHA256, keyed with the token, of its fields."""
    import hashlib
    import hmac

    fields = [data.get(name) for name in ("index", "total", "hold_ms", "correlation_id")]
    message = json.dumps(fields, separators=(",", ":"), default=str)
    return hmac.new(_as_bytes(token), _as_bytes(message), hashlib.sha256).hexdigest()


def _same(secret: str, offered: object) -> bool:
    """Whether ``offered`` is ``secret``, compared in constant time."""
    import hmac

    return isinstance(offered, str) and hmac.compare_digest(_as_bytes(secret), _as_bytes(offered))


class PingDetector:
    """Recognises pings for one pair of configured field names, with a cap on the concurrency, and
    with a token when one is set."""

    __slots__ = (
        "concurrency_field",
        "flag",
        "max_concurrency",
        "reads_legacy_payloads",
        "token",
        "trigger_fields",
    )

    def __init__(
        self, flag: str, concurrency_field: str, max_concurrency: int, token: str | None = None
    ) -> None:
        self.flag = flag
        self.trigger_fields = (FANOUT_KEY, flag, SOURCE_FIELD)
        """The fields :meth:`detect` reads first: an event with none of them is not a ping."""
        self.concurrency_field = concurrency_field
        self.max_concurrency = max_concurrency
        self.token = token
        # A configured field name wins over the legacy marker of the same name.
        self.reads_legacy_payloads = token is None and LEGACY_INDEX not in (flag, concurrency_field)

    def detect(self, event: Mapping[str, object]) -> Ping | None:
        """The ping ``event`` is, or ``None`` for a real event: the one definition of a ping. It reads
        :attr:`trigger_fields` first, so an event holding none of them is known not to be a ping
        without the call (the wrapper's fast check). Never raises.
        """
        fanout_field, flag, source_field = self.trigger_fields
        fanned_out = event.get(fanout_field)
        if isinstance(fanned_out, dict):
            if self.token is not None and not _same(
                proof(self.token, fanned_out), fanned_out.get(PROOF_FIELD)
            ):
                _untrusted("a fanned-out payload without a valid proof")
                return None
            return self._fanned_out(fanned_out)
        if event.get(flag) is True:
            if self.token is not None:
                if not _same(self.token, event.get(TOKEN_FIELD)):
                    _untrusted(f"a warm-up ping without the right {TOKEN_FIELD!r} field")
                    return None
            elif self.reads_legacy_payloads and LEGACY_INDEX in event:
                return self._legacy(event)
            return self._scheduled(event)
        if event.get(source_field) == PLUGIN_SOURCE:
            if self.token is not None:
                _untrusted("serverless-plugin-warmup's ping")
                return None
            return Ping(PingKind.PLUGIN, 1, 1, None)
        return None

    def _scheduled(self, event: Mapping[str, object]) -> Ping:
        if self.concurrency_field not in event:
            return Ping(PingKind.SCHEDULED, 1, 1, None)
        raw = event[self.concurrency_field]
        if raw == AUTO:
            return Ping(PingKind.SCHEDULED, 1, 0, None, auto=True)
        requested = _whole(raw)
        if requested is None or requested < 1:
            warning = (
                f"{self.concurrency_field}={bounded(raw)} is not a positive whole number nor {AUTO!r}; "
                "warming 1 instance"
            )
            return Ping(PingKind.SCHEDULED, 1, 1, None, warning=warning)
        if requested > self.max_concurrency:
            warning = (
                f"{self.concurrency_field}={bounded(raw)} is above the cap; warming {self.max_concurrency} "
                "instances (raise WARMER_MAX_CONCURRENCY to allow more)"
            )
            return Ping(PingKind.SCHEDULED, 1, self.max_concurrency, None, warning=warning)
        return Ping(PingKind.SCHEDULED, 1, requested, None)

    def _fanned_out(self, data: Mapping[str, object]) -> Ping:
        index, total = _position(data.get("index")), _position(data.get("total"))
        hold = _whole(data.get("hold_ms"))
        hold_ms = hold if hold is not None and hold >= 0 else None
        return Ping(
            PingKind.FANNED_OUT, index, total, _correlation_id(data.get("correlation_id")), hold_ms=hold_ms
        )

    @staticmethod
    def _legacy(event: Mapping[str, object]) -> Ping:
        correlation_id = next(
            (_correlation_id(event[key]) for key in LEGACY_CORRELATION_IDS if key in event), None
        )
        index, total = _position(event.get(LEGACY_INDEX)), _position(event.get(LEGACY_TOTAL))
        return Ping(PingKind.LAMBDA_WARMER, index, total, correlation_id)


def _untrusted(what: str) -> None:
    """Say (without any token or event value) that a ping-shaped event is going to the handler."""
    logger.warning(
        "lambdawarmer: %s went to the handler as a normal event: WARMER_TOKEN is set, so only pings "
        "carrying it count",
        what,
    )


def fanout_payload(
    index: int, total: int, correlation_id: str, hold_ms: int, token: str | None = None
) -> bytes:
    """The event sent to the ``index``-th of ``total`` instances in a fan-out (with its proof when a
    token is set)."""
    data: dict[str, object] = {
        "index": index,
        "total": total,
        "correlation_id": correlation_id,
        "hold_ms": hold_ms,
    }
    if token is not None:
        data[PROOF_FIELD] = proof(token, data)
    return json.dumps({FANOUT_KEY: data}, separators=(",", ":")).encode()
