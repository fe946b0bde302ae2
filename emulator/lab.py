"""An AWS account on this machine for trying the command line: moto's server for Lambda's
configuration, IAM, Scheduler and CloudWatch, and the emulator for the function's invocations (moto
runs functions only with Docker), behind one endpoint.

    python -m emulator lab --layer dist/lambdawarmer-layer.zip

prints the variables to export; then ``lambdawarmer enable example ...`` runs as against an account.
The function ``example`` (``example/app.py``) is created in moto as a user would have it (no layer,
a ``WARMER_TOKEN`` of its own, which ``enable`` keeps), and runs in the emulator with the layer, its
wrapper and that token, as ``enable`` leaves it. Dev and test only.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import secrets
import urllib.request
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lambdawarmer.config import SETTINGS
from lambdawarmer.function_ref import parse_function_ref
from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH

from .function import FunctionSpec
from .http import FastHandler, LoopbackEndpoint
from .service import LambdaEmulator

TOKEN_VARIABLE = SETTINGS["token"].env
REGION = "us-east-1"
ACCOUNT = "123456789012"
KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
"""The lab's credentials: moto takes any; the emulator's Invoke API checks signatures made with these."""
ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


class Router(FastHandler):
    """A function's invocations to the emulator running it, every other request to moto."""

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        emulators: dict[str, str] = self.server.emulators  # type: ignore[attr-defined]
        function = (
            parse_function_ref(unquote(path.split("/")[3])).name if path.endswith("/invocations") else ""
        )
        moto_url: str = self.server.moto_url  # type: ignore[attr-defined]
        upstream = emulators.get(function) or moto_url
        connection = http.client.HTTPConnection(urlparse(upstream).netloc, timeout=60)
        headers = dict(self.headers.items())  # Host included: the caller signed it
        connection.request(self.command, self.path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        skip = {"content-length", "transfer-encoding", "connection"}
        self.reply(response.status, answer, {k: v for k, v in response.getheaders() if k.lower() not in skip})
        connection.close()

    do_GET = do_POST = do_PUT = do_DELETE = _forward


def router(moto_url: str, port: int = 0) -> LoopbackEndpoint:
    """One endpoint: invocations of the functions added to ``.server.emulators`` (name -> URL)
    go there, everything else to moto."""
    return LoopbackEndpoint(Router, port, emulators={}, moto_url=moto_url)


def _code_zip(code: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for source in sorted(code.rglob("*.py")):
            archive.write(source, source.relative_to(code).as_posix())
    return buffer.getvalue()


class Lab:
    """moto's server, the emulator running ``name`` from ``code`` with ``layer_zip``, and the router."""

    def __init__(self, layer_zip: Path, code: Path, name: str = "example", port: int = 0) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
        self.token = secrets.token_urlsafe(24)
        """The function's own WARMER_TOKEN (``enable`` keeps it), for ``ping --token-from-env``."""
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        host, moto_port = self._moto.get_host_and_port()
        moto_url = f"http://{host}:{moto_port}"
        # moto keeps its accounts per process: start from an empty one, whatever ran here before.
        urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
        environment = {EXEC_WRAPPER_VARIABLE: WRAPPER_PATH, TOKEN_VARIABLE: self.token}
        spec = FunctionSpec(
            name, code, "app.handler", layers=[layer_zip], environment=environment, timeout_s=30
        )
        self.emulator = LambdaEmulator(
            spec, credentials={KEYS["AWS_ACCESS_KEY_ID"]: KEYS["AWS_SECRET_ACCESS_KEY"]}
        )
        self.emulator.serve()
        self._router = router(moto_url, port)
        self._router.server.emulators[name] = self.emulator.url  # type: ignore[attr-defined]
        self.url = self._router.url
        session = boto3.session.Session(
            aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        )
        iam = session.client("iam", endpoint_url=moto_url)
        role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(ROLE_TRUST))
        session.client("lambda", endpoint_url=moto_url).create_function(
            FunctionName=name,
            Runtime=spec.runtime,
            Role=role["Role"]["Arn"],
            Handler=spec.handler,
            Code={"ZipFile": _code_zip(code)},
            Timeout=30,
            MemorySize=512,
            Environment={"Variables": {TOKEN_VARIABLE: self.token}},
        )

    @property
    def environment(self) -> dict[str, str]:
        """The variables that point boto3 (and so ``lambdawarmer``) at the lab."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            **KEYS,
            TOKEN_VARIABLE: self.token,
        }

    def close(self) -> None:
        self._router.close()
        self.emulator.close()
        self._moto.stop()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()
