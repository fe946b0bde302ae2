"""Try ``lambdawarmer enable | status | ping | disable`` on this machine, as against an account.

    python -m layer.lab --env-file lab.env &     # lab.env appears once the lab is ready
    until [ -e lab.env ] || ! kill -0 $! 2>/dev/null; do sleep 1; done; . ./lab.env

The function ``example`` (``example/``) is created in the lab's moto as a user would have it: no
layer, a ``WARMER_TOKEN`` of its own (which ``enable`` keeps). The emulator runs it with the layer,
its wrapper and that token, as ``enable`` leaves it. Dev and test only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import sys
import threading
import zipfile
from pathlib import Path

from emulator import FunctionSpec
from emulator.lab import CLEARED, Lab
from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH
from lambdawarmer.settings import SETTINGS

TOKEN_VARIABLE = SETTINGS["token"].env


def example_lab(layer_zip: Path, code: Path, port: int = 0) -> tuple[Lab, dict[str, str]]:
    """The lab running ``code`` as ``example`` with the layer; and what to export to use it (the
    lab's endpoint and keys, and the function's token for ``ping --token-from-env``)."""
    token = secrets.token_urlsafe(24)
    environment = {EXEC_WRAPPER_VARIABLE: WRAPPER_PATH, TOKEN_VARIABLE: token}
    function = FunctionSpec(
        "example", code, "app.handler", layers=[layer_zip], environment=environment, timeout_s=30
    )
    lab = Lab(function, {TOKEN_VARIABLE: token}, port)
    return lab, {**lab.environment, TOKEN_VARIABLE: token}


def shell_lines(environment: dict[str, str]) -> str:
    """What a shell sources to use the lab: the variables that would lead elsewhere unset, the lab's
    exported."""
    return f"unset {' '.join(CLEARED)}\n" + "".join(
        f"export {name}={value}\n" for name, value in environment.items()
    )


def write_atomically(path: Path, text: str) -> None:
    """``text`` in ``path``, all at once (a reader finds the whole file or none), readable by its
    owner only (it holds the function's token)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write(text)
    os.replace(partial, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layer.lab", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--layer", type=Path, default=Path("dist/lambdawarmer-layer.zip"), help="the layer zip"
    )
    parser.add_argument(
        "--code", type=Path, default=Path("example"), help="the function's code (default example/)"
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    parser.add_argument(
        "--env-file",
        type=Path,
        help="also write the lines to source here, once the lab is ready (removed when it stops)",
    )
    arguments = parser.parse_args(argv)
    if not zipfile.is_zipfile(arguments.layer):
        print(
            f"python -m layer.lab: --layer {arguments.layer}: not a zip file (./build.sh makes it)",
            file=sys.stderr,
        )
        return 2
    if not arguments.code.is_dir():
        print(f"python -m layer.lab: --code {arguments.code}: no such folder", file=sys.stderr)
        return 2
    if arguments.env_file:
        arguments.env_file.unlink(missing_ok=True)  # a stopped lab's, which would be sourced too soon
    for name in [*CLEARED, *(name for name in os.environ if name.startswith("AWS_ENDPOINT_URL"))]:
        os.environ.pop(name, None)  # the lab's own set-up calls go to its moto, whatever this shell says
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: stop.set())
    lab, environment = example_lab(arguments.layer, arguments.code, arguments.port)
    with lab:
        lines = shell_lines(environment)
        if arguments.env_file:
            write_atomically(arguments.env_file, lines)
        print(
            "lab ready: moto's server for the control plane, the emulator for invokes of example; "
            + (f"source {arguments.env_file}" if arguments.env_file else "source these lines:"),
            flush=True,
        )
        if not arguments.env_file:
            print(lines, end="", flush=True)
        try:
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
        finally:
            if arguments.env_file:
                arguments.env_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
