"""A function's traffic as the model takes it: requests per minute, their durations, its memory."""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

ARRIVAL_RULES = ("uniform", "poisson")


DURATION_RULES = ("percentiles", "mean")


MINUTE_S = 60.0


@dataclass(frozen=True)
class Durations:
    """A function's execution times: its percentiles (quantile 0..1, ms) and its mean."""

    percentiles: tuple[tuple[float, float], ...]
    mean_ms: float

    def __post_init__(self) -> None:
        quantiles = [q for q, _ in self.percentiles]
        if not self.percentiles or quantiles != sorted(quantiles) or quantiles[0] != 0 or quantiles[-1] != 1:
            raise ValueError(f"percentiles must run from quantile 0 to 1 in order, not {quantiles}")

    def sampler(self, rule: str, rng: random.Random) -> Callable[[], float]:
        """A draw of one request's duration (ms) by ``rule`` (:data:`DURATION_RULES`)."""
        if rule == "mean":
            mean = self.mean_ms
            return lambda: mean
        if rule != "percentiles":
            raise ValueError(f"duration rule {rule!r}: expected one of {', '.join(DURATION_RULES)}")
        quantiles = [q for q, _ in self.percentiles]
        values = [max(0.0, v) for _, v in self.percentiles]

        def draw() -> float:
            u = rng.random()
            i = min(bisect.bisect_right(quantiles, u), len(quantiles) - 1)
            q0, q1 = quantiles[i - 1], quantiles[i]
            v0, v1 = values[i - 1], values[i]
            return v0 if q1 == q0 else v0 + (v1 - v0) * (u - q0) / (q1 - q0)

        return draw


@dataclass(frozen=True)
class Workload:
    """One function's traffic: requests per minute, their durations, its configured memory."""

    name: str
    counts: Sequence[int]
    durations: Durations
    memory_mb: int
    timeout_ms: int | None = None
    """The function's timeout when its pings carry the owner's token: each is priced as the layer
    sends it, a tree round where flat does not fit (None: every ping priced flat)."""
