"""What a relay of a tree round answers beyond its own report: its subtree's instances, failures and
levels, read back from JSON by the same fields it is written with."""

from __future__ import annotations

from .rounds import Failure, count_field, list_field, number_field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


class LevelReport:
    """One level of a tree round: the invokes sent by the instances at ``depth`` (0: the originator),
    how many sent them, the widest send spread among them and the TLS handshakes they all opened."""

    __slots__ = ("depth", "invocations_sent", "send_spread_ms", "senders", "tls_handshakes")

    def __init__(
        self,
        depth: int,
        senders: int,
        invocations_sent: int,
        send_spread_ms: float | None,
        tls_handshakes: int,
    ) -> None:
        self.depth = depth
        self.senders = senders
        self.invocations_sent = invocations_sent
        self.send_spread_ms = send_spread_ms
        self.tls_handshakes = tls_handshakes

    def merged(self, other: LevelReport) -> LevelReport:
        """This level and ``other`` (the same depth, sent by other instances) together."""
        spreads = [s for s in (self.send_spread_ms, other.send_spread_ms) if s is not None]
        return LevelReport(
            self.depth,
            self.senders + other.senders,
            self.invocations_sent + other.invocations_sent,
            max(spreads) if spreads else None,
            self.tls_handshakes + other.tls_handshakes,
        )

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in LEVEL_FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> LevelReport:
        return cls(
            count_field(data, "depth"),
            count_field(data, "senders"),
            count_field(data, "invocations_sent"),
            number_field(data, "send_spread_ms"),
            count_field(data, "tls_handshakes"),
        )


LEVEL_FIELDS = ("depth", "senders", "invocations_sent", "send_spread_ms", "tls_handshakes")


def merge_levels(levels: list[LevelReport]) -> list[LevelReport]:
    """``levels`` with those of one depth merged, shallowest first."""
    by_depth: dict[int, LevelReport] = {}
    for level in levels:
        known = by_depth.get(level.depth)
        by_depth[level.depth] = level if known is None else known.merged(level)
    return [by_depth[depth] for depth in sorted(by_depth)]


class Subtree:
    """The instances a relay's invokes warmed below it (``instances``: id, cold, provisioned), the
    invokes below it that brought no report (``failures``, by index, and ``not_sent``, the first
    one's reason in ``not_sent_reason``), each level's sending, and when the instances below it
    started holding (``held_at``: earliest and latest, epoch ms, each by its clock)."""

    __slots__ = ("failures", "held_at", "instances", "levels", "not_sent", "not_sent_reason")

    def __init__(
        self,
        instances: list[tuple[str, bool, bool]],
        failures: list[Failure],
        not_sent: int,
        levels: list[LevelReport],
        held_at: tuple[int, int] | None,
        *,
        not_sent_reason: str | None = None,
    ) -> None:
        self.instances = instances
        self.failures = failures
        self.not_sent = not_sent
        self.levels = levels
        self.held_at = held_at
        self.not_sent_reason = not_sent_reason

    def as_dict(self) -> dict[str, object]:
        return {
            "instances": [list(instance) for instance in self.instances],
            "failures": [failure.as_dict() for failure in self.failures],
            "not_sent": self.not_sent,
            "not_sent_reason": self.not_sent_reason,
            "levels": [level.as_dict() for level in self.levels],
            "held_at": list(self.held_at) if self.held_at else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Subtree:
        instances = [
            (one[0], one[1] is True, one[2] is True)
            for one in list_field(data.get("instances"))
            if isinstance(one, list) and len(one) == 3 and isinstance(one[0], str)
        ]
        held = list_field(data.get("held_at"))
        held_at = (held[0], held[1]) if len(held) == 2 and all(isinstance(h, int) for h in held) else None
        reason = data.get("not_sent_reason")
        return cls(
            instances,
            [Failure.from_dict(one) for one in list_field(data.get("failures")) if isinstance(one, dict)],
            count_field(data, "not_sent"),
            [LevelReport.from_dict(one) for one in list_field(data.get("levels")) if isinstance(one, dict)],
            held_at,  # type: ignore[arg-type]
            not_sent_reason=reason if isinstance(reason, str) else None,
        )
