"""The CDK construct (cdk/lambdawarmer_cdk): synthesised offline with aws_cdk.assertions, its
resources and IAM compared with what ``enable`` makes (lambdawarmer_cli.iam, the layer's
PingFormat: one list of what warming needs), the template checked by cfn-lint, the example app
synthesised. The CDK's jsii runtime needs Node.js: skipped, with the reason, where it is absent."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "cdk"))
if shutil.which("node") is None:
    pytest.skip(
        "the AWS CDK's jsii runtime needs Node.js, which is not on this machine", allow_module_level=True
    )
cdk = pytest.importorskip("aws_cdk")

from aws_cdk import assertions  # noqa: E402
from aws_cdk import aws_lambda as lambda_  # noqa: E402
from lambdawarmer_cdk import Warmer  # noqa: E402

from lambdawarmer.layer_paths import WRAPPER_PATH  # noqa: E402
from lambdawarmer.protocol import PingFormat  # noqa: E402
from lambdawarmer.settings import CONCURRENCY_LIMIT  # noqa: E402
from lambdawarmer.version import __version__  # noqa: E402
from lambdawarmer_cli.iam import scheduler_policy, scheduler_trust, self_invoke_policy  # noqa: E402

from .test_terraform import normalised  # noqa: E402

ACCOUNT, REGION = "123456789012", "us-east-1"
LAYER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:lambdawarmer:4"
TOKEN = "0123456789abcdef0123"


def resolved(value: Any) -> Any:
    """The template's intrinsics as plain strings: a resource's ``Arn`` is ``arn-of-<id>``."""
    if isinstance(value, dict) and len(value) == 1:
        [(key, argument)] = value.items()
        if key == "Fn::Join":
            return argument[0].join(str(resolved(part)) for part in argument[1])
        if key == "Fn::GetAtt":
            return f"arn-of-{argument[0]}"
        if key == "Ref":
            return {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}.get(
                argument, argument
            )
    if isinstance(value, dict):
        return {key: resolved(item) for key, item in value.items()}
    if isinstance(value, list):
        return [resolved(item) for item in value]
    return value


def synthesised(**options: Any) -> tuple[dict[str, Any], assertions.Template]:
    app = cdk.App()
    stack = cdk.Stack(app, "Orders", env=cdk.Environment(account=ACCOUNT, region=REGION))
    function = lambda_.Function(
        stack,
        "Orders",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="app.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return 'real work'\n"),
        environment={"APP_SETTING": "value"},
    )
    alias = lambda_.Alias(stack, "Live", alias_name="live", version=function.current_version)
    layer = lambda_.LayerVersion.from_layer_version_arn(stack, "Layer", LAYER)
    Warmer(stack, "Warmer", function=function, alias=alias, layer=layer, token=TOKEN, **options)
    template = assertions.Template.from_stack(stack)
    return resolved(template.to_json())["Resources"], template


def of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: resource["Properties"] for name, resource in resources.items() if resource["Type"] == kind}


@pytest.mark.parametrize(("concurrency", "metrics_mode"), [(3, None), ("auto", "put_metric_data")])
def test_the_construct_makes_what_enable_makes(concurrency: int | str, metrics_mode: str | None) -> None:
    resources, _ = synthesised(concurrency=concurrency, metrics_mode=metrics_mode)
    [(function_id, function)] = [
        (name, props)
        for name, props in of_type(resources, "AWS::Lambda::Function").items()
        if props["Handler"] == "app.handler"
    ]
    function_arn, alias_arn = f"arn-of-{function_id}", next(iter(of_type(resources, "AWS::Lambda::Alias")))
    assert function["Layers"] == [LAYER]
    variables = function["Environment"]["Variables"]
    assert variables["APP_SETTING"] == "value"  # the function's own, kept
    assert (variables["AWS_LAMBDA_EXEC_WRAPPER"], variables["WARMER_TOKEN"]) == (WRAPPER_PATH, TOKEN)
    assert variables.get("WARMER_METRICS_MODE") == metrics_mode

    [policy] = [
        props
        for name, props in of_type(resources, "AWS::IAM::Policy").items()
        if name.startswith("WarmerSelfInvoke")
    ]
    expected = self_invoke_policy(
        function_arn,
        metrics_namespace="LambdaWarmer" if metrics_mode == "put_metric_data" else None,
        auto=concurrency == "auto",
    )
    assert normalised(policy["PolicyDocument"]) == normalised(expected)

    [schedule] = of_type(resources, "AWS::Scheduler::Schedule").values()
    roles = of_type(resources, "AWS::IAM::Role")
    [role] = [props for name, props in roles.items() if name.startswith("WarmerScheduleRole")]
    schedule_arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/lambdawarmer/{schedule['Name']}"
    assert normalised(role["AssumeRolePolicyDocument"]) == normalised(scheduler_trust(ACCOUNT, schedule_arn))
    [inline] = role["Policies"]
    assert normalised(inline["PolicyDocument"]) == normalised(scheduler_policy(alias_arn))
    assert (schedule["FlexibleTimeWindow"], schedule["ScheduleExpression"]) == (
        {"Mode": "OFF"},
        "rate(5 minutes)",
    )
    assert schedule["Target"]["Arn"] == alias_arn
    wanted = PingFormat("warmer", "concurrency", CONCURRENCY_LIMIT, TOKEN).scheduled_ping(concurrency)
    assert json.loads(schedule["Target"]["Input"]) == wanted


def test_the_synthesised_template_passes_cfn_lint(tmp_path: Path) -> None:
    _, template = synthesised(concurrency=3, pre_traffic_hook=True)
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template.to_json()))
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--regions",
            REGION,
            "--format",
            "parseable",
            "--",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = re.findall(r":([EWI]\d{4}):", done.stdout)
    # cfn-lint's exit status is a bit mask: 2 errors, 4 warnings. The only warning is the CDK's own
    # habit (W3005: a DependsOn on a function's role that a GetAtt already enforces).
    assert done.returncode & 2 == 0, done.stdout + done.stderr
    assert set(findings) <= {"W3005"}, done.stdout


def test_the_pre_traffic_hook_warms_the_new_version_with_the_layers_handler() -> None:
    resources, _ = synthesised(concurrency=3, pre_traffic_hook=True)
    [hook] = [
        props
        for props in of_type(resources, "AWS::Lambda::Function").values()
        if props["Handler"] != "app.handler"
    ]
    assert hook["Handler"] == "_lambdawarmer_layer.deploy_hook.handler"
    assert hook["Layers"] == [LAYER]
    variables = hook["Environment"]["Variables"]
    assert (
        variables["WARMER_HOOK_ALIAS"],
        variables["WARMER_HOOK_CONCURRENCY"],
        variables["WARMER_TOKEN"],
    ) == (
        "live",
        "3",
        TOKEN,
    )


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"concurrency": 0}, "expected 1 to 1000"),
        ({"concurrency": "many"}, "expected 1 to 1000"),
        ({"metrics_mode": "logs"}, "expected None, 'emf' or 'put_metric_data'"),
    ],
)
def test_bad_input_is_named(options: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        synthesised(**options)


def test_the_example_app_synthesises_and_the_package_is_lambdawarmers_version(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "cdk" / "example" / "app.py")],
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": str(ROOT / "cdk"),
            "CDK_OUTDIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    template = json.loads((tmp_path / "Orders.template.json").read_text())
    kinds = {resource["Type"] for resource in template["Resources"].values()}
    assert {
        "AWS::Scheduler::Schedule",
        "AWS::CodeDeploy::DeploymentGroup",
        "AWS::SecretsManager::Secret",
    } <= kinds
    project = tomllib.loads((ROOT / "cdk" / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__
    assert f"lambdawarmer[cli]=={__version__}" in project["dependencies"]
