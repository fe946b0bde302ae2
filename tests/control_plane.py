"""The AWS control plane the command line's tests talk to: moto's server, emptied for each test, with
each function's invocations routed to the emulator running it (moto's own invoke needs Docker); the
functions as users have them, and the command run as a user runs it.

``aws`` and ``invocations_to`` are fixtures (conftest imports them); the rest are helpers.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from emulator import LambdaEmulator
from emulator.lab import router as lab_router
from lambdawarmer_cli import main as cli

REGION = "us-east-1"
OTHER_LAYERS = [f"arn:aws:lambda:{REGION}:123456789012:layer:tools-{n}:{n}" for n in (1, 2, 3)]
VARIABLES = {f"APP_SETTING_{n}": f"value {n}" for n in range(10)}


_clients: dict[tuple[str, str], Any] = {}


def moto_client(service: str, endpoint: str) -> Any:
    """A client of moto's server at ``endpoint``, made once per test worker: a boto3 client took about
    20 ms of CPU to make, and the control-plane tests made four a test (7 s of test_adoption_safety)."""
    if (service, endpoint) not in _clients:
        _clients[service, endpoint] = boto3.client(
            service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )  # fmt: skip
    return _clients[service, endpoint]


def emptied(endpoint: str) -> Any:
    """moto's server at ``endpoint`` emptied (a test worker's one server keeps what earlier tests put
    there), and a CloudWatch client for it."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    return moto_client("cloudwatch", endpoint)


@pytest.fixture
def aws(cloudwatch_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """moto's server, emptied, as the AWS every client here and in the command talks to."""
    emptied(cloudwatch_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", cloudwatch_endpoint)
    monkeypatch.delenv("AWS_ENDPOINT_URL_LAMBDA", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_CLOUDWATCH", raising=False)
    clients = {name: moto_client(name, cloudwatch_endpoint) for name in ("lambda", "iam", "scheduler", "ec2")}
    return {"endpoint": cloudwatch_endpoint, **clients}


@pytest.fixture
def lambda_router(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The lab's router as the command line's Lambda endpoint: moto, with what moto lacks."""
    router = lab_router(aws["endpoint"])
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", router.url)
    yield router.server
    router.close()


@pytest.fixture
def invocations_to(lambda_router: Any) -> Callable[[LambdaEmulator], None]:
    """Route a function's invocations to the emulator running it (the rest of Lambda's API, and
    invocations of any other function, stay moto's)."""

    def route(emulator: LambdaEmulator) -> None:
        lambda_router.emulators[emulator.function.name] = emulator.url

    return route


@pytest.fixture
def configured(lambda_router: Any) -> Callable[..., None]:
    """Give a function configuration that moto does not keep (``DurableConfig``, ``TenancyConfig``,
    ``CapacityProviderConfig``..., and ``provisioned``: qualifier -> Provisioned Concurrency), as
    Lambda's GetFunction(Configuration) and GetProvisionedConcurrencyConfig would answer."""

    def configure(name: str, provisioned: dict[str, int] | None = None, **fields: Any) -> None:
        lambda_router.configurations[name] = fields
        for qualifier, count in (provisioned or {}).items():
            lambda_router.provisioned[name, qualifier] = count

    return configure


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'real work'\n")
    return buffer.getvalue()


def make_role(aws: dict[str, Any], name: str = "orders-role") -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    try:
        return str(
            aws["iam"].create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        )
    except aws["iam"].exceptions.EntityAlreadyExistsException:
        return str(aws["iam"].get_role(RoleName=name)["Role"]["Arn"])


def make_function(aws: dict[str, Any], name: str = "orders", **extra: Any) -> dict[str, Any]:
    """A function as users have them: other layers, many variables, its own tags."""
    for arn in OTHER_LAYERS:
        layer = arn.split(":")[6]
        while len(aws["lambda"].list_layer_versions(LayerName=layer).get("LayerVersions", [])) < int(
            arn.split(":")[7]
        ):
            aws["lambda"].publish_layer_version(LayerName=layer, Content={"ZipFile": code_zip()})
    variables = {**VARIABLES, **extra.pop("variables", {})}
    return dict(
        aws["lambda"].create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=make_role(aws),
            Handler="app.handler",
            Code={"ZipFile": code_zip()},
            Layers=extra.pop("layers", OTHER_LAYERS),
            Environment={"Variables": variables},
            Timeout=extra.pop("timeout", 30),
            MemorySize=extra.pop("memory", 512),
            Tags=extra.pop("tags", {"team": "shop"}),
            **extra,
        )
    )


def snapshot(aws: dict[str, Any], name: str = "orders") -> dict[str, Any]:
    """Everything enable may touch, to compare field by field."""
    configuration = aws["lambda"].get_function_configuration(FunctionName=name)
    role = configuration["Role"].rsplit("/", 1)[-1]
    schedules = [s["Name"] for s in aws["scheduler"].list_schedules()["Schedules"]]
    return {
        "layers": [layer["Arn"] for layer in configuration.get("Layers", [])],
        "variables": configuration.get("Environment", {}).get("Variables", {}),
        "tags": aws["lambda"].list_tags(Resource=configuration["FunctionArn"])["Tags"],
        "role policies": aws["iam"].list_role_policies(RoleName=role)["PolicyNames"],
        "roles": sorted(r["RoleName"] for r in aws["iam"].list_roles()["Roles"]),
        "schedules": schedules,
    }


def run(*argv: str) -> tuple[int, str]:
    """The command's exit status, and all it printed (errors included)."""
    out = io.StringIO()
    with contextlib.redirect_stderr(out):
        try:
            status = cli.main(list(argv), out)
        except SystemExit as exit:  # argparse's own usage errors
            status = int(exit.code or 0)
    return status, out.getvalue()


def verdicts(output: str) -> dict[str, str]:
    """check name -> OK / WARN / FAIL, from status's table (columns two spaces apart)."""
    rows = [re.split(r" {2,}", line.strip()) for line in output.splitlines() if line.startswith("  ")]
    return {row[1]: row[0] for row in rows if len(row) >= 2}
