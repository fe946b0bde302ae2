"""A reference to a function: its name or ARN and the qualifier (alias or version) it is reached by.

The one reader of the forms Lambda accepts (``name``, ``name:qualifier``, a partial ARN
``account:function:name[:qualifier]`` or ``function:name[:qualifier]``, a full ARN, qualified or
not) and of the invocation the
function runs in, which the fan-out targets again.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ARN_PARTS = 7
"""``arn:partition:lambda:region:account:function:name``: the parts of an unqualified function ARN."""


class FunctionRef:
    """``function`` (a name or an unqualified ARN) reached through ``qualifier`` (None: as named)."""

    __slots__ = ("function", "qualifier")

    def __init__(self, function: str, qualifier: str | None = None) -> None:
        self.function = function
        self.qualifier = qualifier or None

    @property
    def name(self) -> str:
        """The function's name, whatever form it was given in."""
        return self.function.rsplit(":", 1)[-1]

    @property
    def is_arn(self) -> bool:
        return self.function.startswith("arn:")

    @property
    def account(self) -> str | None:
        """The account id the reference names (a full ARN's, or a partial ``ACCOUNT:function:NAME``'s);
        None for a name."""
        parts = self.function.split(":")
        if self.is_arn:
            return parts[4]
        return parts[0] if len(parts) == 3 else None

    def qualified(self, qualifier: str | None) -> FunctionRef:
        """This function reached through ``qualifier`` (its own qualifier, when it names one, wins)."""
        return self if self.qualifier else FunctionRef(self.function, qualifier)

    def __str__(self) -> str:
        """The reference as Lambda takes it: ``function[:qualifier]``."""
        return f"{self.function}:{self.qualifier}" if self.qualifier else self.function

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FunctionRef) and (self.function, self.qualifier) == (
            other.function,
            other.qualifier,
        )

    def __hash__(self) -> int:
        return hash((self.function, self.qualifier))

    def __repr__(self) -> str:
        return f"FunctionRef({self.function!r}, {self.qualifier!r})"


def parse_function_ref(text: str) -> FunctionRef:
    """The function and qualifier ``text`` names; raises ValueError naming the forms allowed."""
    parts = text.strip().split(":")
    if parts[0] == "arn" and len(parts) in (ARN_PARTS, ARN_PARTS + 1) and parts[5] == "function":
        qualifier = parts[ARN_PARTS] if len(parts) > ARN_PARTS else None
        return FunctionRef(":".join(parts[:ARN_PARTS]), qualifier)
    if len(parts) in (3, 4) and parts[1] == "function":
        return FunctionRef(":".join(parts[:3]), parts[3] if len(parts) == 4 else None)
    if len(parts) in (2, 3) and parts[0] == "function" and all(parts[1:]):  # Lambda reads it as NAME
        return FunctionRef(parts[1], parts[2] if len(parts) == 3 else None)
    if len(parts) in (1, 2) and all(parts):
        return FunctionRef(parts[0], parts[1] if len(parts) == 2 else None)
    raise ValueError(
        f"{text!r} is not a function reference: expected NAME, NAME:QUALIFIER, "
        "[ACCOUNT:]function:NAME[:QUALIFIER] or arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]"
    )


def invoked_function(context: Any) -> FunctionRef:
    """The function and qualifier the current invocation came in through.

    ``invoked_function_arn`` ends in ``:alias`` or ``:version`` when the caller named one; without
    one the qualifier is ``function_version``; without the ARN, ``function_name`` is the function.
    """
    arn = getattr(context, "invoked_function_arn", None) or ""
    version = getattr(context, "function_version", None) or None
    try:
        invoked = parse_function_ref(arn) if arn.startswith("arn:") else None
    except ValueError:
        invoked = None
    if invoked is not None:
        return invoked.qualified(version)
    return FunctionRef(getattr(context, "function_name", None) or "", version)
