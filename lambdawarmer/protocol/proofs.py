"""The proof a fanned-out payload carries when a token is set: an HMAC-SHA256 of its well-typed
fields, keyed with the token (never the token itself), checked in constant time."""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_CORRELATION_ID_LENGTH = 128
PROVEN_FIELDS = ("index", "total", "hold_ms", "correlation_id")
TREE_FIELDS = ("release_at", "last", "fan", "depth", "answer_by")
"""A tree round's fields (protocol.pings): proven too whenever one is present."""
SCOPE_FIELD = "scope"
"""A tree round's payload's scope (text): the function, qualifier and tenant it was sent to, proven
with the tree's fields, so a relay takes its share only where the originator sent it."""
MAX_SCOPE_LENGTH = 1024


def whole(value: object) -> int | None:
    """``value`` when it is a whole number (a bool is not), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _as_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def well_typed(data: Mapping[str, object]) -> bool:
    """Whether a fanned-out payload's fields have the types ``fanout_payload`` writes (whole
    numbers, a short string), checked before anything reads them further."""
    index, total, hold_ms, correlation_id = (data.get(name) for name in PROVEN_FIELDS)
    numbers_ok = all(whole(value) is not None for value in (index, total)) and all(
        value is None or whole(value) is not None for value in (hold_ms, *(data.get(n) for n in TREE_FIELDS))
    )
    scope = data.get(SCOPE_FIELD)
    scope_ok = scope is None or (isinstance(scope, str) and len(scope) <= MAX_SCOPE_LENGTH)
    return (
        numbers_ok
        and scope_ok
        and isinstance(correlation_id, str)
        and len(correlation_id) <= MAX_CORRELATION_ID_LENGTH
    )


def proof(token: str, data: Mapping[str, object]) -> str:
    """The proof a fanned-out payload carries: an HMAC-SHA256, keyed with the token, of its fields
    (well typed: see :func:`well_typed`)."""
    import hashlib
    import hmac

    tree = any(name in data for name in TREE_FIELDS)
    fields = (*PROVEN_FIELDS, *TREE_FIELDS, SCOPE_FIELD) if tree else PROVEN_FIELDS
    message = json.dumps([data.get(name) for name in fields], separators=(",", ":"))
    return hmac.new(_as_bytes(token), _as_bytes(message), hashlib.sha256).hexdigest()


def same(secret: str, offered: object) -> bool:
    """Whether ``offered`` is ``secret``, compared in constant time."""
    import hmac

    return isinstance(offered, str) and hmac.compare_digest(_as_bytes(secret), _as_bytes(offered))
