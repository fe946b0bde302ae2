"""A progress bar over the whole fleet, on stderr, at a terminal only (never in a pipe or a log)."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

WIDTH = 30


class Progress:
    """``label [#####-----] done/total``, redrawn in place as each item ends."""

    def __init__(self, label: str, total: int, *, quiet: bool, stream: TextIO | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.shown = not quiet and self.stream.isatty() and total > 0
        self.label = label
        self.total = total
        self.done = 0
        self._lock = threading.Lock()
        self._draw()

    def step(self) -> None:
        with self._lock:
            self.done += 1
            self._draw()

    def close(self) -> None:
        if self.shown:
            print(file=self.stream, flush=True)

    def _draw(self) -> None:
        if not self.shown:
            return
        filled = WIDTH * self.done // self.total
        bar = "#" * filled + "-" * (WIDTH - filled)
        print(f"\r{self.label} [{bar}] {self.done}/{self.total}", end="", file=self.stream, flush=True)
