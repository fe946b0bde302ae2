"""The ``Warmer`` construct (see the package's docstring)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, PRIVATE_PACKAGE, WRAPPER_PATH
from lambdawarmer.protocol import AUTO, PingFormat
from lambdawarmer.settings import CONCURRENCY_LIMIT, SETTINGS
from lambdawarmer_cli.iam import scheduler_policy, scheduler_trust, self_invoke_policy

SCHEDULE_GROUP = "lambdawarmer"
HOOK_HANDLER = f"{PRIVATE_PACKAGE}.deploy_hook.handler"


class Warmer(Construct):
    """Keep ``function`` warm (through ``alias`` when given): ``concurrency`` environments (or
    ``"auto"``), pinged on ``schedule``, with ``token`` (``WARMER_TOKEN``: a string, or a
    ``SecretValue``'s reference) when given. ``layer``: the lambdawarmer layer version.
    ``metrics_mode``: None, ``"emf"`` or ``"put_metric_data"``. ``schedule_group``: an existing
    Scheduler group (None: a group ``lambdawarmer`` is made). ``pre_traffic_hook`` (with an alias):
    make the CodeDeploy hook function (``self.pre_traffic_hook``) to give ``LambdaDeploymentGroup``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.Function,
        layer: lambda_.ILayerVersion,
        concurrency: int | str = 1,
        alias: lambda_.Alias | None = None,
        schedule: str = "rate(5 minutes)",
        token: str | None = None,
        metrics_mode: str | None = None,
        schedule_group: str | None = None,
        pre_traffic_hook: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        _check(concurrency, metrics_mode, pre_traffic_hook and alias is None)
        auto = concurrency == AUTO
        stack = cdk.Stack.of(self)
        namespace = str(SETTINGS["metrics_namespace"].default)

        function.add_layers(layer)
        variables = {EXEC_WRAPPER_VARIABLE: WRAPPER_PATH}
        if token is not None:
            variables[SETTINGS["token"].env] = token
        if metrics_mode is not None:
            variables |= {SETTINGS["send_metric"].env: "true", SETTINGS["metrics_mode"].env: metrics_mode}
        for name, value in variables.items():
            function.add_environment(name, value)
        document = self_invoke_policy(
            function.function_arn,
            metrics_namespace=namespace if metrics_mode == "put_metric_data" else None,
            auto=auto,
        )
        self.self_invoke_policy = iam.Policy(
            self, "SelfInvoke", document=iam.PolicyDocument.from_json(document)
        )
        if function.role is not None:
            self.self_invoke_policy.attach_to_role(function.role)

        target = alias.function_arn if alias is not None else function.function_arn
        group = schedule_group or scheduler.CfnScheduleGroup(self, "Group", name=SCHEDULE_GROUP).ref
        name = f"lambdawarmer-{cdk.Names.unique_id(self)}"[-64:]
        schedule_arn = stack.format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{schedule_group or SCHEDULE_GROUP}/{name}",
        )
        self.schedule_role = iam.CfnRole(
            self,
            "ScheduleRole",
            assume_role_policy_document=scheduler_trust(stack.account, schedule_arn),
            policies=[
                iam.CfnRole.PolicyProperty(
                    policy_name="invoke-target", policy_document=scheduler_policy(target)
                )
            ],
        )
        defaults = (str(SETTINGS["flag"].default), str(SETTINGS["concurrency"].default))
        ping = PingFormat(*defaults, CONCURRENCY_LIMIT, token).scheduled_ping(concurrency)
        self.schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            name=name,
            group_name=group,
            schedule_expression=schedule,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            description="lambdawarmer warm-up ping",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=target,
                role_arn=self.schedule_role.attr_arn,
                input=cdk.Stack.of(self).to_json_string(ping),
            ),
        )
        self.pre_traffic_hook = (
            self._hook(function, alias, layer, concurrency, token) if pre_traffic_hook and alias else None
        )

    def _hook(
        self,
        function: lambda_.Function,
        alias: lambda_.Alias,
        layer: lambda_.ILayerVersion,
        concurrency: int | str,
        token: str | None,
    ) -> lambda_.Function:
        """The CodeDeploy pre-traffic hook: warms each new version to what ``alias`` needs, then
        reports to CodeDeploy (the layer's deploy_hook; its settings are ``WARMER_HOOK_*``). Given to
        ``LambdaDeploymentGroup(pre_hook=...)``, which grants it the status call on that group only."""
        environment = {
            SETTINGS["hook_target"].env: function.current_version.function_arn,
            SETTINGS["hook_alias"].env: alias.alias_name,
            SETTINGS["hook_concurrency"].env: "1" if concurrency == AUTO else str(concurrency),
        }
        if token is not None:
            environment[SETTINGS["token"].env] = token
        hook = lambda_.Function(
            self,
            "PreTrafficHook",
            runtime=function.runtime,
            handler=HOOK_HANDLER,
            code=lambda_.Code.from_inline("# The handler is the lambdawarmer layer's deploy hook.\n"),
            layers=[layer],
            timeout=cdk.Duration.minutes(5),
            environment=environment,
        )
        hook.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[function.function_arn, f"{function.function_arn}:*"],
            )
        )
        hook.add_to_role_policy(iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"]))
        return hook


def _check(concurrency: Any, metrics_mode: str | None, hook_without_alias: bool) -> None:
    """Refuse what enable refuses, naming what is allowed."""
    whole = isinstance(concurrency, int) and not isinstance(concurrency, bool)
    if not (concurrency == AUTO or (whole and 1 <= concurrency <= CONCURRENCY_LIMIT)):
        raise ValueError(f"concurrency={concurrency!r}: expected 1 to {CONCURRENCY_LIMIT}, or {AUTO!r}")
    if metrics_mode not in (None, "emf", "put_metric_data"):
        raise ValueError(f"metrics_mode={metrics_mode!r}: expected None, 'emf' or 'put_metric_data'")
    if hook_without_alias:
        raise ValueError("pre_traffic_hook=True needs the alias whose deploys it warms (alias=...)")
