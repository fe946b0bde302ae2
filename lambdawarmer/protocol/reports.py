"""What a ping answers: the report, its fan-out's rounds, its auto choice, read back from JSON."""

from __future__ import annotations

from ..logs import bounded

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


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
