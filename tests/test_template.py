"""template.yaml: passes cfn-lint; its SAM transform schedules the warm-up event and scopes IAM."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode.cfn_yaml import load
from samtranslator.parser import parser
from samtranslator.translator.translator import Translator

from layer.runtimes import SUPPORTED_RUNTIMES

ROOT = Path(__file__).resolve().parent.parent
STACK = "shop"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": STACK,
}
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{STACK}-example"


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), str(ROOT / "template.yaml")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def transformed(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    template = json.loads(json.dumps(load(str(ROOT / "template.yaml"))))
    resources = template["Resources"]
    resources["LambdaWarmerLayer"]["Properties"]["ContentUri"] = "s3://bucket/layer.zip"
    resources["ExampleFunction"]["Properties"]["CodeUri"] = "s3://bucket/example.zip"
    translator = Translator(managed_policy_map={}, sam_parser=parser.Parser())
    return translator.translate(sam_template=template, parameter_values=parameters or {})  # type: ignore[no-any-return]


def substitute(value: Any, parameters: dict[str, str]) -> Any:
    """Resolve Fn::Sub with the pseudo parameters and the template's parameters."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        names = {**PSEUDO, **parameters}
        return re.sub(r"\$\{([^}]+)\}", lambda match: names[match.group(1)], value["Fn::Sub"])
    return value


def defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(p["Default"]) for name, p in template["Parameters"].items()}


@pytest.fixture(autouse=True)
def region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.mark.parametrize("concurrency", ["3", "25"])
def test_schedule_sends_the_warm_up_event_to_the_alias(concurrency: str) -> None:
    output = transformed({"WarmConcurrency": concurrency})
    (rule,) = [r for r in output["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    (target,) = rule["Properties"]["Targets"]
    condition, _, without = target["Input"]["Fn::If"]
    assert condition == "HasToken"
    event = json.loads(substitute(without, {**defaults(output), "WarmConcurrency": concurrency}))
    assert event == {"warmer": True, "concurrency": int(concurrency)}
    assert target["Arn"] == {"Ref": "ExampleFunctionAliaslive"}
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "WarmSchedule"}
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
    assert actions == {'"lambda:InvokeFunction"', '"cloudwatch:PutMetricData"'}
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


def test_the_readme_lists_the_supported_runtimes() -> None:
    """layer/runtimes.py is the one list: the publish command in the README follows it."""
    readme = (ROOT / "README.md").read_text()
    assert f"--compatible-runtimes {' '.join(SUPPORTED_RUNTIMES)}" in " ".join(readme.split())


def test_a_token_goes_to_both_the_function_and_the_schedule() -> None:
    token = "s3cr3t-t0ken-0123456789"
    output = transformed({"WarmToken": token})
    assert output["Parameters"]["WarmToken"]["NoEcho"] is True
    assert output["Parameters"]["WarmToken"]["Default"] == ""
    assert output["Conditions"]["HasToken"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "WarmToken"}, ""]}]}
    variables = output["Resources"]["ExampleFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["WARMER_TOKEN"] == {
        "Fn::If": ["HasToken", {"Ref": "WarmToken"}, {"Ref": "AWS::NoValue"}]
    }
    (rule,) = [r for r in output["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    _, with_token, _ = rule["Properties"]["Targets"][0]["Input"]["Fn::If"]
    event = json.loads(substitute(with_token, {**defaults(output), "WarmToken": token}))
    assert event == {"warmer": True, "concurrency": 3, "token": token}
    pattern = re.compile(output["Parameters"]["WarmToken"]["AllowedPattern"])
    assert pattern.match(token)
    assert pattern.match("")
    assert not pattern.match("short")
    assert not pattern.match('quote"inside-the-token')
