"""Try ``lambdawarmer enable | status | ping | disable`` on this machine, as against an account.

    python -m layer.lab --env-file lab.env &     # then: . ./lab.env

The function ``example`` (``example/``) is created in the lab's moto as a user would have it: no
layer, a ``WARMER_TOKEN`` of its own (which ``enable`` keeps). The emulator runs it with the layer,
its wrapper and that token, as ``enable`` leaves it. Dev and test only.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import signal
import sys
import threading
import zipfile
from pathlib import Path

from emulator import FunctionSpec
from emulator.lab import Lab
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layer.lab", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--layer", type=Path, default=Path("dist/lambdawarmer-layer.zip"), help="the layer zip"
    )
    parser.add_argument(
        "--code", type=Path, default=Path("example"), help="the function's code (default example/)"
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    parser.add_argument("--env-file", type=Path, help="also write the export lines here, to source")
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
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    lab, environment = example_lab(arguments.layer, arguments.code, arguments.port)
    with lab:
        print(
            "lab ready: moto's server for the control plane, the emulator for invokes of example", flush=True
        )
        exports = "".join(f"export {name}={value}\n" for name, value in environment.items())
        print(exports, end="", flush=True)
        if arguments.env_file:
            arguments.env_file.write_text(exports)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
