"""SSM parameter names, held to Systems Manager's documented rules before anything is written.

A name in a hierarchy begins with ``/``; its levels hold only ``a-zA-Z0-9_.-``; it may not begin with
``aws`` or ``ssm`` (in any case: reserved to AWS); a hierarchy has at most 15 levels; and a name may
be at most 1011 characters counted with the part of its ARN before it
(``arn:aws:ssm:us-east-2:111122223333:parameter``).
"""

from __future__ import annotations

import re

MAX_LEVELS = 15
MAX_LENGTH = 1011
"""The name with ``arn:PARTITION:ssm:REGION:ACCOUNT:parameter`` before it."""
LEVEL = re.compile(r"[A-Za-z0-9_.\-]+")
RESERVED = ("aws", "ssm")


def name_problem(name: str, arn_before: str) -> str | None:
    """Why SSM would refuse ``name`` as a hierarchy's parameter name (``arn_before``: its ARN up to
    ``:parameter``), or None."""
    if not name.startswith("/"):
        return "a name in a hierarchy begins with /"
    levels = name[1:].split("/")
    if not all(LEVEL.fullmatch(level) for level in levels):
        return "each level, between slashes, holds one or more of a-z A-Z 0-9 _ . - (and nothing else)"
    if levels[0].lower().startswith(RESERVED):
        return "a name beginning with aws or ssm (in any case) is reserved to AWS"
    if len(levels) > MAX_LEVELS:
        return f"{name} has {len(levels)} levels, and SSM allows at most {MAX_LEVELS}"
    if len(arn_before + name) > MAX_LENGTH:
        return (
            f"{name} is {len(arn_before + name)} characters with its ARN before it "
            f"({arn_before}), and SSM allows at most {MAX_LENGTH}"
        )
    return None
