"""What an execution environment knows about itself: its id, whether it is cold, when it last served.

One :data:`ENVIRONMENT` per process, shared by every warmed handler in it, and safe to use from
several threads at once. On Lambda Managed Instances each of an environment's worker processes has
its own (awslambdaric forks the workers before it loads the handler).
"""

from __future__ import annotations

import os
import threading

LAYER_WARMER_ENV = "LAMBDAWARMER_LAYER_PID"
"""Set by the layer's handler to its process id: the layer warms this process (a subprocess, with
another id, is not warmed by it)."""


INITIALIZATION_TYPE_ENV = "AWS_LAMBDA_INITIALIZATION_TYPE"
ON_DEMAND = "on-demand"
PROVISIONED = "provisioned-concurrency"
SNAP_START = "snap-start"
MAX_CONCURRENCY_ENV = "AWS_LAMBDA_MAX_CONCURRENCY"
"""Set by Lambda Managed Instances: the requests an environment serves at once (awslambdaric forks
that many workers, each importing the handler, and so lambdawarmer, on its own)."""


def mark_layer_warmer() -> None:
    """Say that the layer's handler is the outermost warmer of this process."""
    os.environ[LAYER_WARMER_ENV] = str(os.getpid())


def layer_warms_this_process() -> bool:
    """Whether the layer's handler warms this process (a decorator inside it then steps aside)."""
    return os.environ.get(LAYER_WARMER_ENV) == str(os.getpid())


def _new_instance_id() -> str:
    return os.urandom(8).hex()


class ExecutionEnvironment:
    """The identity and cold/warm state of this execution environment.

    ``fresh``: no invocation yet (a ping or a request claims the cold start). ``awaiting_request``:
    no real request yet (the first one learns whether a ping came before it).
    """

    __slots__ = (
        "_lock",
        "awaiting_request",
        "fresh",
        "initialization",
        "instance_id",
        "last_request_at",
        "managed_instances",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.initialization = os.environ.get(INITIALIZATION_TYPE_ENV) or ON_DEMAND
        """How Lambda started this environment: ``on-demand``, ``provisioned-concurrency``,
        ``snap-start`` (Lambda's ``AWS_LAMBDA_INITIALIZATION_TYPE``)."""
        self.managed_instances = bool(os.environ.get(MAX_CONCURRENCY_ENV))
        """On Lambda Managed Instances: this process is one of the environment's workers, which serve
        several requests at once; Lambda starts them ahead of demand."""
        self.reset()

    def reset(self) -> None:
        """Start over as a new environment: a new id, and the next invocation is cold.

        Called after a SnapStart restore, where many environments resume from one snapshot.
        """
        with self._lock:
            self.instance_id = _new_instance_id()
            self.last_request_at: float | None = None
            # Provisioned Concurrency's environments and Managed Instances' are initialised ahead of
            # demand: their first invocation is not a cold start (nor is it to Powertools).
            self.fresh = self.initialization != PROVISIONED and not self.managed_instances
            self.awaiting_request = True

    def claim_cold(self) -> bool:
        """True for exactly one caller: the first invocation of this environment."""
        if not self.fresh:
            return False
        with self._lock:
            cold, self.fresh = self.fresh, False
        return cold

    def claim_first_request(self) -> tuple[bool, bool]:
        """For exactly one caller, the first real request: whether it is cold, and whether a ping
        came before it (its environment was started, or kept, by a ping); (False, False) for others."""
        with self._lock:
            if not self.awaiting_request:
                return False, False
            self.awaiting_request = False
            cold, self.fresh = self.fresh, False
        return cold, not cold


ENVIRONMENT = ExecutionEnvironment()


def _register_snapstart_hook() -> None:
    """With SnapStart, take a new identity after each restore (when the runtime offers the hook)."""
    if os.environ.get(INITIALIZATION_TYPE_ENV) != SNAP_START:
        return
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return
    register_after_restore(ENVIRONMENT.reset)


_register_snapstart_hook()
