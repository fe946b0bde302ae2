"""What ``status`` checks of how warming is set up on a function: the layer, the wrapper, the settings,
the self-invoke permission, the schedule, the observability libraries, the deploys; each a Check."""

from __future__ import annotations

import json
from typing import Any

from lambdawarmer.config import WarmerConfig, resolve_settings
from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH
from lambdawarmer.protocol import AUTO, Ping, PingFormat, PingKind
from lambdawarmer.settings import SETTINGS, TOKEN_FIELD

from .clients import Clients
from .deployed import Deployed, find_schedule
from .deploys import how_to_pre_warm, is_alias, pre_warming_hooks
from .enable_plan import CHAINED_VARIABLE, TOKEN_VARIABLE, not_ready, unready_version, weighted_version
from .iam import SELF_INVOKE_STATEMENT, allows, role_statements
from .layers import is_ours, newest_layer_version
from .libraries import carried
from .names import IAC_SCHEDULE_GROUP, LAYER_NAME, SCHEDULE_GROUP
from .ping_targets import scheduled_ping
from .placement import tenant_isolated
from .self_invoke import granted_on, policy_grants_invoke

OK, WARN, FAIL = "OK", "WARN", "FAIL"
"""A check's verdicts."""


class Check:
    """One line of the table."""

    def __init__(self, name: str, verdict: str, detail: str) -> None:
        self.name = name
        self.verdict = verdict
        self.detail = detail

    def as_dict(self) -> dict[str, str]:
        return {"check": self.name, "status": self.verdict, "detail": self.detail}


def _where(deployed: Deployed) -> str:
    """Which configuration a check read: the version a qualifier serves, or the function's."""
    if deployed.served is deployed.configuration:
        return ""
    return f" (version {deployed.served_version}, which {deployed.qualifier} serves)"


def check_layer(clients: Clients, deployed: Deployed) -> Check:
    ours = [arn for arn in deployed.served_layers if is_ours(arn)]
    if not ours:
        return Check(
            "layer", FAIL, f"no {LAYER_NAME} layer attached{_where(deployed)}: run lambdawarmer enable"
        )
    attached = ours[0]
    newest = newest_layer_version(clients) or attached
    if attached != newest:
        return Check(
            "layer",
            WARN,
            f"{attached} attached{_where(deployed)}; {newest} is newer in this account: if you trust it, "
            f"lambdawarmer enable --layer-arn {newest}",
        )
    return Check("layer", OK, f"{attached}{_where(deployed)} (the newest)")


def check_wrapper(deployed: Deployed) -> Check:
    variables = deployed.served_variables
    value = variables.get(EXEC_WRAPPER_VARIABLE)
    if value == WRAPPER_PATH:
        chained = variables.get(CHAINED_VARIABLE)
        return Check("wrapper", OK, WRAPPER_PATH + (f", then {chained}" if chained else ""))
    if value:
        return Check(
            "wrapper",
            FAIL,
            f"{EXEC_WRAPPER_VARIABLE}={value}: set it to {WRAPPER_PATH} and {CHAINED_VARIABLE}={value}",
        )
    return Check("wrapper", FAIL, f"{EXEC_WRAPPER_VARIABLE} is not set: set it to {WRAPPER_PATH}")


def check_routing(deployed: Deployed) -> Check | None:
    """For an alias that routes a weight of its invocations to other versions: whether each has the
    layer and the wrapper (pings, token and fan-out included, reach it in that proportion); None for
    any other target."""
    if not deployed.weighted:
        return None
    token = deployed.served_variables.get(TOKEN_VARIABLE)
    problems = [
        unready_version(configuration, weighted_version(deployed, version), token)
        for version, (_, configuration) in deployed.weighted.items()
    ]
    failed = [problem for problem in problems if problem]
    if failed:
        return Check(
            "routing",
            FAIL,
            "; ".join(failed) + ": that share of the pings (the token included) reaches the handler; "
            "shift the weight to a version with the layer, then run lambdawarmer enable again",
        )
    shown = ", ".join(weighted_version(deployed, version).rstrip(",") for version in deployed.weighted)
    return Check("routing", OK, f"{shown}: each has the layer and the wrapper, and no other token")


def check_settings(deployed: Deployed) -> tuple[Check, dict[str, Any]]:
    """The settings, checked by the layer's own code; the values the other checks use (a setting
    that is not valid counts at its default there, the FAIL here saying so)."""
    resolution = resolve_settings(environ=deployed.served_variables)
    if resolution.errors:
        defaults = {name: setting.default for name, setting in SETTINGS.items()}
        valid = {name: resolution.values.get(name, defaults[name]) for name in SETTINGS}
        return Check("settings", FAIL, "; ".join(resolution.errors)), valid
    given = [SETTINGS[name].env for name, source in resolution.sources.items() if source != "default"]
    return Check("settings", OK, f"valid ({', '.join(given) or 'all defaults'})"), resolution.values


def check_self_invoke(clients: Clients, deployed: Deployed) -> Check:
    """The function's own policy (the grant ``enable`` makes), else the role's policies (an older
    version's inline policy, or the user's own; IAM's policy simulator would also weigh denies and
    boundaries)."""
    role = deployed.served_role_name
    if policy_grants_invoke(clients, deployed, str(deployed.served["Role"])):
        return Check(
            "self-invoke", OK, f"the function's policy lets role {role} invoke {granted_on(deployed)}"
        )
    statements = role_statements(clients, role)
    if any(allows(s, "lambda:InvokeFunction", deployed.target_arn) for s in statements):
        return Check("self-invoke", OK, f"role {role} may invoke {deployed.target_arn}")
    return Check(
        "self-invoke",
        FAIL,
        f"role {role} may not invoke {deployed.target_arn}: every fan-out invoke will be "
        f"denied; run lambdawarmer enable (statement {SELF_INVOKE_STATEMENT} of the policy of "
        f"{granted_on(deployed)})",
    )


def check_schedule(clients: Clients, deployed: Deployed, values: dict[str, Any]) -> tuple[Check, Ping | None]:
    """The schedule: there, enabled, aimed at the target (naming a tenant, for a function that
    isolates tenants), and its input a ping the function takes (read by the layer's own
    :meth:`PingFormat.explain`, with the function's field names and token); and that ping."""
    schedule = find_schedule(clients, deployed)
    if schedule is None:
        return Check(
            "schedule",
            FAIL,
            f"no schedule {SCHEDULE_GROUP}/{deployed.schedule_name}, nor one aimed at {deployed.target_arn} "
            f"in the {IAC_SCHEDULE_GROUP} group: run lambdawarmer enable",
        ), None
    target = schedule.get("Target", {})
    problems = _state_problems(deployed, schedule.get("State"))
    invoked, tenant, text = scheduled_ping(target)
    if invoked != deployed.target_arn:
        problems.append(f"it targets {invoked or target.get('Arn')}, not {deployed.target_arn}")
    if tenant_isolated(deployed.served) and not tenant:
        problems.append(
            "it names no tenant, and the function isolates tenants (Lambda refuses such an invoke): "
            "run lambdawarmer enable --tenants acme=3,globex=2"
        )
    try:
        event = json.loads(text or "null")
    except ValueError:
        event = None
    ping, refused = PingFormat.of(WarmerConfig(values)).explain(event)
    concurrency: int | str | None = None
    if refused:
        problems.append(f"its input is {refused}")
    if ping is not None and ping.kind != PingKind.SCHEDULED:
        problems.append(f"its input is a {ping.kind} ping, which never fans out: send a scheduled one")
    elif ping is not None:
        concurrency = AUTO if ping.auto else ping.total
        if ping.warning:
            problems.append(ping.warning)
    if problems:
        return Check("schedule", FAIL, "; ".join(problems)), ping
    token = deployed.served_variables.get(TOKEN_VARIABLE)
    shown = ", ".join(f"{name} {count}" for name, count in (ping.tenants or {}).items()) if ping else ""
    how_many = f"tenants {shown} (through {tenant})" if shown else f"concurrency {concurrency}"
    detail = f"{schedule.get('ScheduleExpression')}, {how_many}, to {deployed.target_arn}"
    if TOKEN_VARIABLE not in deployed.served_variables and isinstance(event, dict) and event.get(TOKEN_FIELD):
        return Check(
            "schedule",
            WARN,
            f"{detail}; its ping carries a token and the function has no {TOKEN_VARIABLE} (a deploy may "
            "have reset its variables): any invoke is taken for a ping and no tree round is sent: run "
            "lambdawarmer enable",
        ), ping
    return Check("schedule", OK, detail + (", token matches" if token else "")), ping


def _state_problems(deployed: Deployed, state: str | None) -> list[str]:
    """What is wrong with a schedule's state, given the version its qualifier serves."""
    unserved = not_ready(deployed)
    if unserved and state == "ENABLED":
        return [f"it pings {deployed.target_arn}, but {unserved}: the handler gets the pings"]
    if unserved:
        return [f"it is {state} until version {deployed.served_version} is replaced by one with the layer"]
    return [] if state == "ENABLED" else [f"it is {state}"]


def check_observability(deployed: Deployed, values: dict[str, Any]) -> Check:
    """The observability libraries the function carries, and whether their first request after a
    ping will be reported warm."""
    found = carried(deployed)
    if not found:
        return Check(
            "observability",
            OK,
            "no Powertools, Datadog, New Relic, Lumigo or Epsagon seen in its configuration",
        )
    shown = ", ".join(f"{library} ({where})" for library, where in found.items())
    if values.get("fix_cold_start_flags") is False:
        return Check(
            "observability",
            WARN,
            f"{shown}: {SETTINGS['fix_cold_start_flags'].env}=false, so they report the first request of "
            "each pinged environment as a cold start",
        )
    return Check("observability", OK, f"{shown}: told that a pinged environment's first request is warm")


def check_deploys(clients: Clients, deployed: Deployed) -> Check | None:
    """For an alias: whether its deploys are pre-warmed (None for a version or no qualifier)."""
    if not is_alias(clients, deployed):
        return None
    hooks = pre_warming_hooks(clients, deployed)
    if hooks:
        return Check(
            "deploys", OK, f"new versions are warmed before {deployed.qualifier} moves, by {', '.join(hooks)}"
        )
    return Check("deploys", WARN, how_to_pre_warm(deployed))
