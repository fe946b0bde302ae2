"""The CDK construct (cdk/lambdawarmer_cdk): synthesised offline with aws_cdk.assertions, its
resources and IAM compared with what ``enable`` makes (lambdawarmer_cli.iam, the layer's
PingFormat: one list of what warming needs), the template checked by cfn-lint, the example app
synthesised. The CDK's jsii runtime needs Node.js: skipped, with the reason, where it is absent."""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "cdk"))
if shutil.which("node") is None:
    pytest.skip(
        "the AWS CDK's jsii runtime needs Node.js, which is not on this machine", allow_module_level=True
    )
if TYPE_CHECKING:
    import aws_cdk as cdk
    from aws_cdk import assertions
    from aws_cdk import aws_lambda as lambda_
    from lambdawarmer_cdk import Warmer

from lambdawarmer.layer_paths import WRAPPER_PATH  # noqa: E402
from lambdawarmer.protocol import PingFormat  # noqa: E402
from lambdawarmer.settings import CONCURRENCY_LIMIT  # noqa: E402
from lambdawarmer.version import __version__  # noqa: E402
from lambdawarmer_cli.iam import (  # noqa: E402
    cloudwatch_policy,
    scheduler_policy,
    scheduler_trust,
    self_invoke_permission,
)

from .test_terraform import normalised  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def cdk_loaded() -> None:
    """The CDK, loaded for this module's tests and not when the suite is collected: importing it
    starts its jsii kernel (Node.js loading aws-cdk-lib, about 8 s), which every pytest worker and
    the collection beforehand paid at once in CI."""
    found = pytest.importorskip("aws_cdk")
    from aws_cdk import assertions, aws_lambda
    from lambdawarmer_cdk import Warmer

    globals().update(cdk=found, assertions=assertions, lambda_=aws_lambda, Warmer=Warmer)


ACCOUNT, REGION = "123456789012", "us-east-1"
LAYER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:lambdawarmer:4"
TOKEN = "0123456789abcdef0123"
LAYER_SHA256 = "ab" * 32


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


def synthesised(warmers: int = 1, **options: Any) -> tuple[dict[str, Any], assertions.Template]:
    app = cdk.App()
    stack = cdk.Stack(app, "Orders", env=cdk.Environment(account=ACCOUNT, region=REGION))
    layer = lambda_.LayerVersion.from_layer_version_arn(stack, "Layer", LAYER)
    options = {"token": TOKEN, "layer_sha256": LAYER_SHA256, **options}
    for n in range(warmers):
        kept_warm(stack, "" if n == 0 else str(n), layer, **options)
    template = assertions.Template.from_stack(stack)
    return resolved(template.to_json())["Resources"], template


def kept_warm(stack: Any, suffix: str, layer: lambda_.ILayerVersion, **options: Any) -> None:
    """A function with an alias, kept warm by a Warmer (ids ending in ``suffix``)."""
    function = lambda_.Function(
        stack,
        f"Orders{suffix}",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="app.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return 'real work'\n"),
        environment={"APP_SETTING": "value"},
    )
    alias = lambda_.Alias(stack, f"Live{suffix}", alias_name="live", version=function.current_version)
    Warmer(stack, f"Warmer{suffix}", function=function, alias=alias, layer=layer, **options)


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

    # The fan-out: the function's own resource policy, on the alias pinged, names its execution
    # role; the role gets only the CloudWatch calls its modes make.
    [permission] = of_type(resources, "AWS::Lambda::Permission").values()
    [(role_id, _)] = [
        (name, props)
        for name, props in of_type(resources, "AWS::IAM::Role").items()
        if name.startswith("OrdersServiceRole")
    ]
    wanted = self_invoke_permission(alias_arn, f"arn-of-{role_id}")
    assert (permission["Action"], permission["Principal"], permission["FunctionName"]) == (
        wanted["Action"],
        wanted["Principal"],
        alias_arn,
    )
    policies = {
        name: props
        for name, props in of_type(resources, "AWS::IAM::Policy").items()
        if name.startswith("Warmer")
    }
    expected = cloudwatch_policy(
        metrics_namespace="LambdaWarmer" if metrics_mode == "put_metric_data" else None,
        auto=concurrency == "auto",
    )
    assert [normalised(p["PolicyDocument"]) for p in policies.values()] == (
        [] if expected is None else [normalised(expected)]
    )
    assert function_arn not in json.dumps(policies)  # no self-invoke statement on the role

    [schedule] = of_type(resources, "AWS::Scheduler::Schedule").values()
    roles = of_type(resources, "AWS::IAM::Role")
    [role] = [props for name, props in roles.items() if name.startswith("WarmerScheduleRole")]
    assert schedule["GroupName"] == "default"
    schedule_arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{schedule['Name']}"
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


@pytest.mark.parametrize("warmers", [1, 2])
def test_the_synthesised_template_passes_cfn_lint(tmp_path: Path, warmers: int) -> None:
    """Two Warmers in one stack as well: no Scheduler group is made (none to clash: E3019), each
    schedule in Scheduler's default group, which no stack owns."""
    resources, template = synthesised(warmers, concurrency=3, pre_traffic_hook=True)
    assert of_type(resources, "AWS::Scheduler::ScheduleGroup") == {}
    schedules = of_type(resources, "AWS::Scheduler::Schedule").values()
    assert [s["GroupName"] for s in schedules] == ["default"] * warmers
    assert len({json.dumps(s["Name"]) for s in schedules}) == warmers
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
        if props["Handler"] not in ("app.handler", "index.handler")  # the layer check's is index.handler
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


def test_by_default_a_token_is_generated_and_goes_to_the_function_and_the_schedule() -> None:
    resources, _ = synthesised(token=True)
    [(secret_id, secret)] = of_type(resources, "AWS::SecretsManager::Secret").items()
    assert secret["GenerateSecretString"] == {"ExcludePunctuation": True, "PasswordLength": 32}
    reference = f"{{{{resolve:secretsmanager:{secret_id}:SecretString:::}}}}"
    [function] = [
        p for p in of_type(resources, "AWS::Lambda::Function").values() if p["Handler"] == "app.handler"
    ]
    assert function["Environment"]["Variables"]["WARMER_TOKEN"] == reference
    [schedule] = of_type(resources, "AWS::Scheduler::Schedule").values()
    assert json.loads(schedule["Target"]["Input"])["token"] == reference
    no_token, _ = synthesised(token=False)
    assert of_type(no_token, "AWS::SecretsManager::Secret") == {}
    [schedule] = of_type(no_token, "AWS::Scheduler::Schedule").values()
    assert "token" not in json.loads(schedule["Target"]["Input"])


def test_the_layer_is_attached_only_after_its_content_is_checked() -> None:
    _, template = synthesised()
    [(check_id, check)] = [
        (name, resource)
        for name, resource in template.to_json()["Resources"].items()
        if resource["Type"] == "AWS::CloudFormation::CustomResource"
    ]
    assert resolved(check["Properties"])["LayerArn"] == LAYER
    assert check["Properties"]["Sha256"] == LAYER_SHA256
    [function] = [
        r
        for r in template.to_json()["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == "app.handler"
    ]
    assert check_id in function["DependsOn"]
    trusted, _ = synthesised(layer_sha256=None, trust_layer=True)
    assert "AWS::CloudFormation::CustomResource" not in {r["Type"] for r in trusted.values()}
    with pytest.raises(ValueError, match="give layer_sha256"):
        synthesised(layer_sha256=None)


def test_the_layer_check_fails_the_deploy_unless_the_content_is_the_digest(aws: dict[str, Any]) -> None:
    """The custom resource's function, run against moto, answering a stand-in CloudFormation."""
    from lambdawarmer_cdk import layer_check

    from .control_plane import code_zip

    answers: list[dict[str, Any]] = []

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        content = code_zip()
        arn = aws["lambda"].publish_layer_version(LayerName="lambdawarmer", Content={"ZipFile": content})[
            "LayerVersionArn"
        ]
        for sha256 in (hashlib.sha256(content).hexdigest(), hashlib.sha256(b"the release").hexdigest()):
            event = {
                "RequestType": "Create", "ResponseURL": f"http://127.0.0.1:{server.server_port}/",
                "StackId": "stack", "RequestId": "r", "LogicalResourceId": "LayerCheck",
                "ResourceProperties": {"LayerArn": arn, "Sha256": sha256},
            }  # fmt: skip
            layer_check.handler(event, None)
    finally:
        server.shutdown()
    assert [a["Status"] for a in answers] == ["SUCCESS", "FAILED"], answers
    assert "not attached" in answers[1]["Reason"]


def test_the_example_app_synthesises_and_the_package_is_lambdawarmers_version(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "cdk" / "example" / "app.py")],
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": str(ROOT / "cdk"),
            "CDK_OUTDIR": str(tmp_path),
            "CDK_CONTEXT_JSON": json.dumps({"lambdawarmer-layer-sha256": LAYER_SHA256}),
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
        "AWS::CloudFormation::CustomResource",  # the layer SSM names is checked
    } <= kinds
    project = tomllib.loads((ROOT / "cdk" / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__
    assert f"lambdawarmer[cli]=={__version__}" in project["dependencies"]
