"""The command-line tool, end to end against the emulator's Invoke API with the real layer attached."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emulator import FunctionSpec, LambdaEmulator
from emulator.tls import ca_bundle

from .conftest import lambda_client, layered_spec, write_function

Start = Callable[..., LambdaEmulator]
ROOT = Path(__file__).resolve().parent.parent
WRAPPER_ENV = {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper"}
PLAIN = "def handler(event, context):\n    return {'plain': True}\n"
SLOW = "import time\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return 'ok'\n"


def cli(*arguments: str, endpoint: str | None = None, env: dict[str, str] | None = None) -> tuple[int, str]:
    environment = {
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CA_BUNDLE": str(ca_bundle()),  # the emulator's Invoke API is HTTPS, as Lambda's is
        **({"AWS_ENDPOINT_URL_LAMBDA": endpoint} if endpoint else {}),
        **(env or {}),
    }
    result = subprocess.run(
        [sys.executable, "-m", "lambdawarmer_cli", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def orders(code: Path, layer_zip: Path, **extra: Any) -> FunctionSpec:
    """``orders`` with the layer, version 1 and its alias ``live``."""
    return FunctionSpec(
        name="orders",
        code=code,
        handler="app.handler",
        layers=[layer_zip],
        environment=WRAPPER_ENV,
        timeout_s=30,
        versions=["1"],
        aliases={"live": "1"},
        **extra,
    )


@pytest.fixture
def layered(start_emulator: Start, tmp_path: Path, layer_zip: Path) -> LambdaEmulator:
    return start_emulator(orders(write_function(tmp_path / "code", PLAIN), layer_zip))


@pytest.mark.parametrize("concurrency", [1, 3, 5])
def test_ping_counts_k_of_n_and_exits_0_when_all_are_warm(layered: LambdaEmulator, concurrency: int) -> None:
    status, output = cli("ping", "orders", "--concurrency", str(concurrency), endpoint=layered.url)
    assert status == 0, output
    assert f"instances warm   {concurrency} of {concurrency}" in output
    assert f"cold among them  {concurrency} (started by this ping)" in output
    assert "OK: all instances warm" in output
    assert len(layered.all_environments) == concurrency


def test_ping_through_a_qualifier_and_as_json(layered: LambdaEmulator) -> None:
    status, output = cli(
        "ping", "orders", "--qualifier", "live", "--concurrency", "2", "--json", endpoint=layered.url
    )
    assert status == 0, output
    report = json.loads(output)
    assert (report["instances_warmed"], report["invocations_failed"]) == (2, 0)
    assert {i.qualifier for i in layered.invocations} == {"live"}


def test_fewer_warm_than_asked_exits_1_and_says_why(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    code = write_function(tmp_path / "code", PLAIN)
    environment = {**WRAPPER_ENV, "WARMER_MAX_CONCURRENCY": "2"}
    function = FunctionSpec(
        name="orders", code=code, handler="app.handler", layers=[layer_zip], environment=environment
    )
    emulator = start_emulator(function)
    status, output = cli("ping", "orders", "--concurrency", "4", endpoint=emulator.url)
    assert status == 1
    assert "instances warm   2 of 4" in output
    assert "capped the ping at 2" in output


def test_a_missing_function_exits_3_with_a_clear_message(layered: LambdaEmulator) -> None:
    status, output = cli("ping", "no-such-function", endpoint=layered.url)
    assert status == 3
    assert "not found: no function no-such-function in us-east-1: check the name, the qualifier" in output
    assert "ResourceNotFoundException" in output


def test_a_function_without_lambdawarmer_exits_4(start_emulator: Start, tmp_path: Path) -> None:
    code = write_function(tmp_path / "code", PLAIN)
    emulator = start_emulator(FunctionSpec(name="orders", code=code, handler="app.handler"))
    status, output = cli("ping", "orders", endpoint=emulator.url)
    assert status == 4
    assert "not a lambdawarmer report" in output
    assert "AWS_LAMBDA_EXEC_WRAPPER=/opt/lambdawarmer-wrapper" in output


def test_a_throttled_function_exits_3(start_emulator: Start, tmp_path: Path, layer_zip: Path) -> None:
    code = write_function(tmp_path / "code", SLOW)
    function = FunctionSpec(
        name="orders", code=code, handler="app.handler", layers=[layer_zip], environment=WRAPPER_ENV
    )
    emulator = start_emulator(function, concurrency=1)
    busy = threading.Thread(
        target=lambda: lambda_client(emulator).invoke(FunctionName="orders", Payload=b'{"sleep": 3}')
    )
    busy.start()
    while not emulator.all_environments:
        threading.Event().wait(0.05)
    status, output = cli("ping", "orders", endpoint=emulator.url)
    busy.join()
    assert status == 3
    assert "throttled" in output


def test_access_denied_exits_3(invoke_api: Callable[..., object]) -> None:
    from .conftest import error_answer

    api = invoke_api(lambda call: error_answer(403, "AccessDeniedException", "not authorized"))
    status, output = cli("ping", "orders", endpoint=api.url)  # type: ignore[attr-defined]
    assert status == 3
    assert "access denied" in output


def test_several_functions_at_once_one_line_each(layered: LambdaEmulator, tmp_path: Path) -> None:
    listing = tmp_path / "functions.txt"
    listing.write_text("# more functions\norders:live\nmissing  # gone\n")
    status, output = cli("ping", "orders", "--file", str(listing), "--concurrency", "2", endpoint=layered.url)
    lines = output.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("orders  2/2 warm")
    assert lines[0].endswith("OK")
    assert lines[1].startswith("orders:live  2/2 warm")
    assert lines[2].startswith("missing  FAILED  not found")
    assert status == 3  # the worst of them


def test_config_shows_the_effective_settings(tmp_path: Path) -> None:
    status, output = cli("config", env={"WARMER_DELAY": "150", "WARMER_SEND_METRIC": "yes"})
    assert status == 0
    assert "WARMER_DELAY                 150             environment" in output
    assert "WARMER_SEND_METRIC           true            environment" in output
    assert 'WARMER_FLAG                  "warmer"        default' in output


def test_config_reports_every_error_and_unknown_variables(tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text(
        "# production\nexport WARMER_DELAY=abc\nWARMER_SEND_METRIC='maybe'\nWARMER_DELAYY=5\n"
    )
    status, output = cli("config", "--env-file", str(env_file))
    assert status == 1
    assert "error: invalid setting WARMER_DELAY='abc': expected a whole number of milliseconds" in output
    assert "error: invalid setting WARMER_SEND_METRIC='maybe': expected true or false" in output
    assert "WARMER_DELAYY is not a lambdawarmer setting (did you mean WARMER_DELAY?)" in output


def test_the_command_is_installed_as_a_console_script() -> None:
    script = Path(sys.executable).parent / "lambdawarmer"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip().startswith("lambdawarmer ")


def test_ping_needs_a_function() -> None:
    status, output = cli("ping")
    assert status == 2
    assert "name at least one function" in output


def test_config_shows_the_handler_chain_with_another_exec_wrapper(tmp_path: Path) -> None:
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper",
        "WARMER_EXEC_WRAPPER": "/opt/otel-instrument",
    }
    status, output = cli("config", env=env)
    assert status == 0
    chain = output.split("handler chain, outermost first:\n")[1].splitlines()
    assert chain[0] == "  1. /opt/lambdawarmer-wrapper (AWS_LAMBDA_EXEC_WRAPPER)"
    assert chain[1].startswith("  2. /opt/otel-instrument (WARMER_EXEC_WRAPPER")
    assert chain[2].startswith("  3. lambdawarmer: answers warm-up pings")
    assert "fan-out read timeout: 20075 ms" in output


def test_config_says_how_to_keep_an_exec_wrapper_already_there() -> None:
    status, output = cli("config", env={"AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument"})
    assert status == 0
    assert "keep yours as WARMER_EXEC_WRAPPER=/opt/otel-instrument" in output


def test_config_follows_a_handler_redirecting_layer() -> None:
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper",
        "_HANDLER": "datadog_lambda.handler.handler",
        "DD_LAMBDA_HANDLER": "app.handler",
    }
    status, output = cli("config", env=env)
    assert status == 0
    assert "  3. datadog_lambda.handler.handler" in output
    assert "  4. app.handler (DD_LAMBDA_HANDLER: run by the Datadog handler)" in output


def test_ping_sends_the_token_of_a_tokened_function(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    token = "cli-token-0123456789abc"
    code = write_function(tmp_path / "code", PLAIN)
    emulator = start_emulator(layered_spec(code, layer_zip, WARMER_TOKEN=token))
    status, output = cli("ping", "orders", "--concurrency", "2", endpoint=emulator.url)
    assert status == 4, output  # without the token the ping is a normal event, answered by the handler
    status, output = cli("ping", "orders", "--concurrency", "2", "--token", token, endpoint=emulator.url)
    assert status == 0, output
    status, output = cli(
        "ping",
        "orders",
        "--concurrency",
        "2",
        "--token-from-env",
        endpoint=emulator.url,
        env={"WARMER_TOKEN": token},
    )
    assert status == 0, output
    assert token not in output
    status, output = cli("ping", "orders", "--token-from-env", endpoint=emulator.url)
    assert status == 2
    assert "WARMER_TOKEN is not set" in output


def test_config_masks_the_token() -> None:
    status, output = cli("config", env={"WARMER_TOKEN": "never-shown-0123456789"})
    assert status == 0
    assert "never-shown" not in output
    assert "WARMER_TOKEN                 <hidden, 22 characters>  environment" in output


def test_ping_auto_shows_the_chosen_n(
    start_emulator: Start, tmp_path: Path, layer_zip: Path, cloudwatch_endpoint: str
) -> None:
    from .control_plane import emptied
    from .test_rounds import seed

    seed(emptied(cloudwatch_endpoint), traffic={4: 3}, pings={2: 9})
    code = write_function(tmp_path / "code", PLAIN)
    emulator = start_emulator(layered_spec(code, layer_zip, AWS_ENDPOINT_URL_CLOUDWATCH=cloudwatch_endpoint))
    status, output = cli("ping", "orders", "--concurrency", "auto", endpoint=emulator.url)
    assert status == 0, output
    assert (
        "auto: 3, from a peak of 3.0 concurrent executions in the last 1440 minutes (1 warm-up minute(s)"
        in output
    )
    assert "instances warm   3 of 3" in output
    status, output = cli("ping", "orders", "--concurrency", "many", endpoint=emulator.url)
    assert status == 2
    assert "expected a whole number from 1 to 1000, or 'auto'" in output


# -- what a newcomer meets -----------------------------------------------------------------------------


def run_module(
    *argv: str, stdin_pipe: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=env,
        input=stdin_pipe,
    )


def test_a_typo_in_an_option_names_the_option_meant() -> None:
    result = run_module("-m", "lambdawarmer_cli", "enable", "orders", "--concurency", "3")
    assert result.returncode == 2
    assert "unknown option --concurency: did you mean --concurrency?" in result.stderr
    assert "required" not in result.stderr


@pytest.mark.parametrize("command", ["ping", "config", "enable", "disable", "status", "cost", "publish"])
def test_every_commands_help_names_its_exit_statuses(command: str) -> None:
    from lambdawarmer_cli.exit_status import COMMAND_MEANINGS, COMMAND_STATUSES, MEANINGS

    result = run_module("-m", "lambdawarmer_cli", command, "--help")
    assert result.returncode == 0
    assert "exit statuses" in result.stdout
    for code in COMMAND_STATUSES[command]:
        meaning = COMMAND_MEANINGS.get(command, {}).get(code, MEANINGS[code])
        assert f"{code:>2}  {meaning}" in result.stdout
    assert "``" not in result.stdout  # no reStructuredText for users


def test_without_boto3_the_command_says_what_to_install() -> None:
    """Installed without the [cli] extra: one line and status 2, not a double traceback."""
    probe = (
        "import sys; sys.modules['boto3'] = None; sys.modules['botocore'] = None\n"
        "from lambdawarmer_cli.main import main\n"
        "sys.exit(main(['ping', 'orders']))"
    )
    result = run_module("-c", probe)
    assert result.returncode == 2, result.stderr
    assert "pip install 'lambdawarmer[cli]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_closed_pipe_ends_the_command_quietly() -> None:
    """``lambdawarmer cost ... | head -1``: as command-line tools do, no BrokenPipeError."""
    shell = f"{sys.executable} -m lambdawarmer_cli cost --memory 128 --concurrency 3 | head -1"
    result = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.stdout.startswith("3 environments of 128 MB")
    assert "Traceback" not in result.stderr
    assert "BrokenPipeError" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["/no/such/folder", "--handler", "app.handler"], "no such folder"),
        (
            ["example", "--handler", "app.handler", "--memory", "5"],
            "--memory 5: Lambda allows 128 to 10240 MB",
        ),
        (
            ["example", "--handler", "app.handler", "--layer", "README.md"],
            "--layer README.md: not a zip file",
        ),
        (
            ["example", "--handler", "app.handler", "--runtime", "python2.7"],
            "--runtime 'python2.7': expected one of",
        ),
        (["example", "--handler", "apphandler"], "expected module.function"),
    ],
)
def test_the_emulator_refuses_what_cannot_run(argv: list[str], says: str) -> None:
    result = run_module("-m", "emulator", "serve", *argv)
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_config_knows_the_deploy_hooks_variables(tmp_path: Path) -> None:
    """The hook's own WARMER_HOOK_* are not "not a lambdawarmer setting"."""
    env_file = tmp_path / "hook.env"
    env_file.write_text(
        "WARMER_HOOK_TARGET=arn:aws:lambda:us-east-1:123456789012:function:orders:7\nWARMER_HOOK_ALIAS=live\n"
    )
    result = run_module("-m", "lambdawarmer_cli", "config", "--env-file", str(env_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is not a lambdawarmer setting" not in result.stdout
    assert re.search(r"WARMER_HOOK_CONCURRENCY +1 +default", result.stdout), result.stdout
    assert re.search(r"WARMER_HOOK_ALIAS +\"live\" +environment", result.stdout), result.stdout
    # checked with the hook's own checks (one table, config.SETTINGS), not only recognised
    env_file.write_text("WARMER_HOOK_ALIAS=live\nWARMER_HOOK_CONCURRENCY=0\n")
    result = run_module("-m", "lambdawarmer_cli", "config", "--env-file", str(env_file))
    assert result.returncode == 1, result.stdout  # INVALID_SETTINGS
    assert "WARMER_HOOK_CONCURRENCY='0': expected a whole number from 1 to 1000" in result.stdout
    assert "WARMER_HOOK_TARGET is not set: expected the new version's ARN" in result.stdout
    # a function that is not the hook shows none of the hook's settings
    env_file.write_text("WARMER_DELAY=100\n")
    result = run_module("-m", "lambdawarmer_cli", "config", "--env-file", str(env_file))
    assert result.returncode == 0, result.stdout
    assert "WARMER_HOOK" not in result.stdout


def test_ping_says_when_its_instances_are_provisioned_concurrencys(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    """Provisioned Concurrency's environments take an alias's invokes first and were initialised ahead
    of demand: a ping at or below that level warms nothing more, and none of them is a cold start."""
    code = write_function(tmp_path / "code", PLAIN)
    emulator = start_emulator(orders(code, layer_zip, provisioned={"live": 2}))
    status, output = cli("ping", "orders:live", "--concurrency", "2", "--json", endpoint=emulator.url)
    report = json.loads(output)
    assert (status, report["instances_warmed"], report["instances_provisioned"]) == (0, 2, 2), output
    assert (report["initialization"], report["instances_cold"]) == ("provisioned-concurrency", 0)
    assert {invocation.environment_id for invocation in emulator.invocations} == {"env-001", "env-002"}
    status, output = cli("ping", "orders:live", "--concurrency", "3", endpoint=emulator.url)
    assert status == 0, output
    assert "provisioned      2 of them Provisioned Concurrency's (warm anyway); the rest on-demand" in output
    _, output = cli("ping", "orders:live", "--concurrency", "2", endpoint=emulator.url)
    assert "a ping at or below the provisioned level warms nothing more" in output
