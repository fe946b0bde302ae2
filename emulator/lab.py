"""An AWS account on this machine: moto's server for the control plane (Lambda's configuration,
IAM, Scheduler, CloudWatch) and the emulator for a function's invocations (moto runs functions only
with Docker), behind one endpoint. ``layer/lab.py`` sets one up with the layer. Dev and test only.
"""

from __future__ import annotations

import collections
import http.client
import io
import json
import ssl
import urllib.request
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from .function import FunctionSpec
from .http import FastHandler, LoopbackEndpoint
from .moto_server import MotoServer
from .service import LambdaEmulator
from .tls import ca_bundle

KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
"""The lab's credentials: moto takes any; the emulator's Invoke API checks signatures made with these."""
SERVICES = ("lambda", "iam", "scheduler", "cloudwatch", "sts", "ssm")
"""The services the command line calls: each one's own endpoint variable (``AWS_ENDPOINT_URL_<ID>``),
which boto3 prefers to ``AWS_ENDPOINT_URL``, is set to the lab's too, so none left in a shell sends
a call elsewhere."""
CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
"""Variables a shell may hold that would take the command line away from the lab (a profile's own
credentials or endpoints, a real session's token, endpoints ignored): unset where the lab is used."""
REQUESTS_KEPT = 1000
"""How many of the last requests the router lists (a lab may run for hours)."""
ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def invoked_function(path: str) -> str:
    """The function name an Invoke API path names (``/2015-03-31/functions/{name|ARN}/invocations``),
    or "" for any other path."""
    if not path.endswith("/invocations"):
        return ""
    named = unquote(path.split("/")[3])
    return named.split(":function:", 1)[1].split(":")[0] if ":function:" in named else named.split(":")[0]


class Router(FastHandler):
    """A function's invocations to the emulator running it, every other request to moto."""

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(f"{self.command} {self.path}")  # type: ignore[attr-defined]
        if self._denied():
            return
        if "/provisioned-concurrency" in self.path:
            self._provisioned_concurrency()
            return
        if _signed_for(self.headers.get("Authorization", "")) in self.server.denied_regions:  # type: ignore[attr-defined]
            error = {
                "Type": "User",
                "message": "User is not authorized to perform this action in this region",
            }
            self.reply(403, json.dumps(error).encode(), {"x-amzn-ErrorType": "AccessDeniedException"})
            return
        emulators: dict[str, str] = self.server.emulators  # type: ignore[attr-defined]
        moto_url: str = self.server.moto_url  # type: ignore[attr-defined]
        upstream = emulators.get(invoked_function(self.path.split("?")[0])) or moto_url
        connection = _connection(upstream)
        headers = dict(self.headers.items())  # Host included: the caller signed it
        connection.request(self.command, self.path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        if self.command == "GET" and response.status == 200:
            answer = self._signed(self._configured(answer))
        skip = {"content-length", "transfer-encoding", "connection"}
        self.reply(response.status, answer, {k: v for k, v in response.getheaders() if k.lower() not in skip})
        connection.close()

    def _denied(self) -> bool:
        """Refuse a request of ``.server.denied_requests`` (method, path prefix), as IAM refuses an
        action the caller is not allowed: 403 AccessDeniedException."""
        denied: set[tuple[str, str]] = self.server.denied_requests  # type: ignore[attr-defined]
        if not any(self.command == method and self.path.startswith(path) for method, path in denied):
            return False
        error = {"Type": "User", "Message": f"not authorized to perform {self.command} {self.path}"}
        self.reply(403, json.dumps(error).encode(), {"x-amzn-ErrorType": "AccessDeniedException"})
        return True

    def _provisioned_concurrency(self) -> None:
        """GetProvisionedConcurrencyConfig, which moto lacks, from ``.server.provisioned``
        (``(function name, qualifier)`` -> environments allocated)."""
        provisioned: dict[tuple[str, str], int] = self.server.provisioned  # type: ignore[attr-defined]
        where = urlparse(self.path)
        name = unquote(where.path.split("/")[3]).split(":function:")[-1].split(":")[0]
        qualifier = parse_qs(where.query).get("Qualifier", [""])[0]
        count = provisioned.get((name, qualifier))
        if self.command != "GET" or count is None:
            error = {"Type": "User", "message": "No Provisioned Concurrency Config found for this function"}
            headers = {"x-amzn-ErrorType": "ProvisionedConcurrencyConfigNotFoundException"}
            self.reply(404, json.dumps(error).encode(), headers)
            return
        config = {
            "RequestedProvisionedConcurrentExecutions": count,
            "AvailableProvisionedConcurrentExecutions": count,
            "AllocatedProvisionedConcurrentExecutions": count,
            "Status": "READY",
        }
        self.reply(200, json.dumps(config).encode(), {"Content-Type": "application/json"})

    def _configured(self, answer: bytes) -> bytes:
        """A function's configuration with the fields moto does not keep (``.server.configurations``:
        name -> fields, such as ``DurableConfig`` or ``TenancyConfig``) added, as Lambda answers it."""
        configurations: dict[str, dict[str, Any]] = self.server.configurations  # type: ignore[attr-defined]
        parts = urlparse(self.path).path.split("/")
        if len(parts) < 4 or parts[2] != "functions" or parts[-1] not in ("configuration", parts[3]):
            return answer
        extra = configurations.get(unquote(parts[3]).split(":function:")[-1].split(":")[0])
        if not extra:
            return answer
        document = json.loads(answer)
        document.get("Configuration", document).update(extra)
        return json.dumps(document).encode()

    def _signed(self, answer: bytes) -> bytes:
        """A layer version's content with the signing fields moto does not keep
        (``.server.signed_layers``: layer version ARN -> ``SigningProfileVersionArn`` and
        ``SigningJobArn``), as Lambda answers GetLayerVersion for a zip Signer signed."""
        signed: dict[str, dict[str, str]] = self.server.signed_layers  # type: ignore[attr-defined]
        parts = urlparse(self.path).path.split("/")
        if len(parts) != 6 or parts[2] != "layers" or parts[4] != "versions":
            return answer
        document = json.loads(answer)
        document.setdefault("Content", {}).update(signed.get(document.get("LayerVersionArn", ""), {}))
        return json.dumps(document).encode()

    do_GET = do_POST = do_PUT = do_DELETE = _forward


def endpoint_variable(service: str) -> str:
    """The variable boto3 reads for one service's endpoint (``AWS_ENDPOINT_URL_CLOUDWATCH``...)."""
    from botocore.loaders import create_loader

    service_id = create_loader().load_service_model(service, "service-2")["metadata"]["serviceId"]
    return f"AWS_ENDPOINT_URL_{service_id.upper().replace(' ', '_')}"


def _signed_for(authorization: str) -> str:
    """The region a SigV4 ``Authorization`` header was signed for ("" when none)."""
    scope = authorization.partition("Credential=")[2].split(",")[0].split("/")
    return scope[2] if len(scope) > 2 else ""


def _connection(url: str) -> http.client.HTTPConnection:
    """A connection to ``url``, an emulator's (HTTPS: its certificate trusted) or moto's."""
    where = urlparse(url)
    if where.scheme == "https":
        trusted = ssl.create_default_context(cafile=str(ca_bundle()))
        return http.client.HTTPSConnection(where.netloc, timeout=60, context=trusted)
    return http.client.HTTPConnection(where.netloc, timeout=60)


def router(moto_url: str, port: int = 0) -> LoopbackEndpoint:
    """One endpoint: invocations of the functions added to ``.server.emulators`` (name -> URL) go
    there, everything else to moto (with ``.server.configurations`` added to the configurations, and
    ``.server.provisioned`` answering for Provisioned Concurrency, ``.server.signed_layers`` adding
    Signer's fields to layer versions); every request signed for a region in ``.server.denied_regions``,
    and every request of ``.server.denied_requests`` (method, path prefix: it fronts any REST service
    of moto's, Scheduler's too), is refused (AccessDeniedException), as IAM would.
    ``.server.requests`` lists the last requests seen (method and path)."""
    return LoopbackEndpoint(
        Router,
        port,
        emulators={},
        configurations={},
        provisioned={},
        signed_layers={},
        denied_regions=set(),
        denied_requests=set(),
        requests=collections.deque(maxlen=REQUESTS_KEPT),
        moto_url=moto_url,
    )


def _code_zip(code: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for source in sorted(code.rglob("*.py")):
            archive.write(source, source.relative_to(code).as_posix())
    return buffer.getvalue()


class Lab:
    """moto's server (emptied), the emulator running ``function``, the router; and ``function``
    created in moto with ``variables``, as its user configured it."""

    def __init__(self, function: FunctionSpec, variables: dict[str, str], port: int = 0) -> None:
        import boto3

        self._moto = MotoServer()
        moto_url = self._moto.url
        # moto keeps its accounts per process: start from an empty one, whatever ran here before.
        urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
        self._router = router(moto_url, port)
        self.url = self._router.url
        # The function's own calls (auto's GetMetricData, PutMetricData) go to the lab too, never to
        # the region's real endpoints; its invokes go to the emulator (AWS_ENDPOINT_URL_LAMBDA).
        self.emulator = LambdaEmulator(
            function,
            credentials={KEYS["AWS_ACCESS_KEY_ID"]: KEYS["AWS_SECRET_ACCESS_KEY"]},
            extra_env={"AWS_ENDPOINT_URL": self.url},
        )
        self.emulator.serve()
        self._router.server.emulators[function.name] = self.emulator.url  # type: ignore[attr-defined]
        self.region = function.region
        session = boto3.session.Session(
            aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
            region_name=function.region,
        )
        iam = session.client("iam", endpoint_url=moto_url)
        role = iam.create_role(
            RoleName=f"{function.name}-role", AssumeRolePolicyDocument=json.dumps(ROLE_TRUST)
        )
        session.client("lambda", endpoint_url=moto_url).create_function(
            FunctionName=function.name,
            Runtime=function.runtime,
            Role=role["Role"]["Arn"],
            Handler=function.handler,
            Code={"ZipFile": _code_zip(Path(function.code))},
            Timeout=int(function.timeout_s),
            MemorySize=512,
            Environment={"Variables": variables},
        )

    @property
    def environment(self) -> dict[str, str]:
        """The variables that point boto3 (and so the command line) at the lab."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            **{endpoint_variable(service): self.url for service in SERVICES},
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **KEYS,
        }

    def close(self) -> None:
        self._router.close()
        self.emulator.close()
        self._moto.stop()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()
