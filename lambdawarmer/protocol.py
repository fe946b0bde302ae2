"""What goes over the wire: the pings, the fanned-out payload, and the report a ping is answered with.

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
:meth:`Report.from_dict`, the only two conversions.
"""

from __future__ import annotations

import json

from .config import CONCURRENCY_LIMIT, TOKEN_FIELD
from .logs import logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from .config import WarmerConfig

FANOUT_KEY = "__lambdawarmer__"
LEGACY_INDEX = "__WARMER_INVOCATION__"
LEGACY_TOTAL = "__WARMER_CONCURRENCY__"
LEGACY_CORRELATION_IDS = ("__WARMER_CORRELATION_ID__", "__WARMER_CORRELATIONID__")
PLUGIN_SOURCE = "serverless-plugin-warmup"
SOURCE_FIELD = "source"
AUTO = "auto"
"""The concurrency a scheduled ping may ask for instead of a number: as many as recent traffic needs."""
EVENTBRIDGE_FIELDS = frozenset(("detail-type", "detail"))
"""The fields of an EventBridge event's envelope: an event with them is never a ping, whatever its
``source`` (anyone may put an event with ``source: serverless-plugin-warmup`` on a bus)."""
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


PROVEN_FIELDS = ("index", "total", "hold_ms", "correlation_id")


def _well_typed(data: Mapping[str, object]) -> bool:
    """Whether a fanned-out payload's fields have the types :func:`fanout_payload` writes (whole
    numbers, a short string), checked before anything reads them further."""
    index, total, hold_ms, correlation_id = (data.get(name) for name in PROVEN_FIELDS)
    numbers_ok = all(_whole(value) is not None for value in (index, total)) and (
        hold_ms is None or _whole(hold_ms) is not None
    )
    return numbers_ok and isinstance(correlation_id, str) and len(correlation_id) <= MAX_CORRELATION_ID_LENGTH


def proof(token: str, data: Mapping[str, object]) -> str:
    """The proof a fanned-out payload carries: an HMAC-SHA256, keyed with the token, of its fields
    (well typed: see :func:`_well_typed`)."""
    import hashlib
    import hmac

    message = json.dumps([data.get(name) for name in PROVEN_FIELDS], separators=(",", ":"))
    return hmac.new(_as_bytes(token), _as_bytes(message), hashlib.sha256).hexdigest()


def _same(secret: str, offered: object) -> bool:
    """Whether ``offered`` is ``secret``, compared in constant time."""
    import hmac

    return isinstance(offered, str) and hmac.compare_digest(_as_bytes(secret), _as_bytes(offered))


class _Refused:
    """A ping-shaped event that is not a ping of this function: why (never its values), and the ping
    it would be with the right token."""

    __slots__ = ("ping", "reason")

    def __init__(self, reason: str, ping: Ping) -> None:
        self.reason = reason
        self.ping = ping


class PingFormat:
    """The pings of one function: its field names, its cap on the concurrency and its token.

    Recognises them (:meth:`detect`, the one definition of a ping) and builds the scheduled one
    (:meth:`scheduled_ping`), so what is sent and what is taken for a ping cannot drift apart.
    """

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

    @classmethod
    def of(cls, config: WarmerConfig) -> PingFormat:
        """The pings a function with these settings answers."""
        return cls(config.flag, config.concurrency, config.max_concurrency, config.token)

    def scheduled_ping(self, concurrency: int | str) -> dict[str, object]:
        """The scheduled ping asking for ``concurrency`` (N, or ``"auto"``) that :meth:`detect` takes."""
        event: dict[str, object] = {self.flag: True, self.concurrency_field: concurrency}
        if self.token is not None:
            event[TOKEN_FIELD] = self.token
        return event

    def detect(self, event: Mapping[str, object]) -> Ping | None:
        """The ping ``event`` is, or ``None`` for a real event. It reads :attr:`trigger_fields` first,
        so an event holding none of them is known not to be a ping without the call (the wrapper's
        fast check). A ping-shaped event without the token is logged (bounded, no values). Never raises.
        """
        try:
            found = self._recognise(event)
        except Exception:  # an event no one planned for is not a ping: it goes to the handler
            return None
        if isinstance(found, _Refused):
            _untrusted(found.reason)
            return None
        return found

    def explain(self, event: object) -> tuple[Ping | None, str | None]:
        """For checks made from outside (``status`` reading a schedule's input): the ping ``event``
        is or asks to be (None: not ping-shaped), and why this function would take it for a normal
        event (None: it is a ping). Logs nothing."""
        found = self._recognise(event) if isinstance(event, dict) else None
        if isinstance(found, Ping):
            return found, None
        if isinstance(found, _Refused):
            return (
                found.ping,
                f"{found.reason}: it would go to the handler as a normal event (WARMER_TOKEN is set)",
            )
        return None, f"not a warm-up ping of this function (expected {{{json.dumps(self.flag)}: true, ...}})"

    def _recognise(self, event: Mapping[str, object]) -> Ping | _Refused | None:
        fanout_field, flag, source_field = self.trigger_fields
        fanned_out = event.get(fanout_field)
        if isinstance(fanned_out, dict):
            if self.token is not None and not (
                _well_typed(fanned_out) and _same(proof(self.token, fanned_out), fanned_out.get(PROOF_FIELD))
            ):
                return _Refused("a fanned-out payload without a valid proof", self._fanned_out(fanned_out))
            return self._fanned_out(fanned_out)
        if event.get(flag) is True:
            if self.token is not None:
                if not _same(self.token, event.get(TOKEN_FIELD)):
                    return _Refused(
                        f"a warm-up ping without the right {TOKEN_FIELD!r} field", self._scheduled(event)
                    )
            elif self.reads_legacy_payloads and LEGACY_INDEX in event:
                return self._legacy(event)
            return self._scheduled(event)
        if event.get(source_field) == PLUGIN_SOURCE and not EVENTBRIDGE_FIELDS & event.keys():
            if self.token is not None:
                return _Refused("serverless-plugin-warmup's ping", Ping(PingKind.PLUGIN, 1, 1, None))
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


class NotAReport(ValueError):
    """An answer that is not a lambdawarmer report (the message says what it is instead)."""


class PingFailedInside(NotAReport):
    """lambdawarmer's answer when the ping failed inside it (:func:`failure_answer`); the message says why."""


def _number(data: Mapping[str, object], key: str) -> Any:
    """``data[key]`` when it is a number (never a bool), else None."""
    value = data.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _count(data: Mapping[str, object], key: str) -> int:
    value = _number(data, key)
    return int(value) if value is not None else 0


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _text(data: Mapping[str, object], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


class Failure:
    """One fanned-out invoke that brought no report, and why."""

    __slots__ = ("index", "reason", "round_number")

    def __init__(self, round_number: int, index: int, reason: str) -> None:
        self.round_number = round_number
        self.index = index
        self.reason = reason

    def as_dict(self) -> dict[str, object]:
        return {"round": self.round_number, "index": self.index, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Failure:
        return cls(_count(data, "round"), _count(data, "index"), _text(data, "reason") or "")


class RoundReport:
    """One round of a fan-out: the hold asked, how the invokes left and arrived, what they warmed.

    ``send_spread_ms``: from the first invoke leaving to the last. ``arrival_spread_ms``: how far
    apart the instances started holding, by their clocks (``warm_arrival_spread_ms``: those that
    were warm already). ``instances_warmed``: the distinct instances after this round.
    """

    __slots__ = (
        "arrival_spread_ms",
        "hold_ms",
        "instances_warmed",
        "invocations_failed",
        "invocations_not_sent",
        "invocations_sent",
        "not_sent_reason",
        "send_spread_ms",
        "warm_arrival_spread_ms",
    )

    def __init__(
        self,
        *,
        hold_ms: int,
        send_spread_ms: float | None,
        arrival_spread_ms: int | None,
        warm_arrival_spread_ms: int | None,
        invocations_sent: int,
        invocations_failed: int,
        invocations_not_sent: int,
        not_sent_reason: str | None,
        instances_warmed: int,
    ) -> None:
        self.hold_ms = hold_ms
        self.send_spread_ms = send_spread_ms
        self.arrival_spread_ms = arrival_spread_ms
        self.warm_arrival_spread_ms = warm_arrival_spread_ms
        self.invocations_sent = invocations_sent
        self.invocations_failed = invocations_failed
        self.invocations_not_sent = invocations_not_sent
        self.not_sent_reason = not_sent_reason
        self.instances_warmed = instances_warmed

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in ROUND_FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RoundReport:
        return cls(
            hold_ms=_count(data, "hold_ms"),
            send_spread_ms=_number(data, "send_spread_ms"),
            arrival_spread_ms=_number(data, "arrival_spread_ms"),
            warm_arrival_spread_ms=_number(data, "warm_arrival_spread_ms"),
            invocations_sent=_count(data, "invocations_sent"),
            invocations_failed=_count(data, "invocations_failed"),
            invocations_not_sent=_count(data, "invocations_not_sent"),
            not_sent_reason=_text(data, "not_sent_reason"),
            instances_warmed=_count(data, "instances_warmed"),
        )


ROUND_FIELDS = (
    "hold_ms",
    "send_spread_ms",
    "arrival_spread_ms",
    "warm_arrival_spread_ms",
    "invocations_sent",
    "invocations_failed",
    "invocations_not_sent",
    "not_sent_reason",
    "instances_warmed",
)
"""A round's fields, in the order the report lists them."""


class AutoChoice:
    """How ``"concurrency": "auto"`` chose N (the report's ``auto`` field; N is its ``concurrency``)."""

    __slots__ = ("excluded_minutes", "fallback", "instances", "peak", "window_minutes")

    def __init__(
        self,
        instances: int,
        window_minutes: int,
        *,
        peak: float | None = None,
        excluded_minutes: int = 0,
        fallback: str | None = None,
    ) -> None:
        self.instances = instances
        self.window_minutes = window_minutes
        self.peak = peak
        self.excluded_minutes = excluded_minutes
        self.fallback = fallback

    def as_dict(self) -> dict[str, object]:
        return {
            "peak": self.peak,
            "window_minutes": self.window_minutes,
            "warm_up_minutes_excluded": self.excluded_minutes,
            "fallback": self.fallback,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object], instances: int) -> AutoChoice:
        return cls(
            instances,
            _count(data, "window_minutes"),
            peak=_number(data, "peak"),
            excluded_minutes=_count(data, "warm_up_minutes_excluded"),
            fallback=_text(data, "fallback"),
        )


class FanOutReport:
    """What the instance that received a scheduled ping did beyond itself: every round, summed.

    ``hold_ms`` and ``send_spread_ms`` are the first round's; ``fanout_ms`` how long the rounds took.
    """

    __slots__ = ("failures", "fanout_ms", "instances_cold", "instances_warmed", "rounds")

    def __init__(
        self,
        rounds: list[RoundReport],
        failures: list[Failure],
        instances_warmed: int,
        instances_cold: int,
        fanout_ms: float,
    ) -> None:
        self.rounds = rounds
        self.failures = failures
        self.instances_warmed = instances_warmed
        self.instances_cold = instances_cold
        self.fanout_ms = fanout_ms

    @property
    def invocations_sent(self) -> int:
        return sum(one.invocations_sent for one in self.rounds)

    @property
    def invocations_not_sent(self) -> int:
        return sum(one.invocations_not_sent for one in self.rounds)

    @property
    def not_sent_reason(self) -> str | None:
        return next((one.not_sent_reason for one in self.rounds if one.not_sent_reason), None)

    def as_dict(self) -> dict[str, object]:
        first = self.rounds[0]
        return {
            "invocations_sent": self.invocations_sent,
            "invocations_failed": len(self.failures),
            "invocations_not_sent": self.invocations_not_sent,
            "not_sent_reason": self.not_sent_reason,
            "failures": [failure.as_dict() for failure in self.failures],
            "instances_warmed": self.instances_warmed,
            "instances_cold": self.instances_cold,
            "hold_ms": first.hold_ms,
            "send_spread_ms": first.send_spread_ms,
            "rounds": [one.as_dict() for one in self.rounds],
            "fanout_ms": self.fanout_ms,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> FanOutReport | None:
        rounds = [RoundReport.from_dict(one) for one in _list(data.get("rounds")) if isinstance(one, dict)]
        if not rounds:
            return None
        return cls(
            rounds,
            [Failure.from_dict(one) for one in _list(data.get("failures")) if isinstance(one, dict)],
            _count(data, "instances_warmed"),
            _count(data, "instances_cold"),
            float(_number(data, "fanout_ms") or 0.0),
        )


class Origination:
    """What the instance that received a scheduled ping adds to its report: how N was chosen (from
    the event, or ``auto``) and, when N > 1, the fan-out."""

    __slots__ = ("auto", "concurrency", "fan_out", "source")

    def __init__(
        self, concurrency: int, source: str, auto: AutoChoice | None, fan_out: FanOutReport | None
    ) -> None:
        self.concurrency = concurrency
        self.source = source
        self.auto = auto
        self.fan_out = fan_out


class Report:
    """The answer to a ping: which instance answered, whether it was cold, and for the instance that
    received a scheduled ping, its :class:`Origination`. ``held_at``: when an invoked instance
    started holding (epoch ms, its clock)."""

    __slots__ = (
        "cold",
        "concurrency",
        "correlation_id",
        "function",
        "held_at",
        "index",
        "instance_id",
        "origination",
        "source",
    )

    def __init__(
        self,
        *,
        function: str,
        instance_id: str,
        cold: bool,
        index: int,
        concurrency: int,
        correlation_id: str,
        source: str,
        held_at: int | None = None,
        origination: Origination | None = None,
    ) -> None:
        self.function = function
        self.instance_id = instance_id
        self.cold = cold
        self.index = index
        self.concurrency = concurrency
        self.correlation_id = correlation_id
        self.source = source
        self.held_at = held_at
        self.origination = origination

    @property
    def fan_out(self) -> FanOutReport | None:
        return None if self.origination is None else self.origination.fan_out

    @property
    def instances_warmed(self) -> int:
        """The distinct instances the ping warmed, this one included."""
        fan_out = self.fan_out
        return 1 if fan_out is None else fan_out.instances_warmed

    @property
    def instances_cold(self) -> int:
        """How many of them the ping started cold."""
        fan_out = self.fan_out
        return int(self.cold) if fan_out is None else fan_out.instances_cold

    @property
    def invocations_failed(self) -> int:
        fan_out = self.fan_out
        return 0 if fan_out is None else len(fan_out.failures)

    @property
    def invocations_sent(self) -> int:
        fan_out = self.fan_out
        return 0 if fan_out is None else fan_out.invocations_sent

    def as_dict(self) -> dict[str, Any]:
        """The report as it goes over the wire (and into the log)."""
        data: dict[str, Any] = {
            "warmed": True,
            "function": self.function,
            "instance_id": self.instance_id,
            "cold": self.cold,
            "index": self.index,
            "concurrency": self.concurrency,
            "correlation_id": self.correlation_id,
            "source": self.source,
        }
        if self.held_at is not None:
            data["held_at"] = self.held_at
        origination = self.origination
        if origination is not None:
            data["concurrency"] = origination.concurrency
            data["concurrency_source"] = origination.source
            if origination.auto is not None:
                data["auto"] = origination.auto.as_dict()
            if origination.fan_out is not None:
                data.update(origination.fan_out.as_dict())
        return data

    @classmethod
    def from_dict(cls, data: object) -> Report:
        """The report ``data`` is; raises :class:`NotAReport` saying what it is instead."""
        if not isinstance(data, dict):
            raise NotAReport(f"not a JSON object: {bounded(data, 120)}")
        if data.get("warmed") is False and isinstance(data.get("error"), str):
            raise PingFailedInside(f"lambdawarmer failed inside the function: {data['error']}")
        instance_id = data.get("instance_id")
        if data.get("warmed") is not True or not isinstance(instance_id, str):
            raise NotAReport(f"not a lambdawarmer report: {bounded(data, 120)}")
        concurrency = _count(data, "concurrency")
        origination = None
        source = _text(data, "concurrency_source")
        if source is not None:
            auto = data.get("auto")
            origination = Origination(
                concurrency,
                source,
                AutoChoice.from_dict(auto, concurrency) if isinstance(auto, dict) else None,
                FanOutReport.from_dict(data),
            )
        return cls(
            function=_text(data, "function") or "",
            instance_id=instance_id,
            cold=data.get("cold") is True,
            index=_count(data, "index"),
            concurrency=concurrency,
            correlation_id=_text(data, "correlation_id") or "",
            source=_text(data, "source") or "",
            held_at=_number(data, "held_at"),
            origination=origination,
        )


def failure_answer(error: BaseException) -> dict[str, object]:
    """The answer to a ping that failed inside lambdawarmer (the function itself does not fail)."""
    return {"warmed": False, "error": f"{type(error).__name__}: {error}"[:300]}
