"""What a ping is: the scheduled ping, the fanned-out payload, other warmers' pings; recognised, built."""

from __future__ import annotations

import json

from ..logs import bounded, logger
from ..settings import CONCURRENCY_LIMIT, TENANTS_FIELD, TOKEN_FIELD, parse_tenants
from .fields import FANOUT_KEY, trigger_fields
from .proofs import (
    MAX_CORRELATION_ID_LENGTH,
    MAX_SCOPE_LENGTH,
    SCOPE_FIELD,
    TREE_FIELDS,
    proof,
    same,
    well_typed,
    whole,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..config import WarmerConfig

LEGACY_INDEX = "__WARMER_INVOCATION__"
LEGACY_TOTAL = "__WARMER_CONCURRENCY__"
LEGACY_CORRELATION_IDS = ("__WARMER_CORRELATION_ID__", "__WARMER_CORRELATIONID__")
PLUGIN_SOURCE = "serverless-plugin-warmup"
AUTO = "auto"
"""The concurrency a scheduled ping may ask for instead of a number: as many as recent traffic needs."""
EVENTBRIDGE_FIELDS = frozenset(("detail-type", "detail"))
"""The fields of an EventBridge event's envelope: an event with them is never a ping, whatever its
``source`` (anyone may put an event with ``source: serverless-plugin-warmup`` on a bus)."""
PROOF_FIELD = "proof"


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
    not used as given. ``tenants``: on a function that isolates tenants, the tenants to warm and
    how many each (the ping's ``tenants`` field; None: the ``WARMER_TENANTS`` setting, if any).
    ``tree``: a fanned-out ping of a tree round (see tree.py; read only with a token set), else None.
    """

    __slots__ = ("auto", "correlation_id", "hold_ms", "index", "kind", "tenants", "total", "tree", "warning")

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
        tenants: dict[str, int] | None = None,
        tree: TreePlace | None = None,
    ) -> None:
        self.kind = kind
        self.tree = tree
        self.tenants = tenants
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


class TreePlace:
    """Where a fanned-out ping of a tree round stands: every instance holds until ``release_at``
    (epoch ms, by its own clock); a relay (``last`` above its index) invokes the indexes after its
    own up to ``last``, in blocks of at most ``fan``, at ``depth`` (1: invoked by the originator),
    its answer due by ``answer_by`` (epoch ms); ``scope``: the function, qualifier and tenant it was
    sent to (tree.scope_of; None: not said, and not relayed)."""

    __slots__ = ("answer_by", "depth", "fan", "last", "release_at", "scope")

    def __init__(
        self, release_at: int, last: int, fan: int, depth: int, answer_by: int, *, scope: str | None = None
    ) -> None:
        self.release_at = release_at
        self.last = last
        self.fan = fan
        self.depth = depth
        self.answer_by = answer_by
        self.scope = scope

    def as_fields(self) -> dict[str, object]:
        fields: dict[str, object] = {name: getattr(self, name) for name in TREE_FIELDS}
        if self.scope is not None:
            fields[SCOPE_FIELD] = self.scope
        return fields


def _position(value: object) -> int:
    """An index or total from a fanned-out payload, or 0 when it is missing or out of range."""
    number = whole(value)
    return number if number is not None and 1 <= number <= CONCURRENCY_LIMIT else 0


def _correlation_id(value: object) -> str | None:
    return value[:MAX_CORRELATION_ID_LENGTH] if isinstance(value, str) else None


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
        self.trigger_fields = trigger_fields(flag)
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

    def scheduled_ping(
        self, concurrency: int | str, tenants: dict[str, int] | None = None
    ) -> dict[str, object]:
        """The scheduled ping asking for ``concurrency`` (N, or ``"auto"``), and with ``tenants`` for
        each of those tenants as many, that :meth:`detect` takes."""
        event: dict[str, object] = {self.flag: True, self.concurrency_field: concurrency}
        if tenants:
            event[TENANTS_FIELD] = dict(tenants)
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
                well_typed(fanned_out) and same(proof(self.token, fanned_out), fanned_out.get(PROOF_FIELD))
            ):
                return _Refused("a fanned-out payload without a valid proof", self._fanned_out(fanned_out))
            return self._fanned_out(fanned_out)
        if event.get(flag) is True:
            if self.token is not None:
                if not same(self.token, event.get(TOKEN_FIELD)):
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
        ping = self._scheduled_concurrency(event)
        if TENANTS_FIELD in event:
            try:
                ping.tenants = parse_tenants(event[TENANTS_FIELD])
            except ValueError as wrong:
                said = f"{TENANTS_FIELD}={bounded(event[TENANTS_FIELD])} is not {wrong}; ignored"
                ping.warning = f"{ping.warning}; {said}" if ping.warning else said
        return ping

    def _scheduled_concurrency(self, event: Mapping[str, object]) -> Ping:
        if self.concurrency_field not in event:
            return Ping(PingKind.SCHEDULED, 1, 1, None)
        raw = event[self.concurrency_field]
        if raw == AUTO:
            return Ping(PingKind.SCHEDULED, 1, 0, None, auto=True)
        requested = whole(raw)
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
        hold = whole(data.get("hold_ms"))
        hold_ms = hold if hold is not None and hold >= 0 else None
        tree = None
        values = [whole(data.get(name)) for name in TREE_FIELDS]
        # a tokenless function never sends a tree round: there a tree's place is anyone's, and the
        # payload is held as a flat round's, exactly as before trees
        if self.token is not None and all(value is not None and value >= 0 for value in values):
            scope = data.get(SCOPE_FIELD)
            in_scope = scope if isinstance(scope, str) and len(scope) <= MAX_SCOPE_LENGTH else None
            tree = TreePlace(*values, scope=in_scope)  # type: ignore[arg-type]
        return Ping(
            PingKind.FANNED_OUT,
            index,
            total,
            _correlation_id(data.get("correlation_id")),
            hold_ms=hold_ms,
            tree=tree,
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
    index: int,
    total: int,
    correlation_id: str,
    hold_ms: int,
    token: str | None = None,
    *,
    tree: TreePlace | None = None,
) -> bytes:
    """The event sent to the ``index``-th of ``total`` instances in a fan-out (its place in a tree
    round, when it is one; with its proof when a token is set)."""
    data: dict[str, object] = {
        "index": index,
        "total": total,
        "correlation_id": correlation_id,
        "hold_ms": hold_ms,
    }
    if tree is not None:
        data.update(tree.as_fields())
    if token is not None:
        data[PROOF_FIELD] = proof(token, data)
    return json.dumps({FANOUT_KEY: data}, separators=(",", ":")).encode()
