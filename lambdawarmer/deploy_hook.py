"""The CodeDeploy pre-traffic hook: warm a new version to what its alias needs, then report.

Deployed as its own function, named ``CodeDeployHook_...`` (the default CodeDeploy service role may
invoke those), handler ``lambdawarmer.deploy_hook.handler`` from the layer. CodeDeploy invokes it
with ``{"DeploymentId": ..., "LifecycleEventHookExecutionId": ...}`` before it moves the alias.
The version comes as SAM's own examples pass it, in a variable (``WARMER_HOOK_TARGET``: the new
version's ARN, ``!Ref Function.Version``). N is what the alias (``WARMER_HOOK_ALIAS``) needs now
(prewarm.py), at least ``WARMER_HOOK_CONCURRENCY``; the ping is the function's own scheduled ping
(its ``WARMER_FLAG``, ``WARMER_CONCURRENCY``, ``WARMER_TOKEN``, set on the hook too). Then
``PutLifecycleEventHookExecutionStatus``: ``Succeeded`` when N of N are warm; when fewer, ``Succeeded``
with the shortfall logged (warming never blocks a deploy), or ``Failed`` with
``WARMER_HOOK_ON_SHORTFALL=fail``. A hook that cannot report logs why and fails its invocation;
CodeDeploy then waits for the status until the hook's hour runs out, and fails the deployment.
"""

from __future__ import annotations

import json
import logging
import os
import time

from .aws import CODEDEPLOY, LAMBDA, AwsClient, LazyClient, codedeploy_call, error_reason
from .config import load_config, resolve_settings
from .fanout import SelfInvoke
from .logs import apply_level, bounded, log_fields, logger
from .prewarm import environments_needed
from .protocol import NotAReport, PingFormat
from .settings import HOOK, SETTINGS
from .timing import time_left_ms

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from .function_ref import FunctionRef
    from .protocol import Report

REPORT_RESERVE_MS = 3_000
"""Time kept for reporting the status after the warm-up."""
CALL_TIMEOUT_MS = 5_000
SUCCEEDED, FAILED = "Succeeded", "Failed"
SHORTFALL = SETTINGS["hook_on_shortfall"]


class HookError(ValueError):
    """The hook cannot run as configured or invoked (the message names what and what is allowed)."""


class HookSettings:
    """The hook's own settings (the ``hook`` scope of config.SETTINGS), checked."""

    __slots__ = ("alias", "fail_on_shortfall", "scheduled", "target")

    def __init__(self, environ: Mapping[str, str]) -> None:
        resolution = resolve_settings(environ=environ, scopes=(HOOK,))
        values = resolution.values
        if resolution.errors:
            raise HookError("; ".join(resolution.errors))
        self.target: FunctionRef = values["hook_target"]  # type: ignore[assignment]
        self.alias = str(values["hook_alias"])
        self.scheduled = int(values["hook_concurrency"])  # type: ignore[call-overload]
        self.fail_on_shortfall = values["hook_on_shortfall"] == "fail"


def hook_ids(event: object) -> tuple[str, str]:
    """The deployment's and the hook execution's ids from CodeDeploy's event."""
    ids = event if isinstance(event, dict) else {}
    deployment, execution = ids.get("DeploymentId"), ids.get("LifecycleEventHookExecutionId")
    if not isinstance(deployment, str) or not deployment or not isinstance(execution, str) or not execution:
        raise HookError(
            "the event is not a CodeDeploy lifecycle hook's: it needs DeploymentId and "
            f"LifecycleEventHookExecutionId, got {bounded(event)}"
        )
    return deployment, execution


def warm(client: AwsClient, target: FunctionRef, event: dict[str, object], timeout_s: float) -> Report:
    """Send ``target`` its scheduled ping and read the report (raises with the reason when there is none)."""
    try:
        return SelfInvoke(client, target).report(json.dumps(event).encode(), timeout_s)
    except NotAReport as error:
        raise HookError(f"{error} (is the layer attached to {target.name}?)") from None


def run(event: object, context: Any, environ: Mapping[str, str]) -> dict[str, object]:
    """Warm, decide, report; what was done (raises when the status cannot be reported)."""
    deployment, execution = hook_ids(event)
    started = time.monotonic()
    deadline = started + max(0, time_left_ms(context, 60_000) - REPORT_RESERVE_MS) / 1000
    outcome: dict[str, object] = {"deployment": deployment}
    try:
        config = load_config(environ=environ)
        apply_level(config.log_level)
        settings = HookSettings(environ)
        outcome["target"] = str(settings.target)
        need = environments_needed(config, settings.target.name, settings.alias, settings.scheduled, deadline)
        outcome["needed"], outcome["why"] = need.instances, need.describe(settings.alias)
        client = LazyClient(LAMBDA, max(1_000, int((deadline - time.monotonic()) * 1000)), 1).get()
        report = warm(
            client,
            settings.target,
            PingFormat.of(config).scheduled_ping(need.instances),
            deadline - time.monotonic(),
        )
        outcome["warmed"] = report.instances_warmed
        short = report.instances_warmed < need.instances
        status = FAILED if short and settings.fail_on_shortfall else SUCCEEDED
        if short:
            logger.warning(
                "lambdawarmer hook: %s of %s environments of %s warm%s",
                report.instances_warmed,
                need.instances,
                settings.target,
                f"; reporting Failed ({SHORTFALL.env}=fail)" if status == FAILED else "; the deploy goes on",
            )
    except Exception as error:
        outcome["error"] = str(error) if isinstance(error, HookError) else error_reason(error)
        # The settings may be what failed: the shortfall mode is read as given.
        fail = environ.get(SHORTFALL.env, "").strip().lower() == "fail"
        status = FAILED if fail else SUCCEEDED
        logger.error("lambdawarmer hook: warming failed: %s; reporting %s", outcome["error"], status)
    outcome["status"] = status
    outcome["warm_up_ms"] = round((time.monotonic() - started) * 1000)
    try:
        report_status(deployment, execution, status)
    except Exception as error:
        logger.error(
            "lambdawarmer hook: could not report %s for deployment %s: %s. CodeDeploy waits for the status "
            "until the hook's hour runs out, then fails the deployment",
            status,
            deployment,
            error_reason(error),
        )
        raise
    level = logging.ERROR if status == FAILED else logging.INFO
    log_fields(level, "lambdawarmer hook: done", {"action": "deploy hook", **outcome})
    return outcome


def report_status(deployment: str, execution: str, status: str) -> None:
    """Tell CodeDeploy the hook's verdict (``codedeploy:PutLifecycleEventHookExecutionStatus``)."""
    client = LazyClient(CODEDEPLOY, CALL_TIMEOUT_MS, 1).get()
    codedeploy_call(
        client,
        "PutLifecycleEventHookExecutionStatus",
        {"deploymentId": deployment, "lifecycleEventHookExecutionId": execution, "status": status},
    )


def handler(event: object, context: Any) -> dict[str, object]:
    """The hook's Lambda handler."""
    return run(event, context, os.environ)
