"""Errors that lead: each says the likely cause and what to do, in one line, with no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from emulator import FunctionSpec, LambdaEmulator
from emulator.tls import ca_bundle

from .conftest import write_function
from .control_plane import run

ROOT = Path(__file__).resolve().parent.parent
PLAIN = "def handler(event, context):\n    return {'plain': True}\n"
EVERY_COMMAND_WITH_A_REGION = [
    ["ping", "orders"],
    ["status", "orders"],
    ["enable", "orders", "--concurrency", "2", "--dry-run"],
    ["disable", "orders", "--dry-run"],
    ["cost", "orders", "--history"],
    ["publish", "LAYER_ZIP"],
]


def command(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The command run as a user runs it, with only ``env`` (no profile, no instance metadata)."""
    nowhere = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/nonexistent",
        "AWS_CONFIG_FILE": "/nonexistent/config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # never AWS
    }
    return subprocess.run(
        [sys.executable, "-m", "lambdawarmer_cli", *argv],
        env={**nowhere, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


@pytest.mark.parametrize("argv", EVERY_COMMAND_WITH_A_REGION[:4], ids=lambda argv: argv[0])
def test_no_region_is_one_line_naming_region_and_aws_region(argv: list[str]) -> None:
    result = command(*argv, env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    said = result.stdout + result.stderr
    assert result.returncode == 3, said
    assert "no AWS region: pass --region REGION, or set AWS_REGION" in said
    assert "Traceback" not in said
    assert "NoRegionError" not in said


@pytest.mark.parametrize("argv", EVERY_COMMAND_WITH_A_REGION[:4], ids=lambda argv: argv[0])
def test_no_credentials_is_one_line_naming_where_they_come_from(argv: list[str]) -> None:
    result = command(*argv, env={"AWS_REGION": "us-east-1"})
    said = result.stdout + result.stderr
    assert result.returncode == 3, said
    assert "no AWS credentials found: pass --profile NAME (or set AWS_PROFILE), set AWS_ACCESS_KEY_ID" in said
    assert "Traceback" not in said


@pytest.mark.parametrize("argv", EVERY_COMMAND_WITH_A_REGION, ids=lambda argv: argv[0])
def test_a_region_that_does_not_exist_is_refused_by_every_command(argv: list[str], layer_zip: Path) -> None:
    argv = [str(layer_zip) if word == "LAYER_ZIP" else word for word in argv]
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    for where, env in (([*argv, "--region", "mars-1"], keys), (argv, {**keys, "AWS_REGION": "mars-1"})):
        result = command(*where, env=env)
        assert result.returncode == 2, result.stderr
        assert "'mars-1': not a region that offers Lambda" in result.stderr
    result = command(*argv, "--region", "eu-west-9", env=keys)
    assert "did you mean eu-west-" in result.stderr


@pytest.mark.parametrize("name", ["nosuch", "nosuch:live"])
def test_a_missing_function_is_said_alike_by_ping_status_enable_and_disable(
    aws: dict[str, Any], lambda_router: Any, name: str
) -> None:
    """Each names the function, the qualifier and the region looked in, as ``ping`` does."""
    qualifier = " (qualifier live)" if ":" in name else ""
    expected = f"no function nosuch{qualifier} in us-east-1: check the name, the qualifier and the region"
    for argv in (["ping", name], ["status", name], ["enable", name, "--concurrency", "2", "--dry-run"]):
        status, output = run(*argv)
        assert (status, expected in output) == (3, True), (argv, output)
    status, output = run("disable", name, "--dry-run")
    assert (status, expected in output) == (3, True), output


@pytest.mark.parametrize(
    ("token", "cause"),
    [
        ([], "the ping carried no token"),
        (["--token", "not-its-token"], "the token sent is not its WARMER_TOKEN"),
    ],
)
def test_a_ping_without_the_functions_token_says_the_token_is_the_likely_cause(
    start_emulator: Any, tmp_path: Path, layer_zip: Path, token: list[str], cause: str
) -> None:
    code = write_function(tmp_path / "code", PLAIN)
    environment = {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper",
        "WARMER_TOKEN": "its-own-token-0123",
    }
    function = FunctionSpec("orders", code, "app.handler", layers=[layer_zip], environment=environment)
    emulator: LambdaEmulator = start_emulator(function)
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
    env = {**keys, "AWS_ENDPOINT_URL_LAMBDA": emulator.url, "AWS_CA_BUNDLE": str(ca_bundle())}
    result = command("ping", "orders", *token, env=env)
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"most likely because {cause}" in result.stdout
    assert "send the function's token with --token-from-env (WARMER_TOKEN in this shell)" in result.stdout
    assert "not-its-token" not in result.stdout
    result = command("ping", "orders", "--token-from-env", env={**env, "WARMER_TOKEN": "its-own-token-0123"})
    assert result.returncode == 0, result.stdout


def test_publishs_help_has_its_own_exit_statuses() -> None:
    result = command("publish", "--help", env={})
    assert "exit statuses:\n" in result.stdout  # one layer zip, not several functions
    assert "0  published (or already there) in every region asked" in result.stdout
    assert "5  a region failed, the others are done and kept: run the same command again" in result.stdout
    assert "N of N" not in result.stdout
