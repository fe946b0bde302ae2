"""Attacks on the fan-out tree (issue 38): what a relay payload can make a function do, and what a
tree round costs the originator before it sends anything."""

from __future__ import annotations

import time

from lambdawarmer.settings import CONCURRENCY_LIMIT
from lambdawarmer.timing import cpu_share
from lambdawarmer.tree import fitting_tree

SMALLEST_MB = 128
PLANNING_BUDGET_MS = 500
"""What choosing a tree's shape may cost at the smallest memory's CPU share, a sixth of its default
3 s timeout: the ping's own time, taken before the time left is known to the plan."""


def test_choosing_a_tree_at_the_largest_cap_costs_little_of_a_small_functions_time() -> None:
    """The originator plans a tree (every fan tried, each allowance) on its ping's time, at 7% of a
    core at 128 MB: at the largest cap a function may set, its CPU time stays a small part of a
    3 s timeout (it took ~1.7 s of a whole core, ~25 s at 128 MB: the ping timed out)."""
    started = time.process_time()
    plan = fitting_tree(SMALLEST_MB, CONCURRENCY_LIMIT, 75, 0.0, (2_000.0, 500.0, 0.0))
    spent_ms = (time.process_time() - started) * 1000
    assert plan is None  # no time left: every allowance was tried
    assert spent_ms / cpu_share(SMALLEST_MB) < PLANNING_BUDGET_MS, spent_ms
