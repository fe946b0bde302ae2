"""Many items worked at once, with a bound: a fleet's accounts, scopes and functions, the sweep."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")
R = TypeVar("R")
DEFAULT_WORKERS = 8
"""How many calls a fleet command, or the autopilot's sweep, has in flight at once by default."""


def in_parallel(items: list[T], work: Callable[[T], R], max_workers: int) -> list[R]:
    """``work`` on each item, at most ``max_workers`` at once; the results in the items' order."""
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(work, items))
