"""The grant that lets a target invoke itself (the fan-out), planned, removed and read.

Since 1.7 it is a statement in the function's own resource-based policy (on the target's alias or
version, or on the function for ``$LATEST``) naming the execution role the version served runs with:
no role is touched, so any number of functions may share one. The execution role keeps an inline
policy of this target's own only for the CloudWatch calls its metrics mode or ``auto`` makes.
Versions up to 1.6 granted the invoke in that inline policy (and up to 1.3 in one shared policy):
``status`` still reads those, ``enable`` rewrites this target's, ``disable`` removes it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .clients import error_code
from .iam import (
    POLICY_VERSION,
    SELF_INVOKE_ACTION,
    SELF_INVOKE_STATEMENT,
    cloudwatch_statements,
    self_invoke_permission,
    statements,
)
from .resources import inline_policy

if TYPE_CHECKING:
    from .clients import Clients
    from .deployed import Deployed
    from .plan import Plan


def granted_on(deployed: Deployed) -> str:
    """The function (or its alias or version) whose policy holds the grant: the one the fan-out
    invokes (Lambda takes no policy on ``$LATEST``: the function's covers it)."""
    if deployed.qualifier in (None, "$LATEST"):
        return deployed.name
    return f"{deployed.name}:{deployed.qualifier}"


def _policy_statements(clients: Clients, deployed: Deployed) -> list[dict[str, Any]]:
    """The statements of the target's own policy (none: no policy)."""
    try:
        policy = clients.lambda_.get_policy(FunctionName=granted_on(deployed))["Policy"]
    except Exception as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        return []
    return statements(policy)


def grant(clients: Clients, deployed: Deployed) -> dict[str, Any] | None:
    """This target's statement in the function's policy (None: none)."""
    return next(
        (s for s in _policy_statements(clients, deployed) if s.get("Sid") == SELF_INVOKE_STATEMENT), None
    )


def policy_grants_invoke(clients: Clients, deployed: Deployed, role_arn: str) -> bool:
    """Whether any statement of the target's policy lets ``role_arn`` invoke it: ``enable``'s, or one
    the CDK construct or the Terraform module made (CloudFormation names its statements itself)."""
    return any(grants_invoke(statement, role_arn) for statement in _policy_statements(clients, deployed))


def grants_invoke(statement: dict[str, Any] | None, role_arn: str) -> bool:
    """Whether a statement of the function's policy lets ``role_arn`` invoke it."""
    if statement is None or statement.get("Effect") != "Allow":
        return False
    actions, principal = statement.get("Action"), _principal(statement)
    return SELF_INVOKE_ACTION in _listed(actions) and role_arn in _listed(principal)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(item) for item in value or []]


def _principal(statement: dict[str, Any] | None) -> Any:
    """The role a statement names (Lambda answers ``{"AWS": ARN}``; a bare ARN is read alike);
    None: no statement."""
    if statement is None:
        return None
    principal = statement.get("Principal")
    return principal.get("AWS") if isinstance(principal, dict) else principal


def plan_grant(
    clients: Clients, deployed: Deployed, plan: Plan, *, metrics_namespace: str | None, auto: bool
) -> None:
    """Plan the grant (replaced when it names another role), and this target's inline policy on the
    execution roles: the CloudWatch statements it needs, or none (an older version's invoke goes)."""
    role_arn = str(deployed.served["Role"])
    current = grant(clients, deployed)
    on = granted_on(deployed)

    def put() -> None:
        if current is not None:
            clients.lambda_.remove_permission(FunctionName=on, StatementId=SELF_INVOKE_STATEMENT)
        clients.lambda_.add_permission(**self_invoke_permission(on, role_arn))

    plan.add(f"policy of {on}: statement {SELF_INVOKE_STATEMENT}", _principal(current), role_arn, put)
    cloudwatch = cloudwatch_statements(metrics_namespace=metrics_namespace, auto=auto)
    wanted = {"Version": POLICY_VERSION, "Statement": cloudwatch} if cloudwatch else None
    for role in dict.fromkeys([deployed.role_name, deployed.served_role_name]):
        _plan_policy(clients, plan, role, deployed.policy_name, wanted)


def plan_grant_removal(clients: Clients, deployed: Deployed, plan: Plan) -> None:
    """Plan the removal of the grant and of this target's inline policy (an older version's too)."""
    current = grant(clients, deployed)
    on = granted_on(deployed)
    plan.add(
        f"policy of {on}: statement {SELF_INVOKE_STATEMENT}",
        _principal(current),
        None,
        lambda: clients.lambda_.remove_permission(FunctionName=on, StatementId=SELF_INVOKE_STATEMENT),
    )
    for role in dict.fromkeys([deployed.role_name, deployed.served_role_name]):
        _plan_policy(clients, plan, role, deployed.policy_name, None)


def _plan_policy(clients: Clients, plan: Plan, role: str, name: str, wanted: dict[str, Any] | None) -> None:
    def apply() -> None:
        if wanted is None:
            clients.iam.delete_role_policy(RoleName=role, PolicyName=name)
        else:
            clients.iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(wanted))

    plan.add(f"role {role}: inline policy {name}", inline_policy(clients, role, name), wanted, apply)
