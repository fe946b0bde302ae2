"""ColdStart/WarmStart metrics, one record per invocation; round metrics, one record per warm-up ping.

Both metrics are sent every time, 1 and 0, so that the Average of ``ColdStart`` is the cold-start
rate. Each record carries two dimension sets: ``FunctionName`` alone (every invocation, as
lambda-warmer-py reported) and ``FunctionName`` + ``Invocation`` (``request`` for real traffic,
``warmup`` for pings), so real traffic can be read apart from the pings.

* ``emf`` (default): one CloudWatch Embedded Metric Format line on stdout. No network call and no
  IAM permission: CloudWatch Logs extracts the metrics.
* ``put_metric_data``: PutMetricData calls (needs ``cloudwatch:PutMetricData``) from a thread of
  their own, never on an invocation's path: a CloudWatch that hangs delays no request. Its AWS
  client is loaded when the recorder is made, in the init phase (unthrottled at every memory size),
  not by the first request. A failure is logged and never reaches the caller.

The instance that received a scheduled ping also writes, once its rounds are done,
``InstancesRequested``, ``InstancesWarmed`` and ``InvokesFailed`` with ``FunctionName``, plus
``FunctionName`` + ``Resource`` (``name:qualifier``, as Lambda's own metrics name an alias or a
version) when it was invoked through a qualifier.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import deque

from .logs import logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Union

    from .config import WarmerConfig

    Recorder = Union["EmfRecorder", "PutMetricDataRecorder"]

FUNCTION_DIMENSION = "FunctionName"
INVOCATION_DIMENSION = "Invocation"
RESOURCE_DIMENSION = "Resource"
TENANT_DIMENSION = "TenantId"
ROUND_METRICS = ("InstancesRequested", "InstancesWarmed", "InvokesFailed")


def round_dimensions(
    function_name: str, qualifier: str | None, tenant: str | None = None
) -> list[dict[str, str]]:
    """The dimension sets of a round record, least specific first (a tenant's last, by itself)."""
    function = {FUNCTION_DIMENSION: function_name}
    sets = [function]
    if qualifier and qualifier != "$LATEST":
        sets.append({**function, RESOURCE_DIMENSION: f"{function_name}:{qualifier}"})
    if tenant is not None:
        sets.append({**function, TENANT_DIMENSION: tenant})
    return sets


def query_dimensions(function_name: str, qualifier: str | None) -> list[dict[str, str]]:
    """The most specific of those sets as GetMetricData takes it (``Name``/``Value`` pairs): the
    function's own metrics as reached through ``qualifier``."""
    most_specific = round_dimensions(function_name, qualifier)[-1]  # without a tenant: all of them
    return [{"Name": name, "Value": value} for name, value in most_specific.items()]


def metric_query(
    query_id: str, metric: str, stat: str, *, namespace: str, dimensions: list[dict[str, str]], period_s: int
) -> dict[str, Any]:
    """One of GetMetricData's ``MetricDataQueries``: ``stat`` of ``metric`` per ``period_s``."""
    spec = {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions}
    return {"Id": query_id, "MetricStat": {"Metric": spec, "Period": period_s, "Stat": stat}}


METRICS_TIMEOUT_MS = 2_000
MAX_PENDING = 2_000
"""Metric values waiting for PutMetricData at most (500 invocations' worth); older ones are dropped."""
BATCH = 1_000
"""Values per PutMetricData call: the most it takes."""


class EmfRecorder:
    """Writes one Embedded Metric Format line per invocation to stdout."""

    __slots__ = ("_endings", "_function_name", "_namespace")

    def __init__(self, namespace: str, function_name: str) -> None:
        self._namespace = namespace
        self._function_name = function_name
        metrics = [
            {
                "Namespace": namespace,
                "Dimensions": [[FUNCTION_DIMENSION], [FUNCTION_DIMENSION, INVOCATION_DIMENSION]],
                "Metrics": [{"Name": "ColdStart", "Unit": "Count"}, {"Name": "WarmStart", "Unit": "Count"}],
            }
        ]
        after_timestamp = ',"CloudWatchMetrics":{}}},"{}":{}'.format(
            json.dumps(metrics, separators=(",", ":")), FUNCTION_DIMENSION, json.dumps(function_name)
        )
        # All but the timestamp is known now: one ready-made ending per (warmup, cold) pair.
        self._endings = {
            (warmup, cold): after_timestamp
            + f',"{INVOCATION_DIMENSION}":"{"warmup" if warmup else "request"}",'
            + f'"ColdStart":{int(cold)},"WarmStart":{int(not cold)}}}\n'
            for warmup in (False, True)
            for cold in (False, True)
        }

    def record(self, cold: bool, warmup: bool) -> None:
        """Write the line for one invocation; a closed or broken stdout loses the line, nothing else."""
        _write(f'{{"_aws":{{"Timestamp":{int(time.time() * 1000)}' + self._endings[warmup, cold])

    def record_round(
        self, qualifier: str | None, values: tuple[int, int, int], tenant: str | None = None
    ) -> None:
        """Write the round metrics (:data:`ROUND_METRICS`, in that order) of one warm-up ping (of
        one tenant's share of it)."""
        dimensions = round_dimensions(self._function_name, qualifier, tenant)
        directive = {
            "Namespace": self._namespace,
            "Dimensions": [list(dimension_set) for dimension_set in dimensions],
            "Metrics": [{"Name": name, "Unit": "Count"} for name in ROUND_METRICS],
        }
        record = {
            "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [directive]},
            **{name: value for dimension_set in dimensions for name, value in dimension_set.items()},
            **dict(zip(ROUND_METRICS, values)),
        }
        _write(json.dumps(record, separators=(",", ":")) + "\n")


def _write(line: str) -> None:
    try:
        sys.stdout.write(line)
    except (OSError, ValueError):
        return


class PutMetricDataRecorder:
    """Sends the metrics with PutMetricData from a thread of its own, so that no call to CloudWatch,
    answering or not, ever delays an invocation. Values wait in a bounded queue (the oldest are
    dropped past :data:`MAX_PENDING`, and counted) and leave in batches; each carries the time it
    was recorded. Lambda freezes the environment between invocations: what is still queued then
    leaves at the next thaw, and is lost if Lambda retires the environment first."""

    __slots__ = (
        "_client",
        "_dropped",
        "_function_name",
        "_namespace",
        "_off",
        "_pending",
        "_sender",
        "_wake",
    )

    def __init__(self, namespace: str, function_name: str) -> None:
        from .aws import CLOUDWATCH, LazyClient

        self._namespace = namespace
        self._function_name = function_name
        self._client = LazyClient(CLOUDWATCH, METRICS_TIMEOUT_MS, pool_size=1)
        self._fresh()
        if hasattr(os, "register_at_fork"):
            # A forked worker has no sender thread, and may have a lock the parent's sender held.
            os.register_at_fork(after_in_child=self._fresh)

    def _fresh(self) -> None:
        self._pending: deque[dict[str, object]] = deque()
        self._dropped = 0
        self._wake = threading.Condition(threading.Lock())
        self._sender: threading.Thread | None = None
        self._off = False

    def record(self, cold: bool, warmup: bool) -> None:
        """Queue the metrics of one invocation."""
        function = {"Name": FUNCTION_DIMENSION, "Value": self._function_name}
        invocation = {"Name": INVOCATION_DIMENSION, "Value": "warmup" if warmup else "request"}
        self._queue(
            [
                {"MetricName": name, "Dimensions": dimensions, "Value": float(value), "Unit": "Count"}
                for dimensions in ([function], [function, invocation])
                for name, value in (("ColdStart", cold), ("WarmStart", not cold))
            ]
        )

    def record_round(
        self, qualifier: str | None, values: tuple[int, int, int], tenant: str | None = None
    ) -> None:
        """Queue the round metrics (:data:`ROUND_METRICS`, in that order) of one warm-up ping (of
        one tenant's share of it)."""
        self._queue(
            [
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": key, "Value": value} for key, value in dimensions.items()],
                    "Value": float(number),
                    "Unit": "Count",
                }
                for dimensions in round_dimensions(self._function_name, qualifier, tenant)
                for name, number in zip(ROUND_METRICS, values)
            ]
        )

    def _queue(self, data: list[dict[str, object]]) -> None:
        if self._off:
            return
        now = time.time()
        for datum in data:
            datum["Timestamp"] = now
        with self._wake:
            if self._sender is None and not self._start_sender():
                return
            self._pending.extend(data)
            while len(self._pending) > MAX_PENDING:
                self._pending.popleft()
                self._dropped += 1
            self._wake.notify()

    def _start_sender(self) -> bool:
        """Start the sender thread; when it cannot start, metrics are off for this environment's
        life (said once, in the log) and no invocation is failed for it."""
        sender = threading.Thread(target=self._send_forever, name="lambdawarmer-metrics", daemon=True)
        try:
            sender.start()
        except RuntimeError as error:
            self._off = True
            self._pending.clear()
            logger.warning(
                "lambdawarmer: metrics are off (put_metric_data mode): its sender thread could not start: %s",
                error,
            )
            return False
        self._sender = sender
        return True

    def _send_forever(self) -> None:
        from .aws import cloudwatch_call, error_reason

        while True:
            with self._wake:
                while not self._pending:
                    self._wake.wait()
                batch = [self._pending.popleft() for _ in range(min(BATCH, len(self._pending)))]
                dropped, self._dropped = self._dropped, 0
            if dropped:
                logger.warning(
                    "lambdawarmer: %d metric values dropped: PutMetricData could not keep up", dropped
                )
            try:
                cloudwatch_call(
                    self._client.get(), "PutMetricData", {"Namespace": self._namespace, "MetricData": batch}
                )
            except Exception as error:
                logger.warning(
                    "lambdawarmer: PutMetricData failed, %d metric values are lost: %s",
                    len(batch),
                    error_reason(error),
                )


def make_recorder(config: WarmerConfig, function_name: str) -> Recorder | None:
    """The recorder the settings ask for, or ``None`` when metrics are off."""
    if not config.send_metric:
        return None
    if config.metrics_mode == "put_metric_data":
        return PutMetricDataRecorder(config.metrics_namespace, function_name)
    return EmfRecorder(config.metrics_namespace, function_name)
