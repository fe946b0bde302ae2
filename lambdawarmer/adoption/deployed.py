"""A deployed function as the control plane describes it, and the names lambdawarmer gives its parts."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..aws import LazyClient, Service

WRAPPER_PATH = "/opt/lambdawarmer-wrapper"
LAYER_NAME = "lambdawarmer"
POLICY_NAME = "lambdawarmer-self-invoke"
SCHEDULE_GROUP = "lambdawarmer"
RECORD_TAG = "lambdawarmer:added"
"""The function tag that lists the variables ``enable`` added, so ``disable`` removes exactly those."""
MAX_LAYERS = 5
MAX_ENVIRONMENT_BYTES = 4096
UPDATE_WAIT_S = 120


class Clients:
    """boto3 clients for one AWS configuration (profile, region), made when first needed."""

    def __init__(self, profile: str | None = None, region: str | None = None) -> None:
        import boto3
        from botocore.config import Config

        self._session = boto3.session.Session(profile_name=profile, region_name=region)
        self._config = Config(connect_timeout=10, read_timeout=60, retries={"mode": "standard"})
        self._clients: dict[str, Any] = {}

    def __getattr__(self, attribute: str) -> Any:
        """``clients.iam``, ``clients.scheduler``... (``clients.lambda_`` for Lambda)."""
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        service = attribute.rstrip("_")
        if service not in self._clients:
            self._clients[service] = self._session.client(service, config=self._config)
        return self._clients[service]

    @property
    def region(self) -> str:
        return str(self._session.region_name)

    def runtime_client(self, service: Service, timeout_ms: int) -> LazyClient:
        """The layer's own client for ``service``, signing with this session's credentials: for
        running the function's code (auto concurrency) from here."""
        from ..aws import Credentials, LazyClient

        found = self._session.get_credentials()
        if found is None:
            raise RuntimeError("no AWS credentials found (profile, environment or instance role)")
        frozen = found.get_frozen_credentials()
        credentials = Credentials(frozen.access_key, frozen.secret_key, frozen.token, None)
        return LazyClient(service, timeout_ms, 1, credentials=credentials, region_name=self.region)


def split_name(name: str) -> tuple[str, str | None]:
    """(function, qualifier) from ``name``, ``name:qualifier`` or an ARN, qualified or not."""
    parts = name.split(":")
    if parts[0] == "arn" and len(parts) >= 7:
        return ":".join(parts[:7]), (parts[7] if len(parts) > 7 else None)
    if len(parts) == 2:
        return parts[0], parts[1]
    return name, None


def layer_name(arn: str) -> str:
    """The name in ``arn:aws:lambda:region:account:layer:NAME:VERSION``."""
    parts = arn.split(":")
    return parts[6] if len(parts) >= 8 and parts[5] == "layer" else arn


def short_name(prefix: str, *parts: str) -> str:
    """A resource name from ``parts`` that fits IAM's and Scheduler's 64 characters."""
    name = "-".join((prefix, *parts)).replace("$", "")
    if len(name) <= 64:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{name[: 64 - 11]}-{digest}"


class Deployed:
    """One function: its configuration, tags and target (the qualifier pings go to)."""

    def __init__(self, configuration: dict[str, Any], qualifier: str | None, tags: dict[str, str]) -> None:
        self.configuration = configuration
        self.qualifier = qualifier
        self.tags = tags

    @property
    def name(self) -> str:
        return str(self.configuration["FunctionName"])

    @property
    def arn(self) -> str:
        """The unqualified ARN."""
        return ":".join(str(self.configuration["FunctionArn"]).split(":")[:7])

    @property
    def target_arn(self) -> str:
        """What the schedule invokes: the function through its qualifier."""
        return f"{self.arn}:{self.qualifier}" if self.qualifier else self.arn

    @property
    def label(self) -> str:
        return f"{self.name}:{self.qualifier}" if self.qualifier else self.name

    @property
    def layers(self) -> list[str]:
        return [layer["Arn"] for layer in self.configuration.get("Layers", [])]

    @property
    def variables(self) -> dict[str, str]:
        return dict(self.configuration.get("Environment", {}).get("Variables", {}))

    @property
    def role_name(self) -> str:
        return str(self.configuration["Role"]).rsplit("/", 1)[-1]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def added_variables(self) -> list[str]:
        """The variables ``enable`` recorded as its own."""
        record = self.tags.get(RECORD_TAG, "")
        return [name for name in record.split(" ") if name]

    @property
    def schedule_name(self) -> str:
        return short_name("lambdawarmer", self.name, *([self.qualifier] if self.qualifier else []))


def read_function(clients: Clients, name: str) -> Deployed:
    """The function ``name`` (a name, ``name:qualifier`` or an ARN) as it is now."""
    function, qualifier = split_name(name)
    configuration = clients.lambda_.get_function_configuration(FunctionName=function)
    tags = clients.lambda_.list_tags(Resource=":".join(configuration["FunctionArn"].split(":")[:7]))["Tags"]
    return Deployed(configuration, qualifier, tags)


def functions_tagged(clients: Clients, tag: str) -> list[str]:
    """The names of every function carrying ``KEY=VALUE``."""
    key, _, value = tag.partition("=")
    names = []
    for page in clients.lambda_.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            tags = clients.lambda_.list_tags(Resource=function["FunctionArn"])["Tags"]
            if tags.get(key) == value:
                names.append(function["FunctionName"])
    return sorted(names)


def wait_for_update(clients: Clients, function: str) -> str:
    """Wait until the function's last configuration update has finished; its status."""
    deadline = time.monotonic() + UPDATE_WAIT_S
    while True:
        status = clients.lambda_.get_function_configuration(FunctionName=function).get("LastUpdateStatus")
        if status not in ("InProgress", "Pending") or time.monotonic() > deadline:
            return str(status or "Successful")
        time.sleep(1)
