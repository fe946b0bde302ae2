"""The exec wrapper, run as a real process: the command it execs reports what it was given."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.service import can_mount_opt
from lambdawarmer.layer_paths import PRIVATE_PACKAGE, WRAPPER_NAME
from layer.build_layer import wrapper_script, write_tree

ROOT = Path(__file__).resolve().parent.parent
OURS = f"{PRIVATE_PACKAGE}.handler.handler"
REPORTER = """import json, os, sys
names = ("_HANDLER", "LAMBDAWARMER_HANDLER", "PYTHONPATH")
print(json.dumps({"argv": sys.argv[1:], "env": {n: os.environ.get(n) for n in names}}))
"""


@pytest.fixture(scope="module")
def wrapper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wrapper as the build ships it (the package name written in), beside no layer."""
    script = tmp_path_factory.mktemp("wrapper") / WRAPPER_NAME
    script.write_bytes(wrapper_script())
    script.chmod(0o755)
    return script


@pytest.fixture
def reporter(tmp_path: Path) -> Path:
    """An executable named like the runtime's interpreter that prints its arguments and environment."""
    script = tmp_path / "reporter.py"
    script.write_text(REPORTER)
    python = tmp_path / "bin" / "python3.12"
    python.parent.mkdir()
    python.write_text(f'#!/bin/sh\nexec {sys.executable} {script} "$@"\n')
    python.chmod(0o755)
    return python


def run(command: list[str], env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        command, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_managed_runtime_form_moves_the_handler(wrapper: Path, reporter: Path) -> None:
    seen = run([str(wrapper), str(reporter), "/var/runtime/bootstrap.py"], {"_HANDLER": "app.handler"})
    assert seen["argv"] == ["/var/runtime/bootstrap.py"]
    env = seen["env"]
    assert isinstance(env, dict)
    assert (env["_HANDLER"], env["LAMBDAWARMER_HANDLER"]) == (OURS, "app.handler")


def test_layer_elsewhere_adds_itself_and_keeps_the_runtimes_layer_folders(
    wrapper: Path, reporter: Path
) -> None:
    """PYTHONPATH unset: setting it would switch off the runtime's /opt folders, so they are listed."""
    seen = run([str(wrapper), str(reporter), "/var/runtime/bootstrap.py"], {"_HANDLER": "app.handler"})
    env = seen["env"]
    assert isinstance(env, dict)
    assert (
        env["PYTHONPATH"] == f"{wrapper.parent}/python:/opt/python/lib/python3.12/site-packages:/opt/python"
    )


def test_an_existing_pythonpath_is_kept_before_ours(wrapper: Path, reporter: Path) -> None:
    """The function's own entries first: a module it imports by a name a layer also has stays its own."""
    seen = run(
        [str(wrapper), str(reporter), "/var/runtime/bootstrap.py"],
        {"_HANDLER": "app.handler", "PYTHONPATH": "/var/task/vendor"},
    )
    env = seen["env"]
    assert isinstance(env, dict)
    assert env["PYTHONPATH"] == f"/var/task/vendor:{wrapper.parent}/python"


def test_container_image_form_rewrites_the_last_argument(wrapper: Path, reporter: Path) -> None:
    seen = run([str(wrapper), str(reporter), "-m", "awslambdaric", "src/app.handler"], {})
    assert seen["argv"] == ["-m", "awslambdaric", OURS]
    env = seen["env"]
    assert isinstance(env, dict)
    assert (env["_HANDLER"], env["LAMBDAWARMER_HANDLER"]) == (None, "src/app.handler")
    assert env["PYTHONPATH"] == f"{wrapper.parent}/python"


@pytest.mark.parametrize("form", ["managed", "container"])
def test_wrapping_twice_changes_nothing_the_second_time(wrapper: Path, reporter: Path, form: str) -> None:
    if form == "managed":
        command, env = [str(reporter), "/var/runtime/bootstrap.py"], {"_HANDLER": "app.handler"}
    else:
        command, env = [str(reporter), "-m", "awslambdaric", "app.handler"], {}
    once = run([str(wrapper), *command], env)
    twice = run([str(wrapper), str(wrapper), *command], env)
    assert twice["env"] == once["env"]
    assert twice["argv"] == once["argv"]


def test_relative_invocation_finds_the_layer_from_its_own_path(reporter: Path, tmp_path: Path) -> None:
    layer = tmp_path / "unpacked"
    write_tree(layer)
    result = subprocess.run(
        ["./lambdawarmer-wrapper", str(reporter), "-m", "awslambdaric", "app.handler"],
        cwd=layer,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["env"]["PYTHONPATH"] == f"{layer}/python"


def test_without_a_handler_nothing_is_rewritten(wrapper: Path, reporter: Path) -> None:
    seen = run([str(wrapper), str(reporter), "/var/runtime/bootstrap.py"], {})
    env = seen["env"]
    assert isinstance(env, dict)
    assert (env["_HANDLER"], env["LAMBDAWARMER_HANDLER"]) == (None, None)


def test_the_command_is_execed_with_its_arguments_intact(wrapper: Path, reporter: Path) -> None:
    odd = ["a b", "", "*", "$HOME", "--", "-m"]
    seen = run([str(wrapper), str(reporter), *odd], {"_HANDLER": "app.handler"})
    assert seen["argv"] == odd


def test_the_wrapper_is_posix_sh_with_set_eu(wrapper: Path) -> None:
    text = wrapper.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert "\nset -eu\n" in text
    dash = shutil.which("dash")
    if dash:
        subprocess.run([dash, "-n", str(wrapper)], check=True)
    assert os.access(wrapper, os.X_OK)


@pytest.mark.skipif(not can_mount_opt(), reason="needs root and unshare to mount a private /opt")
def test_at_opt_the_runtimes_own_layer_handling_is_left_alone(reporter: Path, tmp_path: Path) -> None:
    """In Lambda the layer is at /opt and PYTHONPATH is unset: the wrapper must not set it."""
    layer = tmp_path / "opt"
    write_tree(layer)
    script = 'mount --bind "$1" /opt && shift && exec "$@"'
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(layer)]
    seen = run(
        [*command, "/opt/lambdawarmer-wrapper", str(reporter), "/var/runtime/bootstrap.py"],
        {"_HANDLER": "app.handler"},
    )
    env = seen["env"]
    assert isinstance(env, dict)
    assert env["PYTHONPATH"] is None
    assert env["_HANDLER"] == OURS


def test_the_command_runs_in_the_wrappers_own_process(wrapper: Path, tmp_path: Path) -> None:
    """exec, not a child: the runtime's process is the one Lambda started (and signals)."""
    said = tmp_path / "pid"
    script = f"#!/bin/sh\necho $$ > {said}\n"
    command = tmp_path / "bootstrap"
    command.write_text(script)
    command.chmod(0o755)
    started = subprocess.Popen(
        [str(wrapper), str(command), "/var/runtime/bootstrap.py"], env={"_HANDLER": "a.b"}
    )
    assert started.wait(timeout=30) == 0
    assert said.read_text().strip() == str(started.pid)


def test_another_exec_wrapper_runs_first_and_ours_goes_in_front_of_its_handler(
    wrapper: Path, reporter: Path
) -> None:
    other = ROOT / "tests" / "fixtures" / "other_layer" / "otel-instrument"
    seen = run(
        [str(wrapper), str(reporter), "/var/runtime/bootstrap.py"],
        {"_HANDLER": "app.handler", "WARMER_EXEC_WRAPPER": str(other)},
    )
    assert seen["argv"] == ["/var/runtime/bootstrap.py"]
    env = seen["env"]
    assert isinstance(env, dict)
    assert (env["_HANDLER"], env["LAMBDAWARMER_HANDLER"]) == (OURS, "otel_fixture.handler")
    assert str(other.parent / "python") in str(env["PYTHONPATH"])
