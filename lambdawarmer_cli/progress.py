"""Progress on long work (a long ping, ``cost --history`` reading CloudWatch, a fleet): one line on stderr,
rewritten in place and cleared when done; only when stderr is a terminal and without ``--quiet``,
so that pipes, files and scripts get the command's output alone."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

SHOWN_AFTER_S = 1.0
"""Work shorter than this shows no progress."""
BAR_WIDTH = 30
"""The characters of :meth:`Progress.count`'s bar."""


class Progress:
    """One line of progress on ``stream`` (stderr), or nothing (``quiet``, or not a terminal)."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.shown = not quiet and self.stream.isatty()
        self._width = 0
        self._lock = threading.Lock()

    def say(self, text: str) -> None:
        """Show ``text`` in place of the line shown before."""
        if not self.shown:
            return
        with self._lock:
            self.stream.write("\r" + text.ljust(self._width))
            self.stream.flush()
            self._width = len(text)

    def count(self, label: str, done: int, total: int) -> None:
        """``label [#####-----] done/total``: how far work over ``total`` items has gone."""
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        self.say(f"{label} [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{total}")

    def clear(self) -> None:
        """Take the line away (before the command prints its result)."""
        if not self.shown or not self._width:
            return
        with self._lock:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    @contextlib.contextmanager
    def ticking(self, describe: Callable[[float], str], every_s: float = 1.0) -> Iterator[None]:
        """While the block runs, ``describe(seconds so far)`` every ``every_s``, once it has taken
        :data:`SHOWN_AFTER_S`; the line is cleared when it ends."""
        if not self.shown:
            yield
            return
        stop = threading.Event()
        started = time.monotonic()

        def tick() -> None:
            if stop.wait(SHOWN_AFTER_S):
                return
            while True:
                self.say(describe(time.monotonic() - started))
                if stop.wait(every_s):
                    return

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()
            self.clear()


def progress_of(arguments: object) -> Progress:
    """The command's progress line (``main`` gives every command one, from ``--quiet``)."""
    found = getattr(arguments, "progress", None)
    return found if isinstance(found, Progress) else Progress(quiet=True)
