"""The autopilot: a Lambda function that keeps every function tagged ``lambdawarmer:concurrency`` warm.

Deployed in each account and region by ``fleet/autopilot.yaml``, it runs on EventBridge's "Tag
Change on Resource" events for Lambda functions and on a daily sweep (a scheduled event) that
reconciles every function carrying :data:`CONCURRENCY_TAG` or :data:`AUTOPILOT_TAG`, found through
the tagging API as ``fleet`` finds them, at most ``DEFAULT_WORKERS`` at once. Each function goes
through ``enable``'s and ``disable``'s plans, applied by :func:`~lambdawarmer_cli.adoption.adopt`,
as ``fleet enable``/``disable`` apply them:

- ``lambdawarmer:concurrency=N`` (or ``auto``): enabled with N (a new N: the schedule's ping
  changed), N at most ``MAX_CONCURRENCY`` (above it: refused, nothing changed; ``auto`` is held
  to it through ``WARMER_AUTO_MAX``);
- the tag removed, or ``0``: disabled, but only a function the autopilot owns;
- ``lambdawarmer:opt-out=true``, or enabled by someone else (``enable``, the CDK construct...):
  left alone.

It owns a function it enabled: the proof is its mark
(:data:`~lambdawarmer_cli.names.AUTOPILOT_VARIABLE`) in the function's configuration, set in the
update that sets up the warming, or the same mark in its schedule's description (a deploy that
resets the function's variables leaves it: the sweep then enables the function again, or disables
it when its tag is gone). :data:`AUTOPILOT_TAG` only records what it did, for people: anyone
allowed lambda:TagResource could forge it. An event's function outside the autopilot's own account
and region is refused, as is its own function.

Settings (the template's parameters): ``LAYER_ARN`` and ``LAYER_SHA256`` (the layer version
attached, its content checked as ``enable --layer-arn --layer-sha256`` checks it; no ``LAYER_ARN``:
each function keeps the version of ours it has), ``SCHEDULE``, ``METRICS_MODE`` (``emf`` or
``put_metric_data``: the ColdStart and round metrics the fleet's dashboard shows, as ``enable
--metrics-mode``; ``none``: none), ``METRICS_NAMESPACE`` (set on a function that sets none; the only
namespace granted cloudwatch:PutMetricData), ``ALLOW_AUTO`` (``true``: ``auto`` is taken, else
refused), ``MAX_CONCURRENCY`` (the most N a tag may ask for),
``DRY_RUN`` (``true``: plan and log only). Each function considered is one JSON line in the log.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import threading
from typing import TYPE_CHECKING, Any, TextIO

from lambdawarmer.config import WarmerConfigError
from lambdawarmer.function_ref import parse_function_ref
from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH
from lambdawarmer.protocol import AUTO
from lambdawarmer.settings import CONCURRENCY_LIMIT, METRICS_MODES, SETTINGS

from .. import resources
from ..adoption import adopt
from ..clients import Clients, error_reason, is_aws_error
from ..deployed import elsewhere, home, read_function, where_said
from ..disable_plan import plan_disable
from ..enable_plan import AUTO_MAX_VARIABLE, Options, plan_enable
from ..exit_status import OK, UsageError
from ..layers import LayerError, Trusted, check_layer_arn, code_sha256
from ..names import AUTOPILOT_VARIABLE, RECORD_TAG, autopilot_mark, schedule_description
from ..pinging import concurrency_argument
from ..resources import ChangeError
from ..schedules import DEFAULT_SCHEDULE, ScheduleError
from ..schedules import check as check_schedule
from .discovery import Selector, discover
from .parallel import DEFAULT_WORKERS, in_parallel

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from lambdawarmer.function_ref import FunctionRef

    from ..deployed import Deployed
    from ..plan import Plan

CONCURRENCY_TAG = "lambdawarmer:concurrency"
"""N (or ``auto``) the function is warmed with; absent or ``0``: not warmed."""
OPT_OUT_TAG = "lambdawarmer:opt-out"
"""``true``: the autopilot never changes the function."""
AUTOPILOT_TAG = "lambdawarmer:autopilot"
"""Set by the autopilot on a function it enabled (``enabled concurrency=N``): what it did, for people.
Never trusted (a tag is anyone's who may tag the function): :func:`owns` says which are its own."""
DEFAULT_MAX_CONCURRENCY = 10
"""The most N a tag may ask for, unless the template's MaxConcurrency says otherwise."""
ENABLE, DISABLE, NONE = "enable", "disable", "none"
NAMESPACE_VARIABLE = SETTINGS["metrics_namespace"].env
DEFAULT_METRICS_NAMESPACE = str(SETTINGS["metrics_namespace"].default)
PUT_METRIC_DATA = METRICS_MODES[1]
REFUSED = "refused: "
"""How the result of a function not acted on, for the autopilot's safety, begins."""


class Autopilot:
    """One run's reconciler, in one account and region."""

    def __init__(
        self,
        clients: Clients,
        *,
        layer_arn: str | None,
        layer_sha256: str | None,
        schedule: str = DEFAULT_SCHEDULE,
        metrics_mode: str | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_workers: int = DEFAULT_WORKERS,
        metrics_namespace: str = DEFAULT_METRICS_NAMESPACE,
        allow_auto: bool = False,
        itself: frozenset[str] = frozenset(),
        dry_run: bool,
        log: TextIO,
    ) -> None:
        self.clients = clients
        self.metrics_namespace = metrics_namespace
        self.allow_auto = allow_auto
        self.itself = itself
        self.max_concurrency = max_concurrency
        self.max_workers = max_workers
        self.layer_arn = layer_arn
        self.layer_sha256 = layer_sha256
        self.schedule = schedule
        self.metrics_mode = metrics_mode
        self.dry_run = dry_run
        self.log = log
        self._layer: str | LayerError | None = None
        self._logging = threading.Lock()

    def layer(self) -> str | None:
        """The layer version to attach, checked once a run (None: the one of ours each function has)."""
        if self.layer_arn is None:
            return None
        if self._layer is None:
            try:
                trusted = Trusted(sha256=code_sha256(self.layer_sha256) if self.layer_sha256 else None)
                self._layer = check_layer_arn(self.clients, self.layer_arn, trusted)
            except LayerError as error:
                self._layer = error
        if isinstance(self._layer, LayerError):
            raise self._layer
        return self._layer

    def functions(self, event: dict[str, Any]) -> list[str]:
        """The function ARNs ``event`` asks to reconcile; raises ValueError for an event it does not take."""
        if event.get("source") == "aws.tag" and event.get("detail-type") == "Tag Change on Resource":
            detail = event.get("detail", {})
            if detail.get("service") != "lambda" or detail.get("resource-type") != "function":
                return []
            return [str(arn) for arn in event.get("resources", [])]
        if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
            arns = {
                found.arn
                for key in (CONCURRENCY_TAG, AUTOPILOT_TAG)
                for found in discover(self.clients, Selector(key, None, None))
            }
            return sorted(arns)
        raise ValueError(
            f"not an event the autopilot takes (source {event.get('source')!r}, detail-type "
            f"{event.get('detail-type')!r}): expected aws.tag's 'Tag Change on Resource' or a "
            "'Scheduled Event'"
        )

    def reconcile(self, arn: str) -> dict[str, Any]:
        """``arn`` brought to what its tags ask; the JSON line logged (an error is its line, not raised)."""
        line: dict[str, Any] = {"function": arn, "action": NONE, "concurrency": None, "dry_run": self.dry_run}
        try:
            ref = parse_function_ref(arn)
            where = elsewhere(self.clients, ref)
            if where is not None:
                line["result"] = (
                    f"{REFUSED}it is in {where_said(where)}, not in the autopilot's own "
                    f"{where_said(home(self.clients))}: not acted on"
                )
            elif ref.name in self.itself:
                line["result"] = f"{REFUSED}it is the autopilot's own function: not acted on"
            else:
                action, concurrency, why = self.decide(read_function(self.clients, ref))
                line.update(action=action, concurrency=concurrency)
                line["result"] = why if action == NONE else self._change(ref, action, concurrency)
        except (ChangeError, UsageError, ValueError, argparse.ArgumentTypeError) as error:
            line["result"] = f"error: {error}"
        except Exception as error:
            if not is_aws_error(error):
                raise
            line["result"] = f"error: {error_reason(error)}"
        with self._logging:  # one whole line at a time, whichever thread logs it
            self.log.write(json.dumps(line) + "\n")
            self.log.flush()
        return line

    def decide(self, deployed: Deployed) -> tuple[str, int | str | None, str]:
        """:func:`decide` with this autopilot's limit and its own refusals."""
        return decide(self.clients, deployed, self.max_concurrency, self.refusal)

    def refusal(self, deployed: Deployed, concurrency: int | str) -> str | None:
        """Why enabling ``deployed`` with ``concurrency`` needs a grant the template did not give
        this autopilot (None: it does not): ``auto`` (cloudwatch:GetMetricData on the execution
        role) without ``AllowAuto``, or, in ``put_metric_data`` mode, a namespace of the function's
        own other than the template's ``MetricsNamespace`` (the only one it grants)."""
        if concurrency == AUTO and not self.allow_auto:
            return (
                f"{REFUSED}{CONCURRENCY_TAG}=auto needs cloudwatch:GetMetricData on the function's "
                "execution role, which this autopilot may not grant (its template's AllowAuto is "
                "false): nothing changed"
            )
        theirs = deployed.variables.get(NAMESPACE_VARIABLE)
        if (
            self.metrics_mode == PUT_METRIC_DATA
            and theirs not in (None, self.metrics_namespace)
            and not deployed.record.set_it(NAMESPACE_VARIABLE, theirs)
        ):
            return (
                f"{REFUSED}its own {NAMESPACE_VARIABLE}={theirs} is not {self.metrics_namespace}, "
                "the one namespace this autopilot grants cloudwatch:PutMetricData into (its "
                "template's MetricsNamespace): nothing changed"
            )
        return None

    def _change(self, ref: FunctionRef, action: str, concurrency: int | str | None) -> str:
        """``action`` planned (a dry run) or applied; what came of it. Each time adopt reads the
        function again, its tags are read again: when they ask for something else by then, nothing
        is changed (the tag change's own event, or the sweep, acts on them)."""

        def plan_for(deployed: Deployed) -> Plan:
            if self.decide(deployed)[:2] != (action, concurrency):
                raise ChangeError("its lambdawarmer tags changed while it was reconciled: nothing changed")
            if action == ENABLE and concurrency is not None:
                ceiling = auto_ceiling(deployed) if concurrency == AUTO else None
                options = Options(
                    concurrency=concurrency,
                    schedule=self.schedule,
                    layer_arn=self.layer(),
                    metrics_mode=self.metrics_mode,
                    metrics_namespace=self.metrics_namespace,
                    mark=True,
                    auto_max=self.max_concurrency if ceiling and ceiling > self.max_concurrency else None,
                )
                plan = plan_enable(self.clients, deployed, options)
                mark: str | None = f"enabled concurrency={concurrency}"
            else:
                plan = plan_disable(self.clients, deployed)
                mark = None
            plan_mark(self.clients, deployed, plan, mark)
            return plan

        if self.dry_run:
            plan = plan_for(read_function(self.clients, ref))
            return (
                f"would change {', '.join(c.resource for c in plan.changes)}" if plan.changes else "unchanged"
            )
        said = io.StringIO()
        arguments = argparse.Namespace(command=action, dry_run=False, yes=True)
        status, _, applied = adopt(self.clients, ref, plan_for, arguments, said)
        if status != OK:
            lines = said.getvalue().strip().splitlines()
            return f"error: {lines[-1] if lines else action + ' failed'}"
        return (
            f"applied {', '.join(c.resource for c in applied.changes)}"
            if applied and applied.changes
            else "unchanged"
        )

    def run(self, event: dict[str, Any]) -> dict[str, int]:
        """Every function ``event`` names reconciled, at most ``max_workers`` at once; how many, how
        many failed, and how many were refused."""
        arns = self.functions(event)
        if arns:
            home(self.clients)  # who and where it is, learnt once, before the threads
        lines = in_parallel(arns, self.reconcile, self.max_workers)
        return {
            "functions": len(lines),
            "errors": sum(str(line["result"]).startswith("error") for line in lines),
            "refused": sum(str(line["result"]).startswith(REFUSED) for line in lines),
        }


def owns(clients: Clients, deployed: Deployed) -> bool:
    """Whether the autopilot enabled ``deployed``, whatever its tags say: its mark, naming this very
    function, is in the function's configuration (set with the warming; forging it takes
    lambda:UpdateFunctionConfiguration; a copy of another function's configuration carries the
    other's), or, when a deploy of the function's own reset its variables, the function's schedule
    (in lambdawarmer's group, targeting this very function) carries the mark in its description
    (forging that takes scheduler:UpdateSchedule). The schedule is read only when the
    configuration has no mark."""
    mark = autopilot_mark(deployed.arn)
    if deployed.variables.get(AUTOPILOT_VARIABLE) == mark:
        return True
    found = resources.schedule(clients, deployed.schedule_name)
    return (
        found is not None
        and found.get("Description") == schedule_description(deployed.label, mark)
        and found.get("Target", {}).get("Arn") == deployed.target_arn
    )


def decide(
    clients: Clients,
    deployed: Deployed,
    limit: int,
    refusal: Callable[[Deployed, int | str], str | None] | None = None,
) -> tuple[str, int | str | None, str]:
    """What the function's tags ask of the autopilot: the action, N, and why when nothing is done
    (N above ``limit`` is refused). Raises ArgumentTypeError for a :data:`CONCURRENCY_TAG` value
    that is not N, ``auto`` or 0. Ownership is looked at only where it decides; ``refusal`` says
    why enabling with N is refused beyond ``limit`` (None: it is not)."""
    tags = deployed.tags
    if tags.get(OPT_OUT_TAG, "").strip().lower() == "true":
        return NONE, None, f"left alone: {OPT_OUT_TAG}=true"
    text = tags.get(CONCURRENCY_TAG, "0").strip()
    if text == "0":
        if owns(clients, deployed):
            return DISABLE, None, ""
        return NONE, None, f"left alone: {not_ours(deployed)}"
    try:
        concurrency = concurrency_argument(text)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{CONCURRENCY_TAG}: {error}, or 0") from None
    enabled = RECORD_TAG in tags or deployed.variables.get(EXEC_WRAPPER_VARIABLE) == WRAPPER_PATH
    if enabled and not owns(clients, deployed):
        return NONE, concurrency, f"left alone: enabled by someone else ({not_ours(deployed)})"
    refused = beyond_limit(deployed, concurrency, limit) or (refusal and refusal(deployed, concurrency))
    return (NONE, concurrency, refused) if refused else (ENABLE, concurrency, "")


def beyond_limit(deployed: Deployed, concurrency: int | str, limit: int) -> str | None:
    """Why warming ``deployed`` with ``concurrency`` is refused: N above ``limit``, or ``auto``
    with a ``WARMER_AUTO_MAX`` of the function's own above it (None: within it; ``auto`` with no
    such variable is held to ``limit`` by the autopilot's own ``WARMER_AUTO_MAX``)."""
    if isinstance(concurrency, int):
        return over_limit(CONCURRENCY_TAG, str(concurrency), limit) if concurrency > limit else None
    ceiling = auto_ceiling(deployed)
    theirs = deployed.variables.get(AUTO_MAX_VARIABLE)
    if ceiling and ceiling > limit and theirs and not deployed.record.set_it(AUTO_MAX_VARIABLE, theirs):
        return over_limit(f"{CONCURRENCY_TAG}=auto with its {AUTO_MAX_VARIABLE}", theirs, limit)
    return None


def not_ours(deployed: Deployed) -> str:
    """Why ``deployed`` is not the autopilot's, naming its tag when someone put it there."""
    said = (
        f"not enabled by the autopilot: its configuration has no {AUTOPILOT_VARIABLE} naming it "
        f"({autopilot_mark(deployed.arn)}), nor does its schedule's description"
    )
    if AUTOPILOT_TAG in deployed.tags:
        said += f"; its {AUTOPILOT_TAG} tag is not trusted (anyone allowed lambda:TagResource can set it)"
    return said


def over_limit(asked: str, value: str, limit: int) -> str:
    """The result of a function whose tag asks for more than ``limit``."""
    return (
        f"{REFUSED}{asked}={value} asks for more than the {limit} environments the autopilot may warm a "
        "function with (its template's MaxConcurrency): nothing changed"
    )


def auto_ceiling(deployed: Deployed) -> int | None:
    """The most ``auto`` may choose on ``deployed`` as its settings stand (None: they are invalid;
    enable's plan names what is wrong)."""
    try:
        return deployed.settings().auto_ceiling
    except WarmerConfigError:
        return None


def plan_mark(clients: Clients, deployed: Deployed, plan: Plan, mark: str | None) -> None:
    """:data:`AUTOPILOT_TAG` set to ``mark`` (None: removed), the plan's last change."""

    def apply() -> None:
        if mark is None:
            clients.lambda_.untag_resource(Resource=deployed.arn, TagKeys=[AUTOPILOT_TAG])
        else:
            clients.lambda_.tag_resource(Resource=deployed.arn, Tags={AUTOPILOT_TAG: mark})

    plan.add(f"tag {AUTOPILOT_TAG}", deployed.tags.get(AUTOPILOT_TAG), mark, apply)


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """The Lambda function's handler, configured by its environment (see the module's docstring);
    it never acts on its own function (``context``'s ARN, or its environment's name)."""
    environment = os.environ
    metrics_mode = environment.get("METRICS_MODE", "none").strip().lower()
    if metrics_mode not in (*METRICS_MODES, "none"):
        raise ValueError(f"METRICS_MODE {metrics_mode!r}: expected one of {', '.join(METRICS_MODES)} or none")
    try:
        schedule = check_schedule(environment.get("SCHEDULE") or DEFAULT_SCHEDULE)
    except ScheduleError as error:
        raise ValueError(f"SCHEDULE {error}") from None
    maximum = environment.get("MAX_CONCURRENCY") or str(DEFAULT_MAX_CONCURRENCY)
    if not maximum.isdigit() or not 1 <= int(maximum) <= CONCURRENCY_LIMIT:
        raise ValueError(
            f"MAX_CONCURRENCY {maximum!r}: expected a whole number from 1 to {CONCURRENCY_LIMIT}"
        )
    autopilot = Autopilot(
        Clients(),
        max_concurrency=int(maximum),
        layer_arn=environment.get("LAYER_ARN") or None,
        layer_sha256=environment.get("LAYER_SHA256") or None,
        schedule=schedule,
        metrics_mode=None if metrics_mode == "none" else metrics_mode,
        metrics_namespace=environment.get("METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE,
        allow_auto=environment.get("ALLOW_AUTO", "false").strip().lower() == "true",
        itself=own_names(environment, context),
        dry_run=environment.get("DRY_RUN", "false").strip().lower() == "true",
        log=sys.stdout,
    )
    return autopilot.run(event)


def own_names(environment: Mapping[str, str], context: Any) -> frozenset[str]:
    """The autopilot's own function's names, from its invocation's ARN and its environment."""
    arn = getattr(context, "invoked_function_arn", None)
    names = {environment.get("AWS_LAMBDA_FUNCTION_NAME"), parse_function_ref(str(arn)).name if arn else None}
    return frozenset(name for name in names if name)
