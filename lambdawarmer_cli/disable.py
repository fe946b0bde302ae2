"""``lambdawarmer disable``: the plan that removes exactly what ``enable`` added, and nothing else.

A chained wrapper becomes the function's own ``AWS_LAMBDA_EXEC_WRAPPER`` again; the schedule group
stays (other functions may use it).
"""

from __future__ import annotations

from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH

from .clients import Clients
from .deployed import Deployed
from .enable import CHAINED_VARIABLE
from .layers import is_ours
from .names import POLICY_NAME, RECORD_TAG, SCHEDULE_GROUP
from .plan import Plan
from .resources import inline_policy, masked_input, plan_configuration, role_arn, schedule


def plan_disable(clients: Clients, deployed: Deployed) -> Plan:
    """Every change disable makes: exactly what enable added goes, nothing else."""
    plan = Plan(deployed.label)
    layers = [arn for arn in deployed.layers if not is_ours(arn)]
    variables = deployed.variables
    owned = deployed.added_variables
    if CHAINED_VARIABLE in owned and CHAINED_VARIABLE in variables:
        variables[EXEC_WRAPPER_VARIABLE] = variables.pop(
            CHAINED_VARIABLE
        )  # theirs is the function's own again
        owned = [name for name in owned if name not in (CHAINED_VARIABLE, EXEC_WRAPPER_VARIABLE)]
    if not owned and variables.get(EXEC_WRAPPER_VARIABLE) == WRAPPER_PATH:
        owned = [EXEC_WRAPPER_VARIABLE]  # enabled by hand: only the wrapper is surely ours
    for name in owned:
        variables.pop(name, None)
    plan_configuration(clients, deployed, layers, variables, plan)
    plan.add(
        f"tag {RECORD_TAG}",
        deployed.tags.get(RECORD_TAG),
        None,
        lambda: clients.lambda_.untag_resource(Resource=deployed.arn, TagKeys=[RECORD_TAG]),
    )
    plan.add(
        f"role {deployed.role_name}: inline policy {POLICY_NAME}",
        inline_policy(clients, deployed.role_name, POLICY_NAME),
        None,
        lambda: clients.iam.delete_role_policy(RoleName=deployed.role_name, PolicyName=POLICY_NAME),
    )
    current = schedule(clients, deployed.schedule_name)
    plan.add(
        f"schedule {SCHEDULE_GROUP}/{deployed.schedule_name}",
        None if current is None else masked_input(current["Target"].get("Input")),
        None,
        lambda: clients.scheduler.delete_schedule(Name=deployed.schedule_name, GroupName=SCHEDULE_GROUP),
    )
    role = deployed.scheduler_role_name
    plan.add(f"scheduler role {role}", role_arn(clients, role), None, lambda: _delete_role(clients, role))
    return plan


def _delete_role(clients: Clients, role: str) -> None:
    for policy in clients.iam.list_role_policies(RoleName=role)["PolicyNames"]:
        clients.iam.delete_role_policy(RoleName=role, PolicyName=policy)
    clients.iam.delete_role(RoleName=role)
