"""What a fan-out reports: each round's record, each failed invoke, the auto choice, all of it read back
from JSON by the same fields it is written with."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


def number_field(data: Mapping[str, object], key: str) -> Any:
    """``data[key]`` when it is a number (never a bool), else None."""
    value = data.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def count_field(data: Mapping[str, object], key: str) -> int:
    """``data[key]`` as a whole number when it is one, else 0."""
    value = number_field(data, key)
    return int(value) if value is not None else 0


def list_field(value: object) -> list[object]:
    """``value`` when it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def text_field(data: Mapping[str, object], key: str) -> str | None:
    """``data[key]`` when it is a string, else None."""
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
        return cls(count_field(data, "round"), count_field(data, "index"), text_field(data, "reason") or "")


class RoundReport:
    """One round of a fan-out: the hold asked, how the invokes left and arrived, what they warmed.

    ``send_spread_ms``: from the first invoke leaving to the last. ``arrival_spread_ms``: how far
    apart the instances started holding, by their clocks (``warm_arrival_spread_ms``: those that
    were warm already). ``tls_handshakes``: the new HTTPS connections the round opened (a TLS
    handshake each, in its send spread; none on kept-alive connections). ``instances_warmed``: the
    distinct instances after this round. ``tree``: a tree round's shape (relays, depth, fan, the
    release instant and its skew margin, each level's sending), else None; its invocations are
    the whole tree's. The fields
    are written once, here, in the order the report lists them: construction, :meth:`as_dict` and
    :meth:`from_dict` all follow these annotations.
    """

    hold_ms: int
    send_spread_ms: float | None
    arrival_spread_ms: int | None
    warm_arrival_spread_ms: int | None
    tls_handshakes: int
    invocations_sent: int
    invocations_failed: int
    invocations_not_sent: int
    not_sent_reason: str | None
    instances_warmed: int
    tree: dict[str, object] | None

    def __init__(self, **fields: Any) -> None:
        if set(fields) != set(ROUND_FIELDS):
            missing, unknown = set(ROUND_FIELDS) - set(fields), set(fields) - set(ROUND_FIELDS)
            raise TypeError(f"RoundReport: missing {sorted(missing)}, unknown {sorted(unknown)}")
        for name in ROUND_FIELDS:
            setattr(self, name, fields[name])

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in ROUND_FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RoundReport:
        return cls(**{name: _READERS[kind](data, name) for name, kind in cls.__annotations__.items()})


ROUND_FIELDS = tuple(RoundReport.__annotations__)
"""A round's fields, in the order the report lists them."""
_READERS: dict[str, Callable[[Mapping[str, object], str], object]] = {
    "int": count_field,
    "int | None": number_field,
    "float | None": number_field,
    "str | None": text_field,
    "dict[str, object] | None": lambda data, key: data.get(key) if isinstance(data.get(key), dict) else None,
}
"""How a field of each annotated type is read back from JSON."""


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
            count_field(data, "window_minutes"),
            peak=number_field(data, "peak"),
            excluded_minutes=count_field(data, "warm_up_minutes_excluded"),
            fallback=text_field(data, "fallback"),
        )


class TenantReport:
    """One tenant's share of a ping to a function that isolates tenants (the report's ``tenants``)."""

    __slots__ = (
        "concurrency",
        "instances_cold",
        "instances_warmed",
        "invocations_failed",
        "invocations_not_sent",
    )

    def __init__(
        self,
        concurrency: int,
        instances_warmed: int,
        instances_cold: int,
        invocations_failed: int = 0,
        invocations_not_sent: int = 0,
    ) -> None:
        self.concurrency = concurrency
        self.instances_warmed = instances_warmed
        self.instances_cold = instances_cold
        self.invocations_failed = invocations_failed
        self.invocations_not_sent = invocations_not_sent

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in TENANT_FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> TenantReport:
        return cls(*(count_field(data, name) for name in TENANT_FIELDS))


TENANT_FIELDS = (
    "concurrency",
    "instances_warmed",
    "instances_cold",
    "invocations_failed",
    "invocations_not_sent",
)
"""A tenant's figures, in :class:`TenantReport`'s order."""


class FanOutReport:
    """What the instance that received a scheduled ping did beyond itself: every round, summed.

    ``hold_ms`` and ``send_spread_ms`` are the first round's; ``fanout_ms`` how long the rounds took.
    """

    __slots__ = (
        "failures",
        "fanout_ms",
        "instances_cold",
        "instances_provisioned",
        "instances_warmed",
        "rounds",
    )

    def __init__(
        self,
        rounds: list[RoundReport],
        failures: list[Failure],
        instances_warmed: int,
        instances_cold: int,
        fanout_ms: float,
        *,
        instances_provisioned: int = 0,
    ) -> None:
        self.rounds = rounds
        self.failures = failures
        self.instances_warmed = instances_warmed
        self.instances_cold = instances_cold
        self.instances_provisioned = instances_provisioned
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
            "instances_provisioned": self.instances_provisioned,
            "hold_ms": first.hold_ms,
            "send_spread_ms": first.send_spread_ms,
            "rounds": [one.as_dict() for one in self.rounds],
            "fanout_ms": self.fanout_ms,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> FanOutReport | None:
        rounds = [
            RoundReport.from_dict(one) for one in list_field(data.get("rounds")) if isinstance(one, dict)
        ]
        if not rounds:
            return None
        return cls(
            rounds,
            [Failure.from_dict(one) for one in list_field(data.get("failures")) if isinstance(one, dict)],
            count_field(data, "instances_warmed"),
            count_field(data, "instances_cold"),
            float(number_field(data, "fanout_ms") or 0.0),
            instances_provisioned=count_field(data, "instances_provisioned"),
        )
