"""``lambdawarmer enable``: the plan that attaches everything warming needs to a function.

For each target (a function, through its qualifier): the layer (added, or replacing an older
version of ours, every other layer kept in its order), the variables (every other kept; the exec
wrapper in effect is chained through ``WARMER_EXEC_WRAPPER``, never dropped; a random
``WARMER_TOKEN``), a tag recording which variables it set and a digest of each value, a statement
in the function's own policy letting its execution role invoke it (self_invoke.py: no role is
touched; an inline policy of this target's own on the role only for the CloudWatch permission its
own metrics settings or auto concurrency need), and an EventBridge
Scheduler schedule, in its own group, with a role that may invoke that target only and that only
that schedule may assume. The schedule's input is the scheduled ping built from the settings of the
version the target serves (its field names, its token).

A target whose qualifier serves a version without the layer (the alias's version, or one its
routing configuration gives a weight of its invocations) is never pinged: its ``$LATEST`` is
changed, the schedule is created disabled, and the plan says what to publish and shift.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from lambdawarmer.config import WarmerConfig, WarmerConfigError
from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH
from lambdawarmer.protocol import AUTO, PingFormat
from lambdawarmer.settings import METRICS_MODES, SETTINGS

from .clients import error_code
from .exit_status import UsageError
from .layers import is_ours, wanted_layers
from .legacy import plan_legacy_removal
from .names import AUTOPILOT_VARIABLE, RECORD_TAG, autopilot_mark
from .placement import at_or_below_provisioned, provisioned_level, refusal
from .placement import note as placement_note
from .plan import Plan
from .record import Record
from .resources import ChangeError, plan_configuration
from .schedule_plan import plan_schedule
from .schedules import DEFAULT_SCHEDULE
from .self_invoke import plan_grant

if TYPE_CHECKING:
    from .clients import Clients
    from .deployed import Deployed

CHAINED_VARIABLE = SETTINGS["exec_wrapper"].env
TOKEN_VARIABLE = SETTINGS["token"].env
AUTO_MAX_VARIABLE = SETTINGS["auto_max"].env
MAX_LAYERS = 5
MAX_ENVIRONMENT_BYTES = 4096


class Options:
    """What ``enable`` was asked for (``layer_arn`` None: keep the version of ours attached). The
    autopilot's own: ``mark`` (its mark of ownership set with the warming) and ``auto_max`` (the most
    ``auto`` may choose, set as ``WARMER_AUTO_MAX``) and ``metrics_namespace`` (the one namespace it
    grants cloudwatch:PutMetricData into, in ``put_metric_data`` mode only, whatever the function's
    own variables say; set as ``WARMER_METRICS_NAMESPACE`` where the function sets none)."""

    def __init__(
        self,
        *,
        concurrency: int | str,
        schedule: str = DEFAULT_SCHEDULE,
        layer_arn: str | None,
        metrics_mode: str | None = None,
        token: bool = True,
        tenants: dict[str, int] | None = None,
        mark: bool = False,
        auto_max: int | None = None,
        metrics_namespace: str | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.metrics_namespace = metrics_namespace
        self.mark = mark
        self.auto_max = auto_max
        self.tenants = tenants
        self.schedule = schedule
        self.layer_arn = layer_arn
        self.metrics_mode = metrics_mode
        self.token = token


def wanted_variables(deployed: Deployed, options: Options) -> tuple[dict[str, str], Record]:
    """The variables after enable, and the record of those enable set (for disable)."""
    variables = deployed.variables
    record = deployed.record
    kept = {
        name: value
        for name, value in record.digests.items()
        if name in variables and (value is None or record.set_it(name, variables[name]))
    }
    set_now: list[str] = []

    def own(name: str, value: str) -> None:
        if variables.get(name) != value:
            variables[name] = value
            set_now.append(name)

    wrapper = variables.get(EXEC_WRAPPER_VARIABLE)
    if wrapper != WRAPPER_PATH:
        if wrapper:
            own(CHAINED_VARIABLE, wrapper)  # the wrapper in effect runs too, chained behind ours
        own(EXEC_WRAPPER_VARIABLE, WRAPPER_PATH)
    if options.metrics_mode:
        own(SETTINGS["send_metric"].env, "true")
        if options.metrics_mode != SETTINGS["metrics_mode"].default:
            own(SETTINGS["metrics_mode"].env, options.metrics_mode)
    namespace = SETTINGS["metrics_namespace"]
    theirs = variables.get(namespace.env)
    if (
        options.metrics_mode
        and options.metrics_namespace
        and (theirs is None or record.set_it(namespace.env, theirs))
        and (theirs or namespace.default) != options.metrics_namespace
    ):
        own(namespace.env, options.metrics_namespace)
    if options.token and TOKEN_VARIABLE not in variables:
        own(TOKEN_VARIABLE, secrets.token_urlsafe(24))
    if options.mark:
        own(AUTOPILOT_VARIABLE, autopilot_mark(deployed.arn))
    if options.auto_max is not None:
        own(AUTO_MAX_VARIABLE, str(options.auto_max))
    size = sum(len(name) + len(value) for name, value in variables.items())
    if size > MAX_ENVIRONMENT_BYTES:
        raise ChangeError(
            f"the function's variables would take {size} bytes, over Lambda's {MAX_ENVIRONMENT_BYTES}: "
            "remove some first"
        )
    fresh = Record.of(variables, set_now)
    return variables, Record({**kept, **fresh.digests})


def _settings(deployed: Deployed, variables: dict[str, str]) -> WarmerConfig:
    """The settings ``variables`` give the layer; raises :class:`ChangeError` when it would refuse them."""
    try:
        return deployed.settings(variables)
    except WarmerConfigError as error:
        raise ChangeError(
            f"its WARMER_* settings are invalid, so the layer would fail its init: {error}; fix them first "
            "(lambdawarmer config checks them)"
        ) from None


def not_ready(deployed: Deployed) -> str | None:
    """Why a version the target's qualifier serves cannot take a ping (None: it can, or the target
    is ``$LATEST``, which this plan sets up): the alias's version, or one it routes a weight of its
    invocations to (pings go there in that proportion, token and fan-out included)."""
    if deployed.served is deployed.configuration:
        return None
    token = deployed.served_variables.get(TOKEN_VARIABLE)
    why = [
        unready_version(
            deployed.served, f"version {deployed.served_version}, which {deployed.qualifier} serves,", token
        )
    ]
    why += [
        unready_version(configuration, weighted_version(deployed, version), token)
        for version, (_, configuration) in deployed.weighted.items()
    ]
    return "; ".join(reason for reason in why if reason) or None


def weighted_version(deployed: Deployed, version: str) -> str:
    """``version N, which receives 50% of live's invocations,``: a version the alias routes to."""
    share = f"{round(deployed.weighted[version][0] * 100, 4):g}%"
    return f"version {version}, which receives {share} of {deployed.qualifier}'s invocations,"


def unready_version(configuration: dict[str, Any], version: str, token: str | None) -> str | None:
    """Why the version ``configuration`` describes cannot take a ping carrying ``token`` (the served
    version's ``WARMER_TOKEN``) (None: it can). A version holding another token would hand the ping,
    token included, to its handler as an untrusted event (one holding none takes any ping)."""
    if not any(is_ours(layer["Arn"]) for layer in configuration.get("Layers", [])):
        return f"{version} does not have the lambdawarmer layer"
    variables = configuration.get("Environment", {}).get("Variables", {})
    if variables.get(EXEC_WRAPPER_VARIABLE) != WRAPPER_PATH:
        return f"{version} does not set {EXEC_WRAPPER_VARIABLE}={WRAPPER_PATH}"
    theirs = variables.get(TOKEN_VARIABLE)
    if None not in (theirs, token) and theirs != token:
        return (
            f"{version} holds another {TOKEN_VARIABLE} than the version served (a ping would reach its "
            "handler, token included)"
        )
    return None


def plan_enable(clients: Clients, deployed: Deployed, options: Options) -> Plan:
    """Every change enable makes to ``deployed``; raises :class:`ChangeError` when it cannot."""
    if deployed.configuration.get("PackageType") == "Image":
        raise ChangeError(
            "a container image takes no layers: copy the layer into the image and make the wrapper its "
            "ENTRYPOINT (see the README's container images)"
        )
    refused = refusal(deployed, options.tenants)
    if refused:
        raise ChangeError(refused)
    ours = options.layer_arn or next((arn for arn in deployed.layers if is_ours(arn)), None)
    if ours is None:
        raise UsageError(
            "it has no lambdawarmer layer: name the one to attach with --publish ZIP or --layer-arn ARN"
        )
    layers = wanted_layers(deployed.layers, ours)
    if len(layers) > MAX_LAYERS:
        raise ChangeError(
            f"the function already has {len(deployed.layers)} layers: with lambdawarmer's it would have "
            f"{len(layers)}, over Lambda's limit of {MAX_LAYERS}; merge or remove one first"
        )
    variables, record = wanted_variables(deployed, options)
    settings = _settings(deployed, variables)
    plan = Plan(deployed.label)
    plan_configuration(clients, deployed, layers, variables, plan)
    plan.add(
        f"tag {RECORD_TAG}",
        deployed.tags.get(RECORD_TAG),
        str(record),
        lambda: clients.lambda_.tag_resource(Resource=deployed.arn, Tags={RECORD_TAG: str(record)}),
    )
    plan_grant(
        clients,
        deployed,
        plan,
        metrics_namespace=_granted_namespace(settings, options),
        auto=options.concurrency == AUTO,
    )
    plan.not_ready = not_ready(deployed)
    as_latest = plan.not_ready or deployed.served is deployed.configuration
    served_settings = settings if as_latest else _settings(deployed, deployed.served_variables)
    event = json.dumps(
        PingFormat.of(served_settings).scheduled_ping(options.concurrency, options.tenants),
        separators=(",", ":"),
    )
    plan_schedule(
        clients,
        deployed,
        event,
        plan,
        expression=options.schedule,
        tenants=options.tenants,
        mark=autopilot_mark(deployed.arn) if options.mark else None,
    )
    plan_legacy_removal(clients, deployed, plan, disabling=False)
    if said := placement_note(deployed):
        plan.notes.append(said)
    if said := _provisioned_note(clients, deployed, options.concurrency):
        plan.notes.append(said)
    if plan.not_ready:
        plan.notes.append(
            f"{plan.not_ready}: it is not pinged, and its schedule stays DISABLED. Configuration changes "
            f"reach $LATEST only: publish a version (aws lambda publish-version --function-name "
            f"{deployed.name}), point {deployed.qualifier} at it (aws lambda update-alias --function-name "
            f"{deployed.name} --name {deployed.qualifier} --function-version <the new version>"
            + (" --routing-config AdditionalVersionWeights={}" if deployed.weighted else "")
            + "), then run lambdawarmer enable again"
        )
    return plan


def _granted_namespace(settings: WarmerConfig, options: Options) -> str | None:
    """The namespace the execution role is granted cloudwatch:PutMetricData into (None: none): the
    settings' in ``put_metric_data`` mode; the autopilot's (``options.metrics_namespace``) only in
    its own ``put_metric_data`` mode."""
    if options.metrics_namespace is not None:
        return options.metrics_namespace if options.metrics_mode == METRICS_MODES[1] else None
    metrics = settings.send_metric and settings.metrics_mode == METRICS_MODES[1]
    return settings.metrics_namespace if metrics else None


def _provisioned_note(clients: Clients, deployed: Deployed, concurrency: int | str) -> str | None:
    """What the Provisioned Concurrency on the qualifier means for ``concurrency`` (None: nothing)."""
    try:
        provisioned = provisioned_level(clients, deployed)
    except Exception as error:  # status says it cannot read it; enable goes on
        return f"the Provisioned Concurrency on {deployed.qualifier} cannot be read ({error_code(error)})"
    if not provisioned:
        return None
    if isinstance(concurrency, int) and concurrency <= provisioned:
        return at_or_below_provisioned(deployed, provisioned, concurrency)
    return f"{provisioned} provisioned on {deployed.qualifier}: auto counts only what lies above them"
