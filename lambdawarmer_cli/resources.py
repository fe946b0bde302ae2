"""What lambdawarmer manages beside a function, read as it is now; and the one change to its
configuration (layers and variables together), shared by ``enable`` and ``disable``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lambdawarmer.settings import TOKEN_FIELD, mask

from .clients import error_code
from .deployed import wait_for_update
from .names import SCHEDULE_GROUP
from .plan import ConfigurationChanged, Plan

if TYPE_CHECKING:
    from .clients import Clients
    from .deployed import Deployed


class ChangeError(RuntimeError):
    """A function cannot be changed as asked (the message says why and what to do)."""


CHANGED_CODES = ("PreconditionFailedException", "ResourceConflictException")


def inline_policy(clients: Clients, role: str, name: str) -> dict[str, Any] | None:
    """The role's inline policy ``name``, or None when there is none."""
    try:
        document = clients.iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    except clients.iam.exceptions.NoSuchEntityException:
        return None
    return json.loads(document) if isinstance(document, str) else dict(document)


def role_arn(clients: Clients, role: str) -> str | None:
    """The role's ARN, or None when there is no such role."""
    try:
        return str(clients.iam.get_role(RoleName=role)["Role"]["Arn"])
    except clients.iam.exceptions.NoSuchEntityException:
        return None


def delete_role(clients: Clients, role: str) -> None:
    """Delete a role of ours, its inline policies first (IAM refuses a role that has any)."""
    for policy in clients.iam.list_role_policies(RoleName=role)["PolicyNames"]:
        clients.iam.delete_role_policy(RoleName=role, PolicyName=policy)
    clients.iam.delete_role(RoleName=role)


def schedule(clients: Clients, name: str) -> dict[str, Any] | None:
    """The schedule ``name`` in lambdawarmer's group, or None."""
    try:
        return dict(clients.scheduler.get_schedule(Name=name, GroupName=SCHEDULE_GROUP))
    except clients.scheduler.exceptions.ResourceNotFoundException:
        return None


def masked_input(text: Any) -> Any:
    """A schedule's input as it may be shown: its token hidden."""
    if not isinstance(text, str):
        return text
    try:
        event = json.loads(text)
    except ValueError:
        return text
    if isinstance(event, dict) and TOKEN_FIELD in event:
        event[TOKEN_FIELD] = mask(event[TOKEN_FIELD])
    if isinstance(event, dict) and isinstance(event.get("Payload"), str):  # the universal Invoke target's
        event["Payload"] = masked_input(event["Payload"])
    return json.dumps(event, separators=(",", ":"))


def plan_configuration(
    clients: Clients, deployed: Deployed, layers: list[str], variables: dict[str, str], plan: Plan
) -> None:
    """The layers and the variables: shown apart, applied in one update, waited for. The update
    carries the RevisionId read, so a change made meanwhile (a pipeline's) is never undone."""

    def update() -> None:
        revision = {"RevisionId": deployed.revision} if deployed.revision else {}
        try:
            clients.lambda_.update_function_configuration(
                FunctionName=deployed.name, Layers=layers, Environment={"Variables": variables}, **revision
            )
        except Exception as error:
            if error_code(error) in CHANGED_CODES:
                raise ConfigurationChanged(error_code(error)) from error
            raise
        status = wait_for_update(clients, deployed.name)
        if status != "Successful":
            raise ChangeError(f"the configuration update ended {status}")

    plan.add("layers", deployed.layers, layers, update)
    # When the layers change too, their update carries the variables.
    plan.add("variables", deployed.variables, variables, update if layers == deployed.layers else _nothing)


def _nothing() -> None:
    """The variables go in the same update as the layers."""
