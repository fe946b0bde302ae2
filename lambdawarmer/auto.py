"""``"concurrency": "auto"``: how many environments to warm, from the function's own recent peak.

One GetMetricData call reads, at 1-minute resolution over the window, the ``AWS/Lambda``
``ConcurrentExecutions`` Maximum (Lambda emits it for every function, version and alias), its
``ProvisionedConcurrentExecutions`` Maximum, and the ``InstancesRequested`` round metric
lambdawarmer writes for each warm-up round. Only what lies above the provisioned level counts:
requests go to provisioned environments first, so on-demand environments are busy only when the
provisioned ones are, and a minute's on-demand peak is its ``ConcurrentExecutions`` less its
``ProvisionedConcurrentExecutions`` (two 1-minute maxima: an estimate where they peak at different
seconds of the minute). The warm-up rounds
raise ``ConcurrentExecutions`` by N in the minute they run: read back as traffic, N would ratchet up
and never come down. So the minutes in which a round ran are left out, and so is the current minute
(its data is partial). N = ceil(peak x (1 + headroom)), within the floor and the ceiling. The
defaults, a day's window and no headroom, were chosen on the Azure Functions trace against 1.2.0's
(an hour, 20 %): fewer cold starts and fewer warm-up invocations in every run (bench/traces.md).

Missing, empty or denied data, or no answer in time, gives the fallback (``WARMER_AUTO_FALLBACK``,
else the floor) with the reason; a ping never fails for it.
"""

from __future__ import annotations

import math
import time

from .aws import CLOUDWATCH, LazyClient, cloudwatch_call, error_reason
from .metrics import metric_query, query_dimensions
from .protocol import AutoChoice

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from .config import WarmerConfig

    MetricReader = Callable[[dict[str, Any], float], Mapping[str, Any]]
    """A GetMetricData call: the request's parameters and a timeout (s) to the answer, its
    ``Timestamps`` in epoch seconds. The layer's is :func:`layer_reader`; the command line wraps boto3."""

AUTO_TIMEOUT_MS = 2_000
"""The most the GetMetricData call may take, connecting included (it counts against the ping's deadline)."""
MIN_READ_MS = 300
"""Less time than this left for the read (after what the round needs): N falls back without trying."""
MINUTE_S = 60


def decide(config: WarmerConfig, traffic: dict[int, float], warm_up: set[int]) -> AutoChoice:
    """N from the per-minute peaks of ``traffic`` (by minute, epoch s) over the window, the minutes in
    ``warm_up`` left out: the decision alone, whatever the data was read from."""
    window = config.auto_window
    minutes = {stamp: value for stamp, value in traffic.items() if stamp not in warm_up}
    excluded = len(traffic) - len(minutes)
    if not minutes:
        fallback = config.auto_fallback_instances
        reason = f"no ConcurrentExecutions data outside warm-up minutes in the last {window} minutes"
        return AutoChoice(fallback, window, excluded_minutes=excluded, fallback=reason)
    peak = max(minutes.values())
    wanted = math.ceil(peak * (100 + config.auto_headroom) / 100)
    instances = min(max(wanted, config.auto_min), config.auto_ceiling)
    return AutoChoice(instances, window, peak=peak, excluded_minutes=excluded)


def traffic_request(
    config: WarmerConfig, function_name: str, qualifier: str | None, now_s: float
) -> dict[str, Any]:
    """The GetMetricData request ``auto`` makes: over the window before the current (partial) minute,
    the function's ``ConcurrentExecutions`` and ``ProvisionedConcurrentExecutions`` Maxima and its
    warm-up rounds, per minute."""
    end = int(now_s) // MINUTE_S * MINUTE_S
    where: dict[str, Any] = {"dimensions": query_dimensions(function_name, qualifier), "period_s": MINUTE_S}
    return {
        "MetricDataQueries": [
            metric_query("traffic", "ConcurrentExecutions", "Maximum", namespace="AWS/Lambda", **where),
            metric_query(
                "provisioned", "ProvisionedConcurrentExecutions", "Maximum", namespace="AWS/Lambda", **where
            ),
            metric_query(
                "warmup", "InstancesRequested", "SampleCount", namespace=config.metrics_namespace, **where
            ),
        ],
        "StartTime": end - config.auto_window * MINUTE_S,
        "EndTime": end,
    }


def traffic_from_answer(answer: Mapping[str, Any]) -> tuple[dict[int, float], set[int]]:
    """The traffic's per-minute on-demand peaks (above the provisioned environments busy that minute),
    and the minutes with a warm-up round (epoch s), from the answer to :func:`traffic_request`."""
    series = {result.get("Id"): result for result in answer.get("MetricDataResults", [])}

    def by_minute(query_id: str) -> dict[int, float]:
        result = series.get(query_id, {})
        return {
            int(stamp) // MINUTE_S * MINUTE_S: float(value)
            for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []))
        }

    provisioned = by_minute("provisioned")
    on_demand = {
        minute: max(0.0, peak - provisioned.get(minute, 0.0)) for minute, peak in by_minute("traffic").items()
    }
    return on_demand, set(by_minute("warmup"))


def layer_reader() -> MetricReader:
    """GetMetricData through the layer's own client (one kept-alive connection per environment)."""
    client = LazyClient(CLOUDWATCH, AUTO_TIMEOUT_MS, pool_size=1)

    def read(request: dict[str, Any], timeout_s: float) -> Mapping[str, Any]:
        return cloudwatch_call(client.get(), "GetMetricData", request, timeout_s)

    return read


class AutoConcurrency:
    """Chooses N for one function, reading its traffic through ``read`` (the layer's client by default)."""

    __slots__ = ("config", "function_name", "read")

    def __init__(self, config: WarmerConfig, function_name: str, read: MetricReader | None = None) -> None:
        self.config = config
        self.function_name = function_name
        self.read = read or layer_reader()

    def choose(self, qualifier: str | None, deadline: float, round_ms: float) -> AutoChoice:
        """N for the function as invoked through ``qualifier``, read by ``deadline`` (monotonic) less
        ``round_ms``, the time the round itself needs after it."""
        config = self.config
        fallback = config.auto_fallback_instances
        window = config.auto_window
        read_ms = min(AUTO_TIMEOUT_MS, (deadline - time.monotonic()) * 1000 - round_ms)
        if read_ms < MIN_READ_MS:
            reason = (
                f"not enough of the function's time left to read the metric ({max(0, round(read_ms))} ms "
                f"after the round's {round(round_ms)} ms; {MIN_READ_MS} ms needed)"
            )
            return AutoChoice(fallback, window, fallback=reason)
        request = traffic_request(config, self.function_name, qualifier, time.time())
        try:
            traffic, warm_up = traffic_from_answer(self.read(request, read_ms / 1000))
        except Exception as error:
            return AutoChoice(fallback, window, fallback=f"GetMetricData failed: {error_reason(error)}")
        return decide(config, traffic, warm_up)
