"""Progress on long work: on stderr, only when it is a terminal and without ``--quiet``; the command's
output is the same either way."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from emulator import FunctionSpec, LambdaEmulator
from emulator.tls import ca_bundle
from lambdawarmer_cli.clients import Clients
from lambdawarmer_cli.deployed import parse_refs
from lambdawarmer_cli.history import read_history
from lambdawarmer_cli.progress import Progress

from .conftest import write_function
from .control_plane import REGION, make_function
from .test_history import now, put_history, trace_function

PLAIN = "def handler(event, context):\n    return {'plain': True}\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_only_on_a_terminal_and_not_when_quiet() -> None:
    for stream, quiet, shown in (
        (Terminal(), False, True),
        (Terminal(), True, False),
        (io.StringIO(), False, False),
    ):
        progress = Progress(quiet, stream)
        with progress.ticking(lambda seconds: f"working: {seconds:.0f} s", every_s=0.2):
            time.sleep(1.5)
        written = stream.getvalue()
        assert ("working: 1 s" in written) is shown, (quiet, written)
        if shown:
            assert written.endswith("\r"), "the line is cleared when the work ends"


def test_short_work_shows_nothing() -> None:
    stream = Terminal()
    with Progress(False, stream).ticking(lambda seconds: "working"):
        pass
    assert stream.getvalue() == ""


def test_cost_history_says_what_it_reads(aws: dict[str, Any]) -> None:
    make_function(aws, memory=256)
    put_history(aws["endpoint"], trace_function(), now())
    stream = Terminal()
    read_history(Clients(region=REGION), parse_refs(["orders"])[0], 1, now(), Progress(False, stream))
    assert "reading CloudWatch: 1 day(s) of orders's metrics, page 1," in stream.getvalue()


def ping_on_a_terminal(url: str, *argv: str) -> tuple[int, str, str]:
    """``lambdawarmer ping`` with stderr a terminal (a pseudo-terminal) and stdout a pipe."""
    controller, terminal = pty.openpty()
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_LAMBDA": url,
        "AWS_CA_BUNDLE": str(ca_bundle()),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdawarmer_cli", "ping", "orders", *argv],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
        text=True,
    )
    os.close(terminal)
    seen = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal's other end closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    stdout = process.stdout.read() if process.stdout else ""
    return process.wait(timeout=60), stdout, seen.decode(errors="replace")


def test_a_long_ping_shows_its_progress_on_a_terminal_only(
    start_emulator: Any, tmp_path: Path, layer_zip: Path
) -> None:
    code = write_function(tmp_path / "code", PLAIN)
    environment = {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper", "WARMER_DELAY": "2500"}
    emulator: LambdaEmulator = start_emulator(
        FunctionSpec("orders", code, "app.handler", layers=[layer_zip], environment=environment, timeout_s=30)
    )
    status, stdout, terminal = ping_on_a_terminal(emulator.url, "--concurrency", "2")
    assert status == 0, stdout + terminal
    assert "pinging orders (concurrency 2): " in terminal
    assert "the report comes when its rounds are done" in terminal
    assert "OK: all instances warm" in stdout
    assert "pinging" not in stdout
    status, stdout, terminal = ping_on_a_terminal(emulator.url, "--concurrency", "2", "--quiet")
    assert (status, terminal) == (0, ""), terminal
    assert "OK: all instances warm" in stdout
