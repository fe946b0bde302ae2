"""Measures one warmer in its own interpreter (ours and the seed are both ``import lambdawarmer``).

    python inprocess_worker.py overhead IMPL MODE CALLS REPEATS   -> {"bare_ns": .., "wrapped_ns": ..}
    python inprocess_worker.py metrics IMPL MODE CALLS            -> {"us_per_call": ..}

IMPL is ``ours`` or ``seed`` (whichever ``lambdawarmer`` PYTHONPATH finds); MODE is ``off``,
``emf`` or ``put_metric_data``. Run from a folder that holds neither package.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any


class Context:
    aws_request_id = "bench-request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    function_name = "bench"
    function_version = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def handler(event: Any, context: Any) -> Any:
    return event


def wrapped_handler(implementation: str, mode: str) -> Any:
    import lambdawarmer

    if implementation == "seed":
        return lambdawarmer.warmer(send_metric=mode != "off")(handler)
    if mode == "off":
        return lambdawarmer.warmer(handler)
    return lambdawarmer.warmer(send_metric=True, metrics_mode=mode)(handler)


def per_call_ns(function: Any, calls: int) -> float:
    event, context = {"order": 1}, Context()
    started = time.perf_counter_ns()
    for _ in range(calls):
        function(event, context)
    return (time.perf_counter_ns() - started) / calls


def overhead(implementation: str, mode: str, calls: int, repeats: int) -> dict[str, float]:
    wrapped = wrapped_handler(implementation, mode)
    bare, warmed = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine
        bare.append(per_call_ns(handler, calls))
        warmed.append(per_call_ns(wrapped, calls))
    return {"bare_ns": statistics.median(bare), "wrapped_ns": statistics.median(warmed)}


def metrics(implementation: str, mode: str, calls: int) -> dict[str, float]:
    wrapped = wrapped_handler(implementation, mode)
    wrapped({"first": 1}, Context())  # the first call makes the client: not what is measured
    samples = [per_call_ns(wrapped, 1) for _ in range(calls)]
    return {"us_per_call": statistics.median(samples) / 1000}


def main(argv: list[str]) -> int:
    import logging

    logging.disable(logging.CRITICAL)  # the seed logs every call; measure the warmer, not a log handler
    kind, implementation, mode, calls = argv[0], argv[1], argv[2], int(argv[3])
    real_stdout = sys.stdout
    # Line-buffered: one write call per EMF line, as under the runtime (it flushes every write).
    sys.stdout = open(os.devnull, "w", buffering=1)  # noqa: SIM115
    try:
        result = (
            overhead(implementation, mode, calls, int(argv[4]))
            if kind == "overhead"
            else metrics(implementation, mode, calls)
        )
    finally:
        sys.stdout.close()
        sys.stdout = real_stdout
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
