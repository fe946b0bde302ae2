"""A deployed function as the control plane describes it: read by name, qualifier or ARN, or by tag."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lambdawarmer.config import load_config
from lambdawarmer.function_ref import FunctionRef, parse_function_ref

from .exit_status import UsageError
from .names import RECORD_TAG, schedule_name, scheduler_role_name

if TYPE_CHECKING:
    from lambdawarmer.config import WarmerConfig

    from .clients import Clients

UPDATE_WAIT_S = 120


class Deployed:
    """One function: its configuration, its tags, and the qualifier pings go to (None: as named)."""

    def __init__(self, configuration: dict[str, Any], qualifier: str | None, tags: dict[str, str]) -> None:
        self.configuration = configuration
        self.qualifier = qualifier
        self.tags = tags
        self.ref = parse_function_ref(str(configuration["FunctionArn"])).qualified(qualifier)
        """The function by its unqualified ARN, through the qualifier pinged."""

    @property
    def name(self) -> str:
        return str(self.configuration["FunctionName"])

    @property
    def arn(self) -> str:
        """The unqualified ARN."""
        return self.ref.function

    @property
    def target_arn(self) -> str:
        """What the schedule invokes: the function through its qualifier."""
        return str(self.ref)

    @property
    def label(self) -> str:
        return str(FunctionRef(self.name, self.qualifier))

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
        return str(self.ref.account)

    @property
    def added_variables(self) -> list[str]:
        """The variables ``enable`` recorded as its own."""
        record = self.tags.get(RECORD_TAG, "")
        return [name for name in record.split(" ") if name]

    @property
    def schedule_name(self) -> str:
        return schedule_name(self.ref)

    @property
    def scheduler_role_name(self) -> str:
        return scheduler_role_name(self.ref)

    def settings(self, variables: dict[str, str] | None = None) -> WarmerConfig:
        """The function's settings, read by the layer's code from its variables (or ``variables``, as
        they will be); raises :class:`lambdawarmer.WarmerConfigError` when they are invalid."""
        return load_config(environ=self.variables if variables is None else variables)


def read_function(clients: Clients, ref: FunctionRef) -> Deployed:
    """The function ``ref`` names, as it is now."""
    configuration = clients.lambda_.get_function_configuration(FunctionName=ref.function)
    unqualified = parse_function_ref(str(configuration["FunctionArn"])).function
    tags = clients.lambda_.list_tags(Resource=unqualified)["Tags"]
    return Deployed(configuration, ref.qualifier, tags)


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


def parse_refs(names: list[str], qualifier: str | None = None) -> list[FunctionRef]:
    """Each name as a reference (through ``qualifier`` unless it names its own), in order, once each;
    raises :class:`UsageError` for a name that is none of the forms Lambda takes."""
    refs = []
    for name in names:
        try:
            refs.append(parse_function_ref(name).qualified(qualifier))
        except ValueError as error:
            raise UsageError(str(error)) from None
    return list(dict.fromkeys(refs))


def selected_functions(
    clients: Clients, names: list[str], tag: str | None, qualifier: str | None
) -> list[FunctionRef]:
    """The functions named, and those carrying ``tag`` (``KEY=VALUE``), through ``qualifier``;
    raises :class:`UsageError` when that is none."""
    if tag is not None:
        if "=" not in tag or not tag.partition("=")[0]:
            raise UsageError(f"--tag {tag!r}: expected KEY=VALUE")
        names = [*names, *functions_tagged(clients, tag)]
    refs = parse_refs(names, qualifier)
    if not refs:
        raise UsageError("name a function, or --tag KEY=VALUE matching one")
    return refs


def wait_for_update(clients: Clients, function: str) -> str:
    """Wait until the function's last configuration update has finished; its status."""
    deadline = time.monotonic() + UPDATE_WAIT_S
    while True:
        status = clients.lambda_.get_function_configuration(FunctionName=function).get("LastUpdateStatus")
        if status not in ("InProgress", "Pending") or time.monotonic() > deadline:
            return str(status or "Successful")
        time.sleep(1)
