"""template.yaml: passes cfn-lint; its SAM transform schedules the warm-up event and scopes IAM."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from layer.runtimes import SUPPORTED_RUNTIMES

from .templates import cloudformation

ROOT = Path(__file__).resolve().parent.parent
STACK = "shop"
STACK_UUID = "0f9e8d7c-1234-5678-9abc-def012345678"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": STACK,
    "AWS::StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/{STACK_UUID}",
}
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{STACK}-example"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:WarmTokenSecret-AbCdEf"
GENERATED = f"{{{{resolve:secretsmanager:{SECRET_ARN}:SecretString}}}}"
"""What CloudFormation resolves, at deploy, to the generated token."""


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), str(ROOT / "template.yaml")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def transformed(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    template = cloudformation(ROOT / "template.yaml")
    resources = template["Resources"]
    resources["LambdaWarmerLayer"]["Properties"]["ContentUri"] = "s3://bucket/layer.zip"
    resources["ExampleFunction"]["Properties"]["CodeUri"] = "s3://bucket/example.zip"
    from samtranslator.parser import parser  # loaded by the tests using it, not at collection
    from samtranslator.translator.translator import Translator

    translator = Translator(managed_policy_map={}, sam_parser=parser.Parser())
    return translator.translate(sam_template=template, parameter_values=parameters or {})  # type: ignore[no-any-return]


def substitute(value: Any, parameters: dict[str, str]) -> Any:
    """Resolve Fn::Sub with the pseudo parameters and the template's parameters."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        names = {**PSEUDO, **parameters}
        return re.sub(r"\$\{([^}]+)\}", lambda match: names[match.group(1)], value["Fn::Sub"])
    return value


def resolve(value: Any, parameters: dict[str, str], conditions: dict[str, bool]) -> Any:
    """Resolve Fn::Sub (both forms), Fn::If and Ref with the given parameters and condition values."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        name, then, otherwise = value["Fn::If"]
        return resolve(then if conditions[name] else otherwise, parameters, conditions)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return {**PSEUDO, **parameters}[value["Ref"]]
    if isinstance(value, dict) and set(value) == {"Fn::Select"}:
        index, items = value["Fn::Select"]
        return resolve(items, parameters, conditions)[index]
    if isinstance(value, dict) and set(value) == {"Fn::Split"}:
        separator, text = value["Fn::Split"]
        return resolve(text, parameters, conditions).split(separator)
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, items = value["Fn::Join"]
        return separator.join(resolve(item, parameters, conditions) for item in items)
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], list):
        text, variables = value["Fn::Sub"]
        names = {name: resolve(v, parameters, conditions) for name, v in variables.items()}
        return substitute({"Fn::Sub": text}, {**parameters, **names})
    return substitute(value, parameters)


def defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(p["Default"]) for name, p in template["Parameters"].items()}


@pytest.fixture(autouse=True)
def region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.mark.parametrize("concurrency", ["3", "25"])
def test_schedule_sends_the_warm_up_event_to_the_alias(concurrency: str) -> None:
    output = transformed({"WarmConcurrency": concurrency})
    (schedule,) = [r for r in output["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule"]
    target = schedule["Properties"]["Target"]
    parameters = {**defaults(output), "WarmConcurrency": concurrency}
    conditions = {"GenerateToken": True, "AutoConcurrency": False}
    event = json.loads(resolve(target["Input"], {**parameters, "WarmTokenSecret": SECRET_ARN}, conditions))
    assert event == {"warmer": True, "concurrency": int(concurrency), "token": GENERATED}
    assert target["Arn"] == {"Ref": "ExampleFunctionAliaslive"}
    assert schedule["Properties"]["ScheduleExpression"] == {"Ref": "WarmSchedule"}
    assert schedule["Properties"]["FlexibleTimeWindow"] == {"Mode": "OFF"}
    (policy,) = output["Resources"]["WarmUpScheduleRole"]["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": {"Ref": "ExampleFunctionAliaslive"},
        }
    ]
    assert output["Parameters"]["WarmSchedule"]["Default"] == "rate(5 minutes)"


def statements(output: dict[str, Any]) -> list[dict[str, Any]]:
    role = output["Resources"]["ExampleFunctionRole"]["Properties"]
    found = []
    for policy in role["Policies"]:
        if "Fn::If" in policy:
            condition, then, _ = policy["Fn::If"]
            found += [dict(s, OnlyIf=condition) for s in then["PolicyDocument"]["Statement"]]
        else:
            found += policy["PolicyDocument"]["Statement"]
    return found


def test_the_function_may_invoke_itself_and_nothing_else() -> None:
    output = transformed()
    function = output["Resources"]["ExampleFunction"]["Properties"]
    assert substitute(function["FunctionName"], {}) == f"{STACK}-example"
    invoke = [s for s in statements(output) if "lambda:InvokeFunction" in json.dumps(s["Action"])]
    assert len(invoke) == 1
    assert invoke[0]["Action"] == "lambda:InvokeFunction"
    assert [substitute(r, {}) for r in invoke[0]["Resource"]] == [FUNCTION_ARN, f"{FUNCTION_ARN}:*"]


def test_put_metric_data_is_granted_only_in_that_mode_and_namespace() -> None:
    output = transformed()
    (metrics,) = [s for s in statements(output) if s["Action"] == "cloudwatch:PutMetricData"]
    assert metrics["OnlyIf"] == "UsePutMetricData"
    assert output["Conditions"]["UsePutMetricData"] == {
        "Fn::Equals": [{"Ref": "MetricsMode"}, "put_metric_data"]
    }
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "LambdaWarmer"}}
    actions = {json.dumps(s["Action"]) for s in statements(output)}
    assert actions == {'"lambda:InvokeFunction"', '"cloudwatch:PutMetricData"', '"cloudwatch:GetMetricData"'}
    managed = output["Resources"]["ExampleFunctionRole"]["Properties"]["ManagedPolicyArns"]
    assert managed == ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]  # logs only


def test_layer_and_function_settings() -> None:
    output = transformed()
    (layer,) = [r for r in output["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    assert layer["Properties"]["CompatibleRuntimes"] == list(SUPPORTED_RUNTIMES)
    assert layer["Properties"]["CompatibleArchitectures"] == ["x86_64", "arm64"]
    variables = output["Resources"]["ExampleFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/lambdawarmer-wrapper"
    assert "LayerArn" in output["Outputs"]


def test_the_docs_list_the_supported_runtimes() -> None:
    """layer/runtimes.py is the one list: the publish command in the layer's quick start follows it."""
    readme = (ROOT / "docs" / "getting-started" / "layer.md").read_text()
    assert f"--compatible-runtimes {' '.join(SUPPORTED_RUNTIMES)}" in " ".join(readme.split())


def test_a_token_goes_to_both_the_function_and_the_schedule() -> None:
    token = "s3cr3t-t0ken-0123456789"
    output = transformed({"WarmToken": token})
    assert output["Parameters"]["WarmToken"]["NoEcho"] is True
    assert output["Conditions"]["GenerateToken"] == {"Fn::Equals": [{"Ref": "WarmToken"}, ""]}
    variables = output["Resources"]["ExampleFunction"]["Properties"]["Environment"]["Variables"]
    (schedule,) = [r for r in output["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule"]
    parameters = {**defaults(output), "WarmToken": token, "WarmTokenSecret": SECRET_ARN}
    given = {"GenerateToken": False, "AutoConcurrency": False}
    assert resolve(variables["WARMER_TOKEN"], parameters, given) == token
    event = json.loads(resolve(schedule["Properties"]["Target"]["Input"], parameters, given))
    assert event == {"warmer": True, "concurrency": 3, "token": token}
    pattern = re.compile(output["Parameters"]["WarmToken"]["AllowedPattern"])
    assert pattern.match(token)
    assert pattern.match("")
    assert not pattern.match("short")
    assert not pattern.match('quote"inside-the-token')


def test_by_default_a_token_is_generated_never_a_tokenless_schedule() -> None:
    """The default WarmToken is empty: a Secrets Manager secret is generated and resolved into the
    function's WARMER_TOKEN, the hook's and the schedule's input, the same dynamic reference each."""
    output = transformed({})
    assert output["Parameters"]["WarmToken"]["Default"] == ""
    secret = output["Resources"]["WarmTokenSecret"]
    assert (secret["Type"], secret["Condition"]) == ("AWS::SecretsManager::Secret", "GenerateToken")
    generated = secret["Properties"]["GenerateSecretString"]
    assert (generated["PasswordLength"], generated["ExcludePunctuation"]) == (32, True)
    parameters = {**defaults(output), "WarmTokenSecret": SECRET_ARN}
    conditions = {"GenerateToken": True, "AutoConcurrency": False}
    for function in ("ExampleFunction", "PreTrafficWarmUp"):
        variables = output["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert resolve(variables["WARMER_TOKEN"], parameters, conditions) == GENERATED
    (schedule,) = [r for r in output["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule"]
    event = json.loads(resolve(schedule["Properties"]["Target"]["Input"], parameters, conditions))
    assert event["token"] == GENERATED


def test_auto_concurrency_sends_auto_and_may_read_the_metric_only_then() -> None:
    output = transformed({"WarmConcurrency": "auto"})
    (schedule,) = [r for r in output["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule"]
    parameters = {**defaults(output), "WarmConcurrency": "auto", "WarmTokenSecret": SECRET_ARN}
    event = json.loads(
        resolve(
            schedule["Properties"]["Target"]["Input"],
            parameters,
            {"GenerateToken": True, "AutoConcurrency": True},
        )
    )
    assert event == {"warmer": True, "concurrency": "auto", "token": GENERATED}
    (read,) = [s for s in statements(output) if s["Action"] == "cloudwatch:GetMetricData"]
    assert read["OnlyIf"] == "AutoConcurrency"
    assert output["Conditions"]["AutoConcurrency"] == {"Fn::Equals": [{"Ref": "WarmConcurrency"}, "auto"]}
    pattern = re.compile(output["Parameters"]["WarmConcurrency"]["AllowedPattern"])
    assert [bool(pattern.match(v)) for v in ("auto", "1", "100", "0", "101", "many")] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]


def test_the_alarm_fires_when_rounds_warm_fewer_than_asked_three_periods_running() -> None:
    output = transformed({"RoundAlarm": "on"})
    alarm = output["Resources"]["ShortRoundsAlarm"]
    assert alarm["Condition"] == "CreateRoundAlarm"
    properties = alarm["Properties"]
    assert (properties["EvaluationPeriods"], properties["DatapointsToAlarm"]) == (3, 3)
    assert (properties["ComparisonOperator"], properties["Threshold"]) == ("GreaterThanThreshold", 0)
    metrics = {m["Id"]: m for m in properties["Metrics"]}
    assert metrics["shortfall"]["Expression"] == "requested - warmed"
    assert metrics["requested"]["MetricStat"]["Metric"]["MetricName"] == "InstancesRequested"
    assert metrics["warmed"]["MetricStat"]["Metric"]["MetricName"] == "InstancesWarmed"
    assert output["Conditions"]["CreateRoundAlarm"] == {
        "Fn::And": [{"Fn::Equals": [{"Ref": "RoundAlarm"}, "on"]}, {"Condition": "RoundMetrics"}]
    }


def test_the_dashboard_is_the_one_in_the_repository() -> None:
    output = transformed({"Dashboard": "on"})
    body, variables = output["Resources"]["WarmthDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert json.loads(body) == json.loads((ROOT / "cloudwatch" / "dashboard.json").read_text())
    assert set(variables) == {"FunctionName", "Resource"}
    assert {m[1] for w in json.loads(body)["widgets"] for m in w["properties"]["metrics"]} == {
        "ColdStart",
        "InstancesWarmed",
        "InstancesRequested",
        "InvokesFailed",
        "ConcurrentExecutions",
    }


def _sam(sam: Path, arguments: list[str], source: Path) -> subprocess.CompletedProcess[str]:
    from layer.runtimes import find_interpreter

    python = find_interpreter("python3.13")  # the example function's runtime: sam build needs it on PATH
    environment = {
        **os.environ,
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SAM_CLI_TELEMETRY": "0",
    }
    return subprocess.run(
        [str(sam), *arguments],
        cwd=source,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_sam_validates_and_builds_the_template_with_the_deploy_hook(tmp_path: Path, sam_cli: Path) -> None:
    """``sam validate --lint`` and ``sam build`` on the template as it is: the layer, the example
    function with its alias and DeploymentPreference, and the pre-traffic hook."""
    source = tmp_path / "repo"
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".venv", ".venvs", ".pythons", ".git", "dist", "*cache*")
    )
    validated = _sam(sam_cli, ["validate", "--lint"], source)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "is a valid SAM Template" in validated.stdout + validated.stderr
    built = _sam(sam_cli, ["build"], source)
    assert built.returncode == 0, built.stdout + built.stderr
    template = (source / ".aws-sam" / "build" / "template.yaml").read_text()
    for resource in ("LambdaWarmerLayer", "ExampleFunction", "PreTrafficWarmUp"):
        assert f"{resource}:" in template
    assert (source / ".aws-sam" / "build" / "LambdaWarmerLayer" / "lambdawarmer-wrapper").exists()


def test_the_hook_is_named_for_codedeploy_and_may_do_only_its_job() -> None:
    resources = transformed()["Resources"]
    hook = resources["PreTrafficWarmUp"]["Properties"]
    assert hook["FunctionName"] == {"Fn::Sub": "CodeDeployHook_${AWS::StackName}-prewarm"}
    assert hook["Handler"] == "_lambdawarmer_layer.deploy_hook.handler"
    (version,) = [name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Version"]
    assert hook["Environment"]["Variables"]["WARMER_HOOK_TARGET"] == {"Ref": version}  # the new version
    statements = [
        statement
        for policy in resources["PreTrafficWarmUpRole"]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    application = {"ServerlessDeploymentApplication": "shop-ServerlessDeploymentApplication"}
    granted = {
        statement["Action"]: substitute(statement["Resource"], application) for statement in statements
    }
    assert granted == {
        "lambda:InvokeFunction": f"{FUNCTION_ARN}:*",
        "cloudwatch:GetMetricData": "*",
        "codedeploy:PutLifecycleEventHookExecutionStatus": (
            "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:shop-ServerlessDeploymentApplication/*"
        ),
    }
    (alias,) = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Alias"]
    assert alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["BeforeAllowTrafficHook"] == {
        "Ref": "PreTrafficWarmUp"
    }
    (group,) = [r for r in resources.values() if r["Type"] == "AWS::CodeDeploy::DeploymentGroup"]
    assert group["Properties"]["DeploymentConfigName"]["Fn::Sub"][1] == {"ConfigName": "AllAtOnce"}
    canary = transformed({"DeploymentType": "Canary10Percent5Minutes"})["Resources"]
    (group,) = [r for r in canary.values() if r["Type"] == "AWS::CodeDeploy::DeploymentGroup"]
    assert group["Properties"]["DeploymentConfigName"]["Fn::Sub"][1] == {
        "ConfigName": "Canary10Percent5Minutes"
    }


def test_the_functions_policy_is_what_enable_writes() -> None:
    """One list of what warming needs: the template's statements, every condition true, are
    lambdawarmer_cli.iam's (enable's, the CDK construct's and the Terraform module's too)."""
    from lambdawarmer_cli.iam import self_invoke_policy

    from .test_terraform import normalised

    def plain(value: Any) -> Any:
        return [substitute(item, {}) for item in value] if isinstance(value, list) else substitute(value, {})

    found = [
        {key: plain(value) for key, value in statement.items() if key != "OnlyIf"}
        for statement in statements(transformed())
    ]
    expected = self_invoke_policy(FUNCTION_ARN, metrics_namespace="LambdaWarmer", auto=True)
    assert normalised({"Statement": found}) == normalised(expected)


def test_the_schedules_role_trusts_scheduler_for_that_one_schedule_only() -> None:
    """As the CLI, the CDK and Terraform make it (lambdawarmer_cli.iam.scheduler_trust): the SAM
    transform's own role for a ScheduleV2 event would trust Scheduler with no condition."""
    from lambdawarmer_cli.iam import scheduler_trust

    output = transformed()
    resources = output["Resources"]
    parameters, conditions = defaults(output), {"GenerateToken": True, "AutoConcurrency": False}
    (schedule,) = [r for r in resources.values() if r["Type"] == "AWS::Scheduler::Schedule"]
    assert schedule["Properties"].get("GroupName", "default") == "default"  # no stack owns it
    name = resolve(schedule["Properties"]["Name"], parameters, conditions)
    assert name == f"lambdawarmer.{STACK_UUID}"
    assert schedule["Properties"]["Target"]["RoleArn"] == {"Fn::GetAtt": ["WarmUpScheduleRole", "Arn"]}
    trusting_scheduler = [
        name
        for name, r in resources.items()
        if r["Type"] == "AWS::IAM::Role" and "scheduler.amazonaws.com" in json.dumps(r["Properties"])
    ]
    assert trusting_scheduler == ["WarmUpScheduleRole"]
    trust = resources["WarmUpScheduleRole"]["Properties"]["AssumeRolePolicyDocument"]
    [statement] = trust["Statement"]
    statement["Condition"]["StringEquals"] = {
        key: resolve(value, parameters, conditions)
        for key, value in statement["Condition"]["StringEquals"].items()
    }
    schedule_arn = f"arn:aws:scheduler:us-east-1:123456789012:schedule/default/{name}"
    assert trust == scheduler_trust("123456789012", schedule_arn)
