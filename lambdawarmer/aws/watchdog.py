"""An absolute deadline for a socket: at that instant it is shut down, whatever it is waiting for.

A socket timeout bounds one operation: a server that trickles a byte a second keeps every read
under it and holds a call for as long as it likes (the TLS handshake, the status line, each header,
the body). One watchdog thread per process keeps the deadlines of the sockets in use and shuts each
down when its deadline passes, so the call waiting on it ends at once with an error. It sleeps
while nothing is due; a call costs a heap push and pop under a lock.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time


class Watched:
    """One socket's deadline; ``sock`` may be replaced (a TLS socket wraps the plain one)."""

    __slots__ = ("cut", "deadline", "sock")

    def __init__(self, sock: socket.socket | None, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.cut = False
        """Whether the watchdog shut it down (its call ran out of time)."""


class Watchdog:
    """Shuts down watched sockets at their deadlines (``time.monotonic()``), from one daemon thread."""

    def __init__(self) -> None:
        self._fresh()
        if hasattr(os, "register_at_fork"):
            # A forked worker (awslambdaric's multi-concurrent mode) has no watchdog thread, and may
            # have a lock the parent's threads held: it starts a new watchdog of its own.
            os.register_at_fork(after_in_child=self._fresh)

    def _fresh(self) -> None:
        self._due: list[tuple[float, int, Watched]] = []
        self._order = itertools.count()
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket | None, deadline: float) -> Watched:
        """Start watching ``sock``; :meth:`release` it when its call is over."""
        watched = Watched(sock, deadline)
        with self._wake:
            heapq.heappush(self._due, (deadline, next(self._order), watched))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lambdawarmer-watchdog", daemon=True)
                self._thread.start()
            elif self._due[0][2] is watched:
                self._wake.notify()
        return watched

    def release(self, watched: Watched) -> None:
        """Stop watching (the entry is dropped when it comes due). Under the watchdog's lock: once
        this returns, ``watched.cut`` is final, and a socket whose call ended is never shut after
        (a connection kept alive for the next call)."""
        with self._wake:
            watched.sock = None

    def _run(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                while self._due and (self._due[0][0] <= now or self._due[0][2].sock is None):
                    _, _, watched = heapq.heappop(self._due)
                    sock = watched.sock  # read once, as shut: it is the one cut
                    if sock is not None:
                        watched.cut = True
                        _shut(sock)
                self._wake.wait(self._due[0][0] - now if self._due else None)


def _shut(sock: socket.socket) -> None:
    """Shut ``sock`` down at the socket level (a TLS socket's own ``shutdown`` would touch its TLS
    state from this thread): the thread blocked on it wakes with an error or end of file."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


WATCHDOG = Watchdog()
