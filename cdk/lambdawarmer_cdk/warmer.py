"""The ``Warmer`` construct (see the package's docstring)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from lambdawarmer.function_ref import FunctionRef
from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, PRIVATE_PACKAGE, WRAPPER_PATH
from lambdawarmer.protocol import AUTO, PingFormat
from lambdawarmer.settings import CONCURRENCY_LIMIT, SETTINGS
from lambdawarmer_cli.iam import cloudwatch_policy, scheduler_policy, scheduler_trust, self_invoke_permission
from lambdawarmer_cli.names import DIGEST_LENGTH, IAC_SCHEDULE_GROUP, SCHEDULE_PREFIX, schedule_name

HOOK_HANDLER = f"{PRIVATE_PACKAGE}.deploy_hook.handler"
LAYER_CHECK_SOURCE = Path(__file__).with_name("layer_check.py")
LAYER_CHECK_ID = "lambdawarmer-layer-check-7f3c"
"""The one layer-check function of a stack (a SingletonFunction's id), whatever its Warmers."""
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


class Warmer(Construct):
    """Keep ``function`` warm (through ``alias`` when given): ``concurrency`` environments (or
    ``"auto"``), pinged on ``schedule``, with ``token`` (``WARMER_TOKEN``: a string, or a
    ``SecretValue``'s reference; True, the default: one generated in Secrets Manager,
    ``self.token_secret``; False: none). ``layer``: the lambdawarmer layer version, attached only once
    a custom resource has checked at deploy time that its content is ``layer_sha256`` (the release
    zip's sha256), or unchecked with ``trust_layer=True``. ``metrics_mode``: None, ``"emf"`` or
    ``"put_metric_data"``. ``schedule_group``: an existing Scheduler group of yours (None:
    Scheduler's ``default`` group; the construct never makes or deletes a group).
    ``pre_traffic_hook`` (with an alias): make the CodeDeploy hook function (``self.pre_traffic_hook``)
    to give ``LambdaDeploymentGroup``.
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
        token: str | bool = True,
        metrics_mode: str | None = None,
        schedule_group: str | None = None,
        pre_traffic_hook: bool = False,
        layer_sha256: str | None = None,
        trust_layer: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        _check(concurrency, metrics_mode, pre_traffic_hook and alias is None)
        _check_token_and_layer(token, layer_sha256, trust_layer, function.role is None)
        auto = concurrency == AUTO
        stack = cdk.Stack.of(self)
        namespace = str(SETTINGS["metrics_namespace"].default)
        self.token_secret: secretsmanager.Secret | None = None
        if token is True:
            self.token_secret = secretsmanager.Secret(
                self,
                "Token",
                description="lambdawarmer's WARMER_TOKEN for a function and its warm-up schedule",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=32, exclude_punctuation=True
                ),
            )
            token = self.token_secret.secret_value.unsafe_unwrap()  # a {{resolve:secretsmanager:...}}
        value = token if isinstance(token, str) else None  # False: none

        self.layer_check = None if trust_layer else _layer_check(self, layer, str(layer_sha256))
        function.add_layers(layer)
        if self.layer_check is not None:
            function.node.add_dependency(self.layer_check)  # attached only once its content is checked
        variables = {EXEC_WRAPPER_VARIABLE: WRAPPER_PATH}
        if value is not None:
            variables[SETTINGS["token"].env] = value
        if metrics_mode is not None:
            variables |= {SETTINGS["send_metric"].env: "true", SETTINGS["metrics_mode"].env: metrics_mode}
        for variable, setting in variables.items():
            function.add_environment(variable, setting)

        target = alias.function_arn if alias is not None else function.function_arn
        # The fan-out: the function's own resource policy (on the qualifier pinged) names its
        # execution role; the role gets only the CloudWatch calls its modes make, if any.
        permission = self_invoke_permission(target, function.role.role_arn)
        self.self_invoke_permission = lambda_.CfnPermission(
            self,
            "SelfInvoke",
            action=permission["Action"],
            function_name=target,
            principal=permission["Principal"],
        )
        document = cloudwatch_policy(
            metrics_namespace=namespace if metrics_mode == "put_metric_data" else None, auto=auto
        )
        self.cloudwatch_policy: iam.Policy | None = None
        if document is not None:
            self.cloudwatch_policy = iam.Policy(
                self, "CloudWatch", document=iam.PolicyDocument.from_json(document)
            )
            self.cloudwatch_policy.attach_to_role(function.role)

        group = schedule_group or IAC_SCHEDULE_GROUP
        name = _schedule_name(self, function, alias)
        schedule_arn = stack.format_arn(
            service="scheduler", resource="schedule", resource_name=f"{group}/{name}"
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
        ping = PingFormat(*defaults, CONCURRENCY_LIMIT, value).scheduled_ping(concurrency)
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
            self._hook(function, alias, layer, concurrency, value) if pre_traffic_hook and alias else None
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
        if self.layer_check is not None:
            hook.node.add_dependency(self.layer_check)
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


def _check_token_and_layer(token: Any, layer_sha256: str | None, trust_layer: bool, no_role: bool) -> None:
    """Refuse a token that is neither a string nor True/False, a layer neither checked nor trusted, and
    a function whose execution role the construct cannot name."""
    if not isinstance(token, (str, bool)):
        raise ValueError(f"token={token!r}: expected a string, True (one is generated) or False (none)")
    if layer_sha256 is not None and not SHA256_HEX.fullmatch(layer_sha256):
        raise ValueError(f"layer_sha256={layer_sha256!r}: expected the 64 hexadecimal digits of a sha256")
    if (layer_sha256 is None) == (not trust_layer):
        raise ValueError(
            "give layer_sha256 (the sha256 of the release's layer zip), which the deploy checks the "
            "layer's content against, or trust_layer=True to attach it unchecked (not both)"
        )
    if no_role:
        raise ValueError("the function has no execution role the construct can name (function.role)")


def _schedule_name(scope: Construct, function: lambda_.IFunction, alias: lambda_.Alias | None) -> str:
    """enable's name for the target when the function's (and alias's) names are known at synth time;
    otherwise ``lambdawarmer.<the stack's id>.<a digest of this construct's path>``: unique in the
    account and region, within Scheduler's 64 characters, and found by ``status`` by its target."""
    names = [function.function_name, *([alias.alias_name] if alias is not None else [])]
    if not any(cdk.Token.is_unresolved(name) for name in names):
        return schedule_name(FunctionRef(names[0], alias.alias_name if alias is not None else None))
    stack_id = cdk.Fn.select(2, cdk.Fn.split("/", cdk.Stack.of(scope).stack_id))
    digest = hashlib.sha256(scope.node.path.encode()).hexdigest()[:DIGEST_LENGTH]
    return cdk.Fn.join(".", [SCHEDULE_PREFIX, stack_id, digest])


def _layer_check(scope: Construct, layer: lambda_.ILayerVersion, sha256: str) -> cdk.CustomResource:
    """The custom resource that fails the deploy unless ``layer``'s content is ``sha256``
    (layer_check.py), its function one per stack, allowed to read only the layers it checks."""
    checker = lambda_.SingletonFunction(
        scope,
        "LayerCheckFunction",
        uuid=LAYER_CHECK_ID,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline(LAYER_CHECK_SOURCE.read_text()),
        timeout=cdk.Duration.seconds(30),
    )
    checker.add_to_role_policy(
        iam.PolicyStatement(actions=["lambda:GetLayerVersion"], resources=[layer.layer_version_arn])
    )
    return cdk.CustomResource(
        scope,
        "LayerCheck",
        service_token=checker.function_arn,
        properties={"LayerArn": layer.layer_version_arn, "Sha256": sha256.lower()},
    )
