"""What ``enable`` set, as ``disable`` needs to know it: each variable's name and a digest of its value.

Kept in the function's tag :data:`~lambdawarmer_cli.names.RECORD_TAG` as ``NAME=digest ...``.
The digest (12 hex digits of a SHA-256) tells whether a variable still has the value ``enable``
set, without the value being in the tag (a token's digest reveals nothing usable). Only names
lambdawarmer can own are read from it (its ``WARMER_*`` settings, ``AWS_LAMBDA_EXEC_WRAPPER`` and
the autopilot's mark),
so an edited tag can never make ``disable`` remove a variable of the user's.
"""

from __future__ import annotations

import hashlib

from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE
from lambdawarmer.settings import SETTINGS

from .names import AUTOPILOT_VARIABLE

OWNABLE = frozenset(
    {EXEC_WRAPPER_VARIABLE, AUTOPILOT_VARIABLE, *(setting.env for setting in SETTINGS.values())}
)
"""The only variables ``enable`` ever sets, and so the only ones ``disable`` may remove."""
DIGEST_HEX = 12


def digest(name: str, value: str) -> str:
    """A short digest of ``name=value``."""
    return hashlib.sha256(f"{name}={value}".encode()).hexdigest()[:DIGEST_HEX]


class Record:
    """The variables ``enable`` set: name -> digest of the value (None: recorded by 1.3 or earlier,
    which kept names only)."""

    def __init__(self, digests: dict[str, str | None]) -> None:
        self.digests = {name: value for name, value in digests.items() if name in OWNABLE}

    @classmethod
    def parse(cls, tag: str | None) -> Record:
        digests: dict[str, str | None] = {}
        for entry in (tag or "").split(" "):
            name, equals, value = entry.partition("=")
            if name:
                digests[name] = value if equals else None
        return cls(digests)

    @classmethod
    def of(cls, variables: dict[str, str], names: list[str]) -> Record:
        """The record of ``names`` set to their values in ``variables``."""
        return cls({name: digest(name, variables[name]) for name in names if name in variables})

    def __str__(self) -> str:
        """The tag's value."""
        return " ".join(f"{name}={value}" if value else name for name, value in self.digests.items())

    def __contains__(self, name: str) -> bool:
        return name in self.digests

    def set_it(self, name: str, value: str | None) -> bool:
        """Whether ``name`` has, now, the value ``enable`` set (a name-only record: never sure)."""
        recorded = self.digests.get(name)
        return value is not None and recorded is not None and recorded == digest(name, value)
