"""``python -m emulator``: serve one function's Invoke API on 127.0.0.1.

    python -m emulator serve example --handler app.handler --layer dist/lambdawarmer-layer.zip \\
        --env AWS_LAMBDA_EXEC_WRAPPER=/opt/lambdawarmer-wrapper --port 9001

then, from another shell, with the ``AWS_CA_BUNDLE`` it prints (its Invoke API is HTTPS, as
Lambda's is; ``--http`` for plain HTTP), ``AWS_ACCESS_KEY_ID=emulator AWS_SECRET_ACCESS_KEY=emulator
aws lambda invoke --region us-east-1 --endpoint-url https://127.0.0.1:9001 --function-name example
--cli-binary-format raw-in-base64-out --payload '{"warmer": true, "concurrency": 3}' out.json``, or
boto3 with ``AWS_ENDPOINT_URL_LAMBDA``. Ctrl-C stops it and prints what happened.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import zipfile
from pathlib import Path

from .cpu import cpu_share
from .function import FunctionSpec
from .interpreters import PYTHON_RUNTIMES, RuntimeUnavailable
from .runtimes import available_runtimes, prepare_runtimes
from .service import LambdaEmulator
from .signatures import ACCESS_KEY, SECRET_KEY


def _pair(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulator", description="A local Lambda emulator for one function."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the function's Invoke API until Ctrl-C")
    serve.add_argument("code", type=Path, help="the function's code folder (its task root)")
    serve.add_argument("--handler", required=True, help="module.function, as in the function's configuration")
    serve.add_argument("--name", help="function name (default: the code folder's name)")
    serve.add_argument(
        "--runtime", default="python3.11", help="python3.10 to python3.14 (default python3.11)"
    )
    serve.add_argument(
        "--layer", type=Path, action="append", default=[], help="a layer zip (in order; repeatable)"
    )
    serve.add_argument("--env", type=_pair, action="append", default=[], help="NAME=VALUE for the function")
    serve.add_argument("--timeout", type=float, default=3.0, help="function timeout in seconds (default 3)")
    serve.add_argument(
        "--memory",
        type=int,
        default=128,
        help="memory size in MB (default 128): also its CPU share, 1769 = a core",
    )
    serve.add_argument(
        "--cpu",
        choices=["memory", "full"],
        default="memory",
        help="each environment's CPU: its memory's share of a core, as in Lambda (default), or a whole core",
    )
    serve.add_argument(
        "--throttle-init",
        action="store_true",
        help="hold the init phase to the share too (default: unthrottled)",
    )
    serve.add_argument("--version", action="append", default=[], help="a published version (repeatable)")
    serve.add_argument("--alias", type=_pair, action="append", default=[], help="ALIAS=VERSION (repeatable)")
    serve.add_argument("--concurrency", type=int, default=100, help="concurrency limit (default 100)")
    serve.add_argument("--latency-ms", type=float, default=0.0, help="modelled Invoke API round trip")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    serve.add_argument(
        "--http",
        action="store_true",
        help="serve plain HTTP (default: HTTPS, as Lambda's API is, with a certificate made at start)",
    )
    runtimes = commands.add_parser("runtimes", help="which runtimes this machine can emulate")
    runtimes.add_argument(
        "--prepare", action="store_true", help="set up each one's environment now, all at once (.venvs/)"
    )
    return parser.parse_args(argv)


class ServeError(ValueError):
    """An argument ``serve`` cannot run with (the message names it and what is allowed)."""


def check(arguments: argparse.Namespace) -> None:
    """Refuse what Lambda would refuse, or what cannot run, before anything starts."""
    if not arguments.code.is_dir():
        raise ServeError(f"{arguments.code}: no such folder (the function's code folder, its task root)")
    if "." not in arguments.handler:
        raise ServeError(f"--handler {arguments.handler!r}: expected module.function, e.g. app.handler")
    if arguments.runtime not in PYTHON_RUNTIMES:
        raise ServeError(f"--runtime {arguments.runtime!r}: expected one of {', '.join(PYTHON_RUNTIMES)}")
    for layer in arguments.layer:
        if not zipfile.is_zipfile(layer):
            raise ServeError(
                f"--layer {layer}: not a zip file (./build.sh makes dist/lambdawarmer-layer.zip)"
            )
    bounds = (
        ("--memory", arguments.memory, 128, 10_240, "MB"),
        ("--timeout", arguments.timeout, 1, 900, "seconds"),
        ("--concurrency", arguments.concurrency, 1, 10_000, ""),
        ("--port", arguments.port, 0, 65_535, ""),
    )
    for flag, value, least, most, unit in bounds:
        if not least <= value <= most:
            raise ServeError(f"{flag} {value:g}: Lambda allows {least} to {most}{f' {unit}' if unit else ''}")


def serve(arguments: argparse.Namespace) -> int:
    function = FunctionSpec(
        name=arguments.name or arguments.code.resolve().name,
        code=arguments.code,
        handler=arguments.handler,
        runtime=arguments.runtime,
        layers=arguments.layer,
        environment=dict(arguments.env),
        memory_mb=arguments.memory,
        timeout_s=arguments.timeout,
        versions=arguments.version,
        aliases=dict(arguments.alias),
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LambdaEmulator(
        function,
        concurrency=arguments.concurrency,
        latency_ms=arguments.latency_ms,
        cpu=arguments.cpu,
        throttle_init=arguments.throttle_init,
    ) as emulator:
        url = emulator.serve(arguments.port, tls=not arguments.http)
        print(f"emulating {function.arn} ({function.runtime}) at {url}", flush=True)
        if emulator.ca_bundle:
            print(
                f"  AWS_CA_BUNDLE={emulator.ca_bundle}  (trust its certificate: boto3, the AWS CLI)",
                flush=True,
            )
        if emulator.cpu is not None:
            phases = "init and invocations" if arguments.throttle_init else "invocations (init unthrottled)"
            share = f"{cpu_share(function.memory_mb):.1%} of a core"
            print(f"  {function.memory_mb} MB: each environment's {phases} get {share}", flush=True)
        print(f"  AWS_ENDPOINT_URL_LAMBDA={url}  (Ctrl-C to stop)", flush=True)
        print(
            f"  sign with AWS_ACCESS_KEY_ID={ACCESS_KEY} AWS_SECRET_ACCESS_KEY={SECRET_KEY} "
            f"(region {function.region}): other keys are refused, as Lambda refuses them",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        for line in emulator.output():
            print(f"  | {line}")
        print(json.dumps(emulator.summary(), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = parse(sys.argv[1:] if argv is None else argv)
    if arguments.command == "runtimes":
        found = prepare_runtimes() if arguments.prepare else available_runtimes()
        for runtime, status in found.items():
            print(f"{runtime}: {status}")
        return 0
    try:
        check(arguments)
        return serve(arguments)
    except (ServeError, RuntimeUnavailable) as error:
        print(f"python -m emulator serve: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
