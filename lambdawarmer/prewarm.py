"""How many environments a new version needs before an alias's traffic moves to it.

The alias's recent peak of ``ConcurrentExecutions`` (``Resource`` = ``name:alias``), read by the
same code ``"concurrency": "auto"`` runs (warm-up minutes left out, the same headroom and bounds),
and never fewer than the N the schedule asks for. An alias with no traffic yet gets the schedule's
N, and the reason says so. The command line (``ping --like``) and the CodeDeploy hook (deploy_hook.py)
both take N from here.
"""

from __future__ import annotations

from .auto import AutoConcurrency

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .auto import MetricReader
    from .config import WarmerConfig


class Need:
    """How many environments to warm, the peak they come from, and why when it is not the peak's."""

    __slots__ = ("instances", "peak", "reason", "window_minutes")

    def __init__(self, instances: int, peak: float | None, window_minutes: int, reason: str | None) -> None:
        self.instances = instances
        self.peak = peak
        self.window_minutes = window_minutes
        self.reason = reason

    def describe(self, alias: str) -> str:
        """The need in words: from the alias's peak, or the schedule's N and why."""
        if self.reason:
            return f"{self.instances} ({self.reason})"
        return (
            f"{self.instances}, from {alias}'s peak of {self.peak} concurrent executions in the last "
            f"{self.window_minutes} minutes"
        )


def environments_needed(
    config: WarmerConfig,
    function_name: str,
    alias: str,
    scheduled: int,
    deadline: float,
    *,
    read: MetricReader | None = None,
) -> Need:
    """The environments ``alias`` of ``function_name`` needs now (read by ``deadline``, monotonic, through
    ``read``: the layer's client by default), at least ``scheduled``."""
    choice = AutoConcurrency(config, function_name, read).choose(alias, deadline, round_ms=0)
    if choice.fallback:
        reason = f"the schedule's N: {alias} has no traffic to read ({choice.fallback})"
        return Need(scheduled, None, choice.window_minutes, reason)
    if choice.instances < scheduled:
        reason = f"the schedule's N, above what {alias}'s peak of {choice.peak} needs ({choice.instances})"
        return Need(scheduled, choice.peak, choice.window_minutes, reason)
    return Need(choice.instances, choice.peak, choice.window_minutes, None)
