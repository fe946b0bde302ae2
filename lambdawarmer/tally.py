"""What the rounds of one ping warmed: the distinct instances, the cold ones, each round's record."""

from __future__ import annotations

from .instance import PROVISIONED
from .protocol import Failure, RoundReport

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .fanout import Round


class Tally:
    """The distinct instances warmed so far (the cold ones, Provisioned Concurrency's), and every
    round's figures."""

    __slots__ = ("cold", "failures", "instances", "provisioned", "rounds")

    def __init__(self, own_instance_id: str | None, own_cold: bool, own_provisioned: bool = False) -> None:
        """``own_instance_id``: the originator's instance, counted as warmed (None: not counted, as
        for another tenant's environments)."""
        own = {own_instance_id} if own_instance_id is not None else set()
        self.instances = set(own)
        self.cold = set(own) if own_cold else set()
        self.provisioned = set(own) if own_provisioned else set()
        self.rounds: list[RoundReport] = []
        self.failures: list[Failure] = []

    def add(self, result: Round, tree: dict[str, object] | None = None) -> int:
        """Count one round (a tree round's: every relay's subtree too, and ``tree``, its shape, for
        the report); how many of its answers came from an instance that had answered already."""
        reports = [outcome.report for outcome in result.outcomes if outcome.report is not None]
        sent = [outcome for outcome in result.outcomes if outcome.sent]
        not_sent = result.not_sent
        number = len(self.rounds) + 1
        failures = [
            Failure(number, outcome.index, outcome.reason or "") for outcome in sent if outcome.report is None
        ]
        answered = [(r.instance_id, r.cold, r.initialization == PROVISIONED) for r in reports]
        held_at = [r.held_at for r in reports]
        warm_held_at = [r.held_at for r in reports if not r.cold]
        sent_below = not_sent_below = 0
        reasons = [outcome.reason for outcome in not_sent]
        for report in reports:
            below = report.subtree
            if below is not None:
                answered += below.instances
                failures += [Failure(number, one.index, one.reason) for one in below.failures]
                sent_below += sum(level.invocations_sent for level in below.levels)
                not_sent_below += below.not_sent
                reasons.append(below.not_sent_reason)
                held_at += list(below.held_at or ())
        before = len(self.instances)
        for instance_id, cold, provisioned in answered:
            self.instances.add(instance_id)
            if cold:
                self.cold.add(instance_id)
            if provisioned:
                self.provisioned.add(instance_id)
        self.failures += failures
        self.rounds.append(
            RoundReport(
                hold_ms=result.hold_ms,
                send_spread_ms=None if result.send_spread_ms is None else round(result.send_spread_ms, 1),
                arrival_spread_ms=arrival_spread_ms(held_at),
                warm_arrival_spread_ms=arrival_spread_ms(warm_held_at),
                tls_handshakes=result.handshakes,
                invocations_sent=len(sent) + sent_below,
                invocations_failed=len(failures),
                invocations_not_sent=len(not_sent) + not_sent_below,
                not_sent_reason=next((reason for reason in reasons if reason), None),
                instances_warmed=len(self.instances),
                tree=tree,
            )
        )
        return len(answered) - (len(self.instances) - before)


def arrival_spread_ms(held_at: list[int | None]) -> int | None:
    """How far apart the instances started holding (their clocks; Lambda hosts are NTP-synced)."""
    stamps = [stamp for stamp in held_at if stamp is not None]
    return max(stamps) - min(stamps) if len(stamps) > 1 else None
