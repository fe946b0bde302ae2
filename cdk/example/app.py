"""An example CDK app: a function with an alias, kept warm by lambdawarmer's construct, its deploys
pre-warmed by the CodeDeploy pre-traffic hook. ``cdk synth`` (or ``python app.py``) writes it."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from lambdawarmer_cdk import Warmer

LAYER_PARAMETER = "/platform/lambdawarmer/latest"
"""Where ``lambdawarmer publish --ssm-prefix /platform/lambdawarmer`` wrote the layer's ARN."""
LAYER_SHA256_CONTEXT = "lambdawarmer-layer-sha256"
"""The context value (``cdk synth -c lambdawarmer-layer-sha256=...``) holding the sha256 of the
release's layer zip: whatever the parameter holds is attached only when its content is that."""


def build(app: cdk.App) -> cdk.Stack:
    layer_sha256 = app.node.try_get_context(LAYER_SHA256_CONTEXT)
    if not layer_sha256:
        raise SystemExit(
            f"give the release's layer sha256: cdk synth -c {LAYER_SHA256_CONTEXT}=<64 hex digits>"
        )
    stack = cdk.Stack(app, "Orders", env=cdk.Environment(account="123456789012", region="us-east-1"))
    function = lambda_.Function(
        stack,
        "Orders",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="app.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return 'real work'\n"),
        memory_size=256,
        timeout=cdk.Duration.seconds(10),
    )
    alias = lambda_.Alias(stack, "Live", alias_name="live", version=function.current_version)
    layer = lambda_.LayerVersion.from_layer_version_arn(
        stack, "Layer", cdk.aws_ssm.StringParameter.value_for_string_parameter(stack, LAYER_PARAMETER)
    )
    warmer = Warmer(
        stack,
        "Warmer",
        function=function,
        alias=alias,
        layer=layer,
        concurrency=3,
        layer_sha256=layer_sha256,  # checked at deploy: a look-alike the parameter names fails it
        pre_traffic_hook=True,  # the token: generated in Secrets Manager (the default)
    )
    if warmer.pre_traffic_hook is not None:
        codedeploy.LambdaDeploymentGroup(
            stack,
            "Deploys",
            alias=alias,
            deployment_config=codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
            pre_hook=warmer.pre_traffic_hook,
        )
    return stack


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
