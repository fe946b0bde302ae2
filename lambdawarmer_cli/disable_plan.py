"""``lambdawarmer disable``: the plan that removes what ``enable`` added for a target, and nothing else.

- The layer goes (every other layer stays in its order).
- The wrapper: when ``AWS_LAMBDA_EXEC_WRAPPER`` is still ours, the wrapper chained behind it
  (``WARMER_EXEC_WRAPPER``, whoever set it) becomes the function's own again, or the variable goes;
  when someone set another wrapper since, theirs stays.
- Every other variable goes only when ``enable`` set it and it still has the value ``enable`` set
  (the tag's digest says so); one changed since, or recorded without a digest, stays and is named.
  Only lambdawarmer's own names are ever candidates, and no removed value is printed.
- The tag, this target's self-invoke grant (its statement in the function's policy, and its inline
  policy on the execution role, an older version's too), its schedule and the schedule's role go;
  the schedule group stays (other functions use it).
- The schedule goes first: when its deletion fails (or is denied), nothing else is removed and the
  message says the schedule still pings and how to finish.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH

from .deployed import find_schedule
from .enable_plan import CHAINED_VARIABLE
from .layers import is_ours
from .legacy import plan_legacy_removal
from .names import IAC_SCHEDULE_GROUP, RECORD_TAG, SCHEDULE_GROUP
from .plan import Plan
from .resources import ChangeError, delete_role, masked_input, plan_configuration, role_arn, schedule
from .self_invoke import plan_grant_removal

if TYPE_CHECKING:
    from .clients import Clients
    from .deployed import Deployed


def variables_after_disable(deployed: Deployed) -> tuple[dict[str, str], list[str]]:
    """The variables once ``enable``'s are gone, and the recorded ones kept because they changed."""
    variables = deployed.variables
    record = deployed.record
    if variables.get(EXEC_WRAPPER_VARIABLE) == WRAPPER_PATH:
        chained = variables.pop(CHAINED_VARIABLE, None)
        if chained:
            variables[EXEC_WRAPPER_VARIABLE] = chained  # theirs is the function's own again
        else:
            del variables[EXEC_WRAPPER_VARIABLE]
    kept = []
    for name in record.digests:
        if name not in variables or name == EXEC_WRAPPER_VARIABLE:
            continue
        if record.set_it(name, variables[name]):
            del variables[name]
        else:
            kept.append(name)
    return variables, kept


def plan_disable(clients: Clients, deployed: Deployed) -> Plan:
    """Every change disable makes: what enable added for this target goes, nothing else. The pings
    stop first (the schedule, then its role, and what an older version left): should that fail,
    nothing else is removed, so a ping still meets the layer, never the handler alone."""
    plan = Plan(deployed.label)
    current = schedule(clients, deployed.schedule_name)
    theirs = None if current is not None else find_schedule(clients, deployed)
    if theirs is not None:
        raise ChangeError(
            f"schedule {theirs.get('GroupName', IAC_SCHEDULE_GROUP)}/{theirs.get('Name')} pings "
            f"{deployed.target_arn}, and enable did not make it (a CDK, Terraform or SAM stack did): "
            "remove the warming there; removing the layer here would leave its pings, token included, "
            "to your handler. Nothing was changed"
        )
    plan.add(
        f"schedule {SCHEDULE_GROUP}/{deployed.schedule_name}",
        None if current is None else masked_input(current["Target"].get("Input")),
        None,
        lambda: clients.scheduler.delete_schedule(Name=deployed.schedule_name, GroupName=SCHEDULE_GROUP),
        if_failed=(
            f"The schedule still pings {deployed.target_arn}, so nothing else was removed: the layer, "
            "its variables and the permissions stay, and each ping is still answered by lambdawarmer, "
            "not by your handler. Allow scheduler:DeleteSchedule (or delete the schedule "
            f"yourself: aws scheduler delete-schedule --group-name {SCHEDULE_GROUP} --name "
            f"{deployed.schedule_name})"
        ),
    )
    role = deployed.scheduler_role_name
    plan.add(f"scheduler role {role}", role_arn(clients, role), None, lambda: delete_role(clients, role))
    plan_legacy_removal(clients, deployed, plan, disabling=True)
    layers = [arn for arn in deployed.layers if not is_ours(arn)]
    variables, kept = variables_after_disable(deployed)
    plan_configuration(clients, deployed, layers, variables, plan)
    if kept:
        plan.notes.append(
            f"{deployed.label}: kept {', '.join(kept)}: changed since enable set it (or set by a "
            "lambdawarmer older than 1.4, which kept no digest); remove it yourself if it is not yours"
        )
    plan.add(
        f"tag {RECORD_TAG}",
        deployed.tags.get(RECORD_TAG),
        None,
        lambda: clients.lambda_.untag_resource(Resource=deployed.arn, TagKeys=[RECORD_TAG]),
    )
    plan_grant_removal(clients, deployed, plan)
    return plan
