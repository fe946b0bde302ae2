"""The warming policies the model compares, each deciding N at every ping from what it may know.

``auto`` is the layer's own decision (:func:`lambdawarmer.auto.decide`), fed the model's
``ConcurrentExecutions`` and warm-up minutes exactly as GetMetricData would return them; ``auto
1.2.0`` is the same code with that release's defaults (a 60-minute window, 20 % headroom). The
oracles know the coming interval's need, which no real policy can.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdawarmer.auto import decide
from lambdawarmer.config import WarmerConfig, load_config

from .simulation import PingView
from .traffic import MINUTE_S

RELEASE_1_2_AUTO = {"auto_window": 60, "auto_headroom": 20}
"""1.2.0's ``auto``, as settings of today's code."""
AUTO_POLICY = "auto"
"""The name the model shows the layer's ``auto`` under (the ping's ``"auto"`` is protocol.AUTO)."""
AUTO_1_2_POLICY = "auto 1.2.0"
ORACLE_ON_SCHEDULE = "oracle, on the schedule"
ORACLE_SKIPPING = "oracle, skipping"
ORACLES = (ORACLE_ON_SCHEDULE, ORACLE_SKIPPING)


@dataclass(frozen=True)
class NoWarming:
    """No pings at all."""

    name: str = "no warming"

    def instances(self, view: PingView) -> int:
        return 0


@dataclass(frozen=True)
class Fixed:
    """The same N at every ping."""

    count: int
    name: str

    def instances(self, view: PingView) -> int:
        return self.count


@dataclass(frozen=True)
class Auto:
    """The layer's ``"concurrency": "auto"``, with ``config``'s settings."""

    config: WarmerConfig
    name: str

    def instances(self, view: PingView) -> int:
        first = view.minute - self.config.auto_window
        traffic = {int(m * MINUTE_S): v for m, v in view.concurrency.items() if m >= first}
        warm_up = {int(m * MINUTE_S) for m in view.warm_up_minutes if m >= first}
        return decide(self.config, traffic, warm_up).instances


@dataclass(frozen=True)
class Oracle:
    """N = the coming interval's need, at least ``floor`` (1: a schedule that always fires)."""

    floor: int
    name: str

    def instances(self, view: PingView) -> int:
        return max(self.floor, view.coming_need)


def standard_policies(
    peak: int, config: WarmerConfig | None = None
) -> list[NoWarming | Fixed | Auto | Oracle]:
    """Every policy compared, for a function whose peak concurrency is ``peak``; ``config``: the
    function's own settings (default: the layer's defaults)."""
    config = config or load_config({})
    release_1_2 = WarmerConfig({**config.as_dict(), **RELEASE_1_2_AUTO})
    return [
        NoWarming(),
        Fixed(1, "fixed N = 1"),
        Fixed(max(1, peak), "fixed N = peak"),
        Auto(release_1_2, AUTO_1_2_POLICY),
        Auto(config, AUTO_POLICY),
        Oracle(1, ORACLE_ON_SCHEDULE),
        Oracle(0, ORACLE_SKIPPING),
    ]
