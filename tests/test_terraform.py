"""The Terraform module (terraform/): formatted, valid against the real hashicorp/aws provider's
schema (the machine's local plugin mirror), and planned against moto's server; what it plans is
what ``enable`` makes: the same names, the same IAM documents, the same ping (one list of what
warming needs: lambdawarmer_cli.iam, .names and the layer's own PingFormat)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdawarmer.function_ref import FunctionRef
from lambdawarmer.layer_paths import WRAPPER_PATH
from lambdawarmer.protocol import PingFormat
from lambdawarmer.settings import CONCURRENCY_LIMIT
from lambdawarmer_cli.iam import cloudwatch_policy, scheduler_policy, scheduler_trust, self_invoke_permission
from lambdawarmer_cli.names import SCHEDULE_GROUP, schedule_name, scheduler_role_name, self_invoke_policy_name

from .control_plane import code_zip, make_role, run, verdicts


def aws_client(name: str) -> Any:
    return boto3.client(name, region_name="us-east-1")


ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "terraform"
PLUGIN_DIRS = [
    os.environ.get("TF_PLUGIN_DIR", ""),
    "/opt/tf-plugins",
    str(Path.home() / ".terraform.d/plugins"),
]
TOKEN = "0123456789abcdef0123"
ACCOUNT = "123456789012"
LAYER_ZIP = code_zip()
LAYER_SHA256 = hashlib.sha256(LAYER_ZIP).hexdigest()
LAYER_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:lambdawarmer:1"


def plugin_dir() -> str:
    terraform = shutil.which("terraform")
    found = next(
        (d for d in PLUGIN_DIRS if d and (Path(d) / "registry.terraform.io/hashicorp/aws").is_dir()), None
    )
    if terraform is None or found is None:
        pytest.skip("Terraform or its hashicorp/aws plugin mirror is not on this machine")
    return found


def _run(argv: tuple[str, ...], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": "/dev/null",
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        # The provider spends much of its CPU collecting garbage while it decodes its schema: with a
        # larger heap allowed (about 450 MB at most, against 330), this file took 50 to 68 s of CPU
        # instead of 89 (2026-12-07, Terraform 1.11, hashicorp/aws 5.100).
        "GOGC": os.environ.get("GOGC", "400"),
    }
    return subprocess.run(
        ["terraform", *argv, "-no-color"],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def terraform(*argv: str, cwd: Path) -> str:
    """What ``terraform ARGV`` printed, which must succeed."""
    done = _run(argv, cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def refused(*argv: str, cwd: Path) -> str:
    """What ``terraform ARGV`` said (whitespace folded), which must fail."""
    done = _run(argv, cwd)
    assert done.returncode != 0, done.stdout
    return " ".join((done.stdout + done.stderr).split())


PROVIDER = """
provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  endpoints {{
    iam            = "{url}"
    lambda         = "{url}"
    scheduler      = "{url}"
    secretsmanager = "{url}"
    sts            = "{url}"
  }}
}}
"""

REQUIRED_PROVIDERS = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
"""

WARMER = """
module "{name}" {{
  source              = "{module}"
  function_name       = "{function}"
  qualifier           = {qualifier}
  execution_role_name = "orders-role"
  layer_arn           = "{layer_arn}"
  layer_sha256        = "{layer_sha256}"
  concurrency         = "{concurrency}"
  token               = "{token}"
  metrics_mode        = {metrics_mode}
}}
output "{name}_layers" {{
  value = module.{name}.layers
}}
output "{name}_environment" {{
  value     = module.{name}.environment
  sensitive = true
}}
"""


def root_config(**warmers: dict[str, str | None]) -> str:
    """A root configuration holding a module instance per name, each with its own settings
    (``function``, ``qualifier``, ``concurrency``, ``metrics_mode``, ``token``, ``layer_arn``,
    ``layer_sha256``; None is null)."""
    defaults: dict[str, str | None] = {
        "function": "orders",
        "qualifier": None,
        "concurrency": "3",
        "metrics_mode": None,
        "token": TOKEN,
        "layer_arn": LAYER_ARN,
        "layer_sha256": LAYER_SHA256,
    }
    modules = []
    for name, settings in warmers.items():
        values = {**defaults, **settings}
        for nullable in ("qualifier", "metrics_mode"):
            values[nullable] = json.dumps(values[nullable])
        modules.append(WARMER.format(name=name, module="../module", **values))
    return REQUIRED_PROVIDERS + "".join(modules)


CASES = {
    "plain": ("orders", None, "3", None),
    "alias_auto_put_metric_data": ("orders", "live", "auto", "put_metric_data"),
    "long_name_latest_emf": (
        "a-function-whose-name-is-long-enough-to-be-shortened-by-enable",
        "$LATEST",
        "7",
        "emf",
    ),
}
"""(function, qualifier, concurrency, metrics_mode) of each case: one module instance each, planned
together (one plan instead of one a case: each plan loads the provider's whole schema)."""


def normalised(document: Any) -> list[dict[str, Any]]:
    """A policy's statements with every list sorted (IAM reads an action or resource list as a set)."""
    if isinstance(document, str):
        document = json.loads(document)
    statements = []
    for statement in document["Statement"]:
        one = dict(statement)
        for key in ("Action", "Resource"):
            value = one.get(key)
            one[key] = sorted(value) if isinstance(value, list) else [value]
        statements.append(one)
    return sorted(statements, key=json.dumps)


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module copied with a root configuration beside it, initialised from the plugin mirror."""
    plugins = plugin_dir()
    work = tmp_path_factory.mktemp("terraform")
    shutil.copytree(MODULE, work / "module", ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    (work / "root").mkdir()
    (work / "root" / "main.tf").write_text(root_config(**{case: {} for case in CASES}))  # one instance a case
    terraform("init", f"-plugin-dir={plugins}", "-input=false", cwd=work / "root")
    return work


def test_the_module_is_formatted_and_valid_against_the_providers_schema(initialised: Path) -> None:
    terraform("fmt", "-check", "-recursive", str(MODULE), cwd=initialised)
    example = initialised / "example"
    shutil.copytree(MODULE / "examples" / "basic", example)
    (example / "main.tf").write_text((example / "main.tf").read_text().replace('"../.."', '"../module"'))
    terraform("init", f"-plugin-dir={plugin_dir()}", "-input=false", cwd=example)
    terraform("validate", cwd=example)


def published_layer(aws: dict[str, Any], content: bytes = LAYER_ZIP) -> str:
    """A layer version named lambdawarmer in moto holding ``content``; its ARN."""
    return str(
        aws["lambda"].publish_layer_version(LayerName="lambdawarmer", Content={"ZipFile": content})[
            "LayerVersionArn"
        ]
    )


def planned_resources(root: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Each module instance's planned resources (by address within it), and the root's outputs."""
    terraform("plan", "-input=false", "-out=plan.out", cwd=root)
    planned = json.loads(terraform("show", "-json", "plan.out", cwd=root))
    resources = {
        module["address"].removeprefix("module."): {
            resource["address"].removeprefix(f"{module['address']}."): resource["values"]
            for resource in module["resources"]
        }
        for module in planned["planned_values"]["root_module"]["child_modules"]
    }
    return resources, planned["planned_values"]["outputs"]


def test_the_plan_is_what_enable_makes(
    initialised: Path, aws: dict[str, Any], subtests: pytest.Subtests
) -> None:
    root = initialised / "root"
    layer_arn, role_arn = published_layer(aws), make_role(aws)
    (root / "provider_override.tf").write_text(PROVIDER.format(url=aws["endpoint"]))
    (root / "main.tf").write_text(root_config(**{
        name: {"function": function, "qualifier": qualifier, "concurrency": concurrency,
               "metrics_mode": metrics_mode, "layer_arn": layer_arn}
        for name, (function, qualifier, concurrency, metrics_mode) in CASES.items()
    }))  # fmt: skip
    planned, all_outputs = planned_resources(root)
    for case, settings in CASES.items():
        with subtests.test(case=case):
            outputs = {
                key.removeprefix(f"{case}_"): value
                for key, value in all_outputs.items()
                if key.startswith(f"{case}_")
            }
            the_case_is_what_enable_makes(planned[case], outputs, layer_arn, role_arn, *settings)


def the_case_is_what_enable_makes(
    resources: dict[str, Any],
    outputs: dict[str, Any],
    layer_arn: str,
    role_arn: str,
    function: str,
    qualifier: str | None,
    concurrency: str,
    metrics_mode: str | None,
) -> None:
    """One module instance's planned resources and outputs are what ``enable`` makes."""
    ref = FunctionRef(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}", qualifier)
    target_arn = str(ref)
    name = schedule_name(ref)
    schedule_arn = f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/{name}"
    auto = concurrency == "auto"
    namespace = "LambdaWarmer" if metrics_mode == "put_metric_data" else None

    # The fan-out: the function's own resource policy, on the qualifier pinged ($LATEST's is the
    # function's), names the execution role; the role gets only the CloudWatch calls, if any.
    permission = resources["aws_lambda_permission.self_invoke"]
    wanted_permission = self_invoke_permission(function, role_arn)
    assert (permission["statement_id"], permission["action"], permission["principal"]) == (
        wanted_permission["StatementId"],
        wanted_permission["Action"],
        wanted_permission["Principal"],
    )
    assert permission["function_name"] == function
    assert permission["qualifier"] == (None if qualifier in (None, "$LATEST") else qualifier)
    expected_cloudwatch = cloudwatch_policy(metrics_namespace=namespace, auto=auto)
    if expected_cloudwatch is None:
        assert "aws_iam_role_policy.cloudwatch[0]" not in resources
    else:
        policy = resources["aws_iam_role_policy.cloudwatch[0]"]
        assert policy["name"] == self_invoke_policy_name("us-east-1", ref)
        assert normalised(policy["policy"]) == normalised(expected_cloudwatch)
    role = resources["aws_iam_role.scheduler"]
    assert role["name"] == scheduler_role_name("us-east-1", ref)
    assert normalised(role["assume_role_policy"]) == normalised(scheduler_trust(ACCOUNT, schedule_arn))
    assert normalised(resources["aws_iam_role_policy.scheduler"]["policy"]) == normalised(
        scheduler_policy(target_arn)
    )
    schedule = resources["aws_scheduler_schedule.ping"]
    assert (schedule["name"], schedule["group_name"]) == (name, "default")
    assert not any(address.startswith("aws_scheduler_schedule_group") for address in resources)
    assert schedule["flexible_time_window"] == [{"maximum_window_in_minutes": None, "mode": "OFF"}]
    [target] = schedule["target"]
    assert target["arn"] == target_arn
    wanted = PingFormat("warmer", "concurrency", CONCURRENCY_LIMIT, TOKEN).scheduled_ping(
        "auto" if auto else int(concurrency)
    )
    assert json.loads(target["input"]) == wanted
    assert not any("secretsmanager" in address for address in resources)  # the token given is used
    assert outputs["layers"]["value"] == [layer_arn]
    environment = outputs["environment"]["value"]
    assert outputs["environment"]["sensitive"] is True
    assert (environment["AWS_LAMBDA_EXEC_WRAPPER"], environment["WARMER_TOKEN"]) == (WRAPPER_PATH, TOKEN)
    assert environment.get("WARMER_METRICS_MODE") == metrics_mode


def test_bad_input_is_refused_naming_what_is_allowed(initialised: Path, aws: dict[str, Any]) -> None:
    root = initialised / "root"
    bad = {"concurrency": "many", "token": "short", "metrics_mode": "logs", "layer_sha256": "not-a-digest"}
    (root / "main.tf").write_text(root_config(plain=bad))
    said = refused("validate", cwd=root)
    for message in (
        'concurrency must be a whole number from 1 to 1000, or "auto"',
        "token must be 16 to 256 characters",
        'metrics_mode must be null, "emf" or "put_metric_data"',
        "layer_sha256 must be the 64 hexadecimal digits of a sha256",
    ):
        assert message in said, said


TWO_FUNCTIONS = """
terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws" }}
  }}
}}
resource "aws_iam_role" "shared" {{
  name = "shared-role"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{
      Effect = "Allow", Principal = {{ Service = "lambda.amazonaws.com" }}, Action = "sts:AssumeRole"
    }}]
  }})
}}
{modules}
"""

ONE_FUNCTION = """
module "{name}" {{
  source              = "../module"
  function_name       = aws_lambda_function.{name}.function_name
  execution_role_name = aws_iam_role.shared.arn
  layer_arn           = "{layer_arn}"
  {layer_check}
}}
resource "aws_lambda_function" "{name}" {{
  function_name = "{name}"
  role          = aws_iam_role.shared.arn
  handler       = "app.handler"
  runtime       = "python3.13"
  filename      = "${{path.module}}/app.zip"
  layers        = module.{name}.layers
  environment {{
    variables = module.{name}.environment
  }}
}}
"""


def two_functions(root: Path, layer_checks: dict[str, str], layer_arn: str) -> None:
    """A root configuration in ``root`` (made and initialised when new): a function per name, each
    kept warm by a module instance given its layer check, on one shared execution role."""
    new = not root.exists()
    root.mkdir(exist_ok=True)
    (root / "app.zip").write_bytes(code_zip())
    modules = "".join(
        ONE_FUNCTION.format(name=name, layer_arn=layer_arn, layer_check=check)
        for name, check in layer_checks.items()
    )
    (root / "main.tf").write_text(TWO_FUNCTIONS.format(modules=modules))
    if new:
        terraform("init", f"-plugin-dir={plugin_dir()}", "-input=false", cwd=root)


def test_a_layer_whose_content_is_not_the_digest_given_fails_the_plan(
    initialised: Path, aws: dict[str, Any]
) -> None:
    root = initialised / "checked"
    look_alike = published_layer(aws, content=code_zip() + b"\0")  # a layer, not the release's
    # Three instances in one plan (each plan loads the provider's whole schema): the digest that is
    # not the content's and no digest are refused, each once; the explicit opt-out is walked too
    # (Terraform plans every instance and reports every error) and adds none of its own.
    checks = {"orders": f'layer_sha256 = "{LAYER_SHA256}"', "stock": "", "billing": "trust_layer = true"}
    two_functions(root, checks, look_alike)
    (root / "provider_override.tf").write_text(PROVIDER.format(url=aws["endpoint"]))
    done = _run(("plan", "-input=false"), root)
    assert done.returncode != 0, done.stdout
    errors = " ".join(done.stderr.split())
    assert errors.count(f"{look_alike} holds other content than layer_sha256 says") == 1, errors
    assert errors.count("layer_sha256 is not set") == 1, errors
    assert errors.count("Error:") == 2, errors
    assert "module.billing." in done.stdout, done.stdout


def test_two_instances_apply_with_tokens_and_destroying_one_leaves_the_other_and_enables(
    initialised: Path, aws: dict[str, Any]
) -> None:
    """Two module instances (and an ``enable``-made schedule in its own group) in one account and
    region: both apply, each with a generated token; destroying one leaves the rest, and ``status``
    finds the module's schedule."""
    root = initialised / "two"
    scheduler = aws["scheduler"]
    scheduler.create_schedule_group(Name=SCHEDULE_GROUP)
    enabled = schedule_name(FunctionRef("billing"))
    scheduler.create_schedule(
        Name=enabled,
        GroupName=SCHEDULE_GROUP,
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:billing", "RoleArn": make_role(aws)},
    )
    layer_arn = published_layer(aws)
    checked = f'layer_sha256 = "{LAYER_SHA256}"'
    two_functions(root, {"orders": checked, "stock": checked}, layer_arn)
    (root / "provider_override.tf").write_text(PROVIDER.format(url=aws["endpoint"]))
    applied = terraform("apply", "-input=false", "-auto-approve", cwd=root)

    secrets = aws_client("secretsmanager")
    for name in ("orders", "stock"):
        schedule = scheduler.get_schedule(Name=schedule_name(FunctionRef(name)), GroupName="default")
        variables = aws["lambda"].get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        token = json.loads(schedule["Target"]["Input"])["token"]
        assert variables["WARMER_TOKEN"] == token
        assert len(token) == 32
        assert token not in applied  # drawn ephemeral, written write-only: never printed
        assert any(
            secrets.get_secret_value(SecretId=s["ARN"])["SecretString"] == token
            for s in secrets.list_secrets()["SecretList"]
        )
        policy = json.loads(aws["lambda"].get_policy(FunctionName=name)["Policy"])
        principals = [
            s["Principal"] for s in policy["Statement"]
        ]  # moto keeps Lambda's {"AWS": ...} as the ARN
        assert [p if isinstance(p, str) else p["AWS"] for p in principals] == [
            aws["iam"].get_role(RoleName="shared-role")["Role"]["Arn"]
        ]
    assert aws["iam"].list_role_policies(RoleName="shared-role")["PolicyNames"] == []  # nothing grows there
    _, output = run("status", "orders")
    assert verdicts(output)["schedule"] == "OK", output

    terraform("destroy", "-input=false", "-auto-approve", "-target=module.stock", cwd=root)
    left = {(s["GroupName"], s["Name"]) for s in scheduler.list_schedules()["Schedules"]}
    assert left == {("default", schedule_name(FunctionRef("orders"))), (SCHEDULE_GROUP, enabled)}
    assert SCHEDULE_GROUP in {g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]}
