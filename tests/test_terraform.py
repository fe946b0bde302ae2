"""The Terraform module (terraform/): formatted, valid against the real hashicorp/aws provider's
schema (the machine's local plugin mirror), and planned against moto's server; what it plans is
what ``enable`` makes: the same names, the same IAM documents, the same ping (one list of what
warming needs: lambdawarmer_cli.iam, .names and the layer's own PingFormat)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lambdawarmer.function_ref import FunctionRef
from lambdawarmer.layer_paths import WRAPPER_PATH
from lambdawarmer.protocol import PingFormat
from lambdawarmer.settings import CONCURRENCY_LIMIT
from lambdawarmer_cli.iam import scheduler_policy, scheduler_trust, self_invoke_policy
from lambdawarmer_cli.names import schedule_name, scheduler_role_name, self_invoke_policy_name

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "terraform"
PLUGIN_DIRS = [
    os.environ.get("TF_PLUGIN_DIR", ""),
    "/opt/tf-plugins",
    str(Path.home() / ".terraform.d/plugins"),
]
TOKEN = "0123456789abcdef0123"
ACCOUNT = "123456789012"


def plugin_dir() -> str:
    terraform = shutil.which("terraform")
    found = next(
        (d for d in PLUGIN_DIRS if d and (Path(d) / "registry.terraform.io/hashicorp/aws").is_dir()), None
    )
    if terraform is None or found is None:
        pytest.skip("Terraform or its hashicorp/aws plugin mirror is not on this machine")
    return found


def terraform(*argv: str, cwd: Path) -> str:
    environment = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": "/dev/null",
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    done = subprocess.run(
        ["terraform", *argv, "-no-color"],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


PROVIDER = """
provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  endpoints {{
    iam       = "{url}"
    lambda    = "{url}"
    scheduler = "{url}"
    sts       = "{url}"
  }}
}}
"""

ROOT_CONFIG = """
terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws" }}
  }}
}}
module "warmer" {{
  source              = "{module}"
  function_name       = "{function}"
  qualifier           = {qualifier}
  execution_role_name = "orders-role"
  layer_arn           = "arn:aws:lambda:us-east-1:{account}:layer:lambdawarmer:4"
  concurrency         = "{concurrency}"
  token               = "{token}"
  metrics_mode        = {metrics_mode}
}}
output "layers" {{
  value = module.warmer.layers
}}
output "environment" {{
  value     = module.warmer.environment
  sensitive = true
}}
"""


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
    settings = {"function": "orders", "qualifier": "null", "concurrency": "3", "metrics_mode": "null"}
    config = ROOT_CONFIG.format(module="../module", account=ACCOUNT, token=TOKEN, **settings)
    (work / "root" / "main.tf").write_text(config)
    terraform("init", f"-plugin-dir={plugins}", "-input=false", cwd=work / "root")
    return work


def test_the_module_is_formatted_and_valid_against_the_providers_schema(initialised: Path) -> None:
    terraform("fmt", "-check", "-recursive", str(MODULE), cwd=initialised)
    example = initialised / "example"
    shutil.copytree(MODULE / "examples" / "basic", example)
    (example / "main.tf").write_text((example / "main.tf").read_text().replace('"../.."', '"../module"'))
    terraform("init", f"-plugin-dir={plugin_dir()}", "-input=false", cwd=example)
    terraform("validate", cwd=example)


@pytest.mark.parametrize(
    ("function", "qualifier", "concurrency", "metrics_mode"),
    [
        ("orders", None, "3", None),
        ("orders", "live", "auto", "put_metric_data"),
        ("a-function-whose-name-is-long-enough-to-be-shortened-by-enable", "$LATEST", "7", "emf"),
    ],
)
def test_the_plan_is_what_enable_makes(
    initialised: Path,
    aws: dict[str, Any],
    function: str,
    qualifier: str | None,
    concurrency: str,
    metrics_mode: str | None,
) -> None:
    root = initialised / "root"
    (root / "provider_override.tf").write_text(PROVIDER.format(url=aws["endpoint"]))
    (root / "main.tf").write_text(ROOT_CONFIG.format(
        module="../module", function=function, qualifier=json.dumps(qualifier), account=ACCOUNT,
        concurrency=concurrency, token=TOKEN, metrics_mode=json.dumps(metrics_mode),
    ))  # fmt: skip
    terraform("plan", "-input=false", "-out=plan.out", cwd=root)
    planned = json.loads(terraform("show", "-json", "plan.out", cwd=root))
    resources = {
        resource["address"].removeprefix("module.warmer."): resource["values"]
        for resource in planned["planned_values"]["root_module"]["child_modules"][0]["resources"]
    }
    ref = FunctionRef(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}", qualifier)
    function_arn, target_arn = ref.function, str(ref)
    name = schedule_name(ref)
    schedule_arn = f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/lambdawarmer/{name}"
    auto = concurrency == "auto"
    namespace = "LambdaWarmer" if metrics_mode == "put_metric_data" else None

    assert resources["aws_iam_role_policy.self_invoke"]["name"] == self_invoke_policy_name("us-east-1", ref)
    assert normalised(resources["aws_iam_role_policy.self_invoke"]["policy"]) == normalised(
        self_invoke_policy(function_arn, metrics_namespace=namespace, auto=auto)
    )
    role = resources["aws_iam_role.scheduler"]
    assert role["name"] == scheduler_role_name("us-east-1", ref)
    assert normalised(role["assume_role_policy"]) == normalised(scheduler_trust(ACCOUNT, schedule_arn))
    assert normalised(resources["aws_iam_role_policy.scheduler"]["policy"]) == normalised(
        scheduler_policy(target_arn)
    )
    schedule = resources["aws_scheduler_schedule.ping"]
    assert (schedule["name"], schedule["group_name"]) == (name, "lambdawarmer")
    assert schedule["flexible_time_window"] == [{"maximum_window_in_minutes": None, "mode": "OFF"}]
    [target] = schedule["target"]
    assert target["arn"] == target_arn
    wanted = PingFormat("warmer", "concurrency", CONCURRENCY_LIMIT, TOKEN).scheduled_ping(
        "auto" if auto else int(concurrency)
    )
    assert json.loads(target["input"]) == wanted
    outputs = planned["planned_values"]["outputs"]
    assert outputs["layers"]["value"] == [f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:lambdawarmer:4"]
    environment = outputs["environment"]["value"]
    assert outputs["environment"]["sensitive"] is True
    assert (environment["AWS_LAMBDA_EXEC_WRAPPER"], environment["WARMER_TOKEN"]) == (WRAPPER_PATH, TOKEN)
    assert environment.get("WARMER_METRICS_MODE") == metrics_mode


def test_bad_input_is_refused_naming_what_is_allowed(initialised: Path, aws: dict[str, Any]) -> None:
    root = initialised / "root"
    (root / "main.tf").write_text(ROOT_CONFIG.format(
        module="../module", function="orders", qualifier="null", account=ACCOUNT, concurrency="many",
        token="short", metrics_mode='"logs"',
    ))  # fmt: skip
    environment = {**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null", "TF_IN_AUTOMATION": "1"}
    done = subprocess.run(
        ["terraform", "validate", "-no-color"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0
    for message in (
        'concurrency must be a whole number from 1 to 1000, or "auto"',
        "token must be 16 to 256 characters",
        'metrics_mode must be null, "emf" or "put_metric_data"',
    ):
        assert message in said, said
