"""A deployed function as the control plane describes it: read by name, qualifier or ARN, or by tag.

Two configurations: ``$LATEST``'s, which ``enable`` and ``disable`` change, and the one the
qualifier serves (an alias's version, a version), which pings reach and ``status`` checks; and, for
an alias that routes a weight of its invocations to other versions, theirs, which pings reach too.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lambdawarmer.config import load_config
from lambdawarmer.function_ref import FunctionRef, parse_function_ref

from .exit_status import UsageError
from .names import (
    IAC_SCHEDULE_GROUP,
    RECORD_TAG,
    SCHEDULE_GROUP,
    SCHEDULE_PREFIX,
    schedule_name,
    scheduler_role_name,
    self_invoke_policy_name,
)
from .record import Record

if TYPE_CHECKING:
    from lambdawarmer.config import WarmerConfig

    from .clients import Clients

UPDATE_WAIT_S = 120


class Deployed:
    """One function: its configuration (``$LATEST``'s), the one its qualifier serves (``served``;
    the same without a qualifier), its tags, and the qualifier pings go to (None: as named)."""

    def __init__(
        self,
        configuration: dict[str, Any],
        qualifier: str | None,
        tags: dict[str, str],
        served: dict[str, Any] | None = None,
        weighted: dict[str, tuple[float, dict[str, Any]]] | None = None,
    ) -> None:
        self.configuration = configuration
        self.served = configuration if served is None else served
        self.qualifier = qualifier
        self.tags = tags
        self.weighted = weighted or {}
        """An alias's other versions (its ``RoutingConfig.AdditionalVersionWeights``): version ->
        (the weight of the alias's invocations it receives, its configuration). Pings reach them too."""
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
        return _layers(self.configuration)

    @property
    def variables(self) -> dict[str, str]:
        return _variables(self.configuration)

    @property
    def served_layers(self) -> list[str]:
        """The layers of the version the qualifier serves."""
        return _layers(self.served)

    @property
    def served_variables(self) -> dict[str, str]:
        """The variables of the version the qualifier serves: what a ping meets."""
        return _variables(self.served)

    @property
    def served_version(self) -> str:
        return str(self.served.get("Version", "$LATEST"))

    @property
    def revision(self) -> str | None:
        """``$LATEST``'s RevisionId, for an update that must not undo a change made since it was read."""
        revision = self.configuration.get("RevisionId")
        return str(revision) if revision else None

    @property
    def role_name(self) -> str:
        return _role_name(self.configuration)

    @property
    def served_role_name(self) -> str:
        """The execution role the version the qualifier serves runs with (the fan-out signs with it)."""
        return _role_name(self.served)

    @property
    def account(self) -> str:
        return str(self.ref.account)

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def record(self) -> Record:
        """What ``enable`` recorded that it set."""
        return Record.parse(self.tags.get(RECORD_TAG))

    @property
    def schedule_name(self) -> str:
        return schedule_name(self.ref)

    @property
    def scheduler_role_name(self) -> str:
        return scheduler_role_name(self.region, self.ref)

    @property
    def policy_name(self) -> str:
        """The execution role's inline policy for this target."""
        return self_invoke_policy_name(self.region, self.ref)

    @property
    def schedule_arn(self) -> str:
        partition = self.arn.split(":")[1]
        where = f"{partition}:scheduler:{self.region}:{self.account}"
        return f"arn:{where}:schedule/{SCHEDULE_GROUP}/{self.schedule_name}"

    def settings(self, variables: dict[str, str] | None = None) -> WarmerConfig:
        """The function's settings, read by the layer's code from its variables (or ``variables``, as
        they will be); raises :class:`lambdawarmer.WarmerConfigError` when they are invalid."""
        return load_config(environ=self.variables if variables is None else variables)


def _layers(configuration: dict[str, Any]) -> list[str]:
    return [layer["Arn"] for layer in configuration.get("Layers", [])]


def _variables(configuration: dict[str, Any]) -> dict[str, str]:
    return dict(configuration.get("Environment", {}).get("Variables", {}))


def _role_name(configuration: dict[str, Any]) -> str:
    return str(configuration["Role"]).rsplit("/", 1)[-1]


def read_function(clients: Clients, ref: FunctionRef, tags: dict[str, str] | None = None) -> Deployed:
    """The function ``ref`` names, as it is now (``$LATEST``, and what its qualifier serves);
    ``tags``: its tags when they were just read (a fleet's discovery has them), not listed again."""
    configuration = clients.lambda_.get_function_configuration(FunctionName=ref.function)
    served = None
    weighted = {}
    if ref.qualifier and ref.qualifier != "$LATEST":
        served = clients.lambda_.get_function_configuration(
            FunctionName=ref.function, Qualifier=ref.qualifier
        )
    if ref.qualifier and ref.qualifier != "$LATEST" and not ref.qualifier.isdigit():  # an alias
        alias = clients.lambda_.get_alias(FunctionName=ref.function, Name=ref.qualifier)
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        for version, weight in sorted(weights.items()):
            weighted[version] = (
                float(weight),
                clients.lambda_.get_function_configuration(FunctionName=ref.function, Qualifier=version),
            )
    if tags is None:
        unqualified = parse_function_ref(str(configuration["FunctionArn"])).function
        tags = clients.lambda_.list_tags(Resource=unqualified)["Tags"]
    return Deployed(configuration, ref.qualifier, tags, served, weighted)


def find_schedule(clients: Clients, deployed: Deployed) -> dict[str, Any] | None:
    """The schedule that pings ``deployed``'s target, or None: ``enable``'s (its name, in its group),
    else one the CDK, Terraform or SAM made in Scheduler's ``default`` group (a ``lambdawarmer``
    name aimed at the target: the module's is enable's name, the construct's and template's are
    per stack)."""
    scheduler = clients.scheduler
    for group in (SCHEDULE_GROUP, IAC_SCHEDULE_GROUP):
        try:
            return dict(scheduler.get_schedule(Name=deployed.schedule_name, GroupName=group))
        except scheduler.exceptions.ResourceNotFoundException:
            continue
    pages = scheduler.get_paginator("list_schedules").paginate(
        GroupName=IAC_SCHEDULE_GROUP, NamePrefix=SCHEDULE_PREFIX
    )
    for page in pages:
        for summary in page["Schedules"]:
            if summary.get("Target", {}).get("Arn") == deployed.target_arn:
                return dict(scheduler.get_schedule(Name=summary["Name"], GroupName=IAC_SCHEDULE_GROUP))
    return None


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
    refs = home_refs(clients, names, qualifier)
    if not refs:
        raise UsageError("name a function, or --tag KEY=VALUE matching one")
    return refs


def home_refs(clients: Clients, names: list[str], qualifier: str | None = None) -> list[FunctionRef]:
    """:func:`parse_refs`, each one that names an account (a full or partial ARN) checked by
    :func:`check_home` before any call is made to it."""
    refs = parse_refs(names, qualifier)
    for ref in refs:
        if ref.account is not None:
            check_home(clients, ref)
    return refs


def check_home(clients: Clients, ref: FunctionRef) -> None:
    """Refuse an ARN (full, or partial ``ACCOUNT:function:NAME``) of another partition, region or
    account than the credentials' and region's: what is read and what is written must be the same
    function. A partial ARN names only the account, which must be the credentials'."""
    where = elsewhere(clients, ref)
    if where is None:
        return
    _, region, account = where
    raise UsageError(
        f"{ref} is in {where_said(where)}, but this run works in {where_said(home(clients))}: run it "
        f"with credentials for account {account} (--profile) and --region {region}"
    )


def home(clients: Clients) -> tuple[str, str, str]:
    """The partition, region and account the credentials and region work in."""
    return clients.partition, clients.region, clients.account


def elsewhere(clients: Clients, ref: FunctionRef) -> tuple[str, str, str] | None:
    """The partition, region and account of ``ref`` (a full or partial ARN) when they are not
    :func:`home`'s (None: they are, or ``ref`` is a bare name)."""
    if not ref.is_arn and ref.account is None:
        return None
    here = home(clients)
    if ref.is_arn:
        _, partition, _, region, account, *_ = ref.function.split(":")
    else:
        partition, region, account = here[0], here[1], str(ref.account)
    return None if (partition, region, account) == here else (partition, region, account)


def where_said(where: tuple[str, str, str]) -> str:
    """``aws/eu-west-1, account 123456789012``."""
    partition, region, account = where
    return f"{partition}/{region}, account {account}"


def wait_for_update(clients: Clients, function: str) -> str:
    """Wait until the function's last configuration update has finished; its status."""
    deadline = time.monotonic() + UPDATE_WAIT_S
    while True:
        status = clients.lambda_.get_function_configuration(FunctionName=function).get("LastUpdateStatus")
        if status not in ("InProgress", "Pending") or time.monotonic() > deadline:
            return str(status or "Successful")
        time.sleep(1)
