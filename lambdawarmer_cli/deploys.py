"""Whether an alias's deploys are pre-warmed: the CodeDeploy hook that warms its new versions, found.

A hook is a function named ``CodeDeployHook_...`` whose ``WARMER_HOOK_TARGET`` names this function
(template.yaml deploys one). The advice for an alias without one: the hook, or ``ping --like`` as a
pipeline step between ``publish-version`` and ``update-alias``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdawarmer.config import resolve_settings
from lambdawarmer.function_ref import FunctionRef
from lambdawarmer.settings import HOOK

if TYPE_CHECKING:
    from .clients import Clients
    from .deployed import Deployed

HOOK_PREFIX = "CodeDeployHook_"


def is_alias(clients: Clients, deployed: Deployed) -> bool:
    """Whether the qualifier pinged is an alias (a version or none is not)."""
    if not deployed.qualifier or deployed.qualifier.isdigit() or deployed.qualifier == "$LATEST":
        return False
    try:
        clients.lambda_.get_alias(FunctionName=deployed.name, Name=deployed.qualifier)
    except Exception:
        return False
    return True


def pre_warming_hooks(clients: Clients, deployed: Deployed) -> list[str]:
    """The hook functions that warm new versions of ``deployed`` for its alias."""
    hooks = []
    for page in clients.lambda_.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            if not function["FunctionName"].startswith(HOOK_PREFIX):
                continue
            variables = function.get("Environment", {}).get("Variables", {})
            hook = resolve_settings(environ=variables, scopes=(HOOK,))  # the hook's own reading
            if hook.errors:
                continue
            target, alias = hook.values["hook_target"], hook.values["hook_alias"]
            if (
                isinstance(target, FunctionRef)
                and target.name == deployed.name
                and alias == deployed.qualifier
            ):
                hooks.append(str(function["FunctionName"]))
    return sorted(hooks)


def how_to_pre_warm(deployed: Deployed) -> str:
    """What to do so that a deploy of the alias finds its new version warm."""
    return (
        f"deploys of {deployed.label} move traffic to a version with no environment (a cold start for "
        f"every request in flight): add the pre-traffic hook (template.yaml's PreTrafficWarmUp under "
        f"DeploymentPreference Hooks PreTraffic), or in the pipeline, between publish-version and "
        f"update-alias: lambdawarmer ping {deployed.name} --qualifier NEW_VERSION --like {deployed.qualifier}"
    )
