"""The exec wrapper, run as a real process: the command it execs reports what it was given."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from emulator.service import can_mount_opt
from lambdawarmer.layer_paths import PRIVATE_PACKAGE, WRAPPER_NAME
from layer.build_layer import wrapper_script, write_tree

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = Path(tempfile.mkdtemp(prefix="lambdawarmer-wrapper-")) / WRAPPER_NAME
"""The wrapper as the build ships it (the package name written in), beside no layer."""
WRAPPER.write_bytes(wrapper_script())
WRAPPER.chmod(0o755)
OURS = f"{PRIVATE_PACKAGE}.handler.handler"
REPORTER = """import json, os, sys
names = ("_HANDLER", "LAMBDAWARMER_HANDLER", "PYTHONPATH")
print(json.dumps({"argv": sys.argv[1:], "env": {n: os.environ.get(n) for n in names}}))
"""


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


def test_managed_runtime_form_moves_the_handler(reporter: Path) -> None:
    seen = run([str(WRAPPER), str(reporter), "/var/runtime/bootstrap.py"], {"_HANDLER": "app.handler"})
    assert seen["argv"] == ["/var/runtime/bootstrap.py"]
    env = seen["env"]
    assert isinstance(env, dict)
    assert (env["_HANDLER"], env["LAMBDAWARMER_HANDLER"]) == (OURS, "app.handler")


def test_layer_elsewhere_adds_itself_and_keeps_the_runtimes_layer_folders(reporter: Path) -> None:
    """PYTHONPATH unset: setting it would switch off the runtime's /opt folders, so they are listed."""
    seen = run([str(WRAPPER), str(reporter), "/var/runtime/bootstrap.py"], {"_HANDLER": "app.handler"})
    env = seen["env"]
    assert isinstance(env, dict)
    assert (
        env["PYTHONPATH"] == f"{WRAPPER.parent}/python:/opt/python/lib/python3.12/site-packages:/opt/python"
    )


def test_an_existing_pythonpath_is_kept_before_ours(reporter: Path) -> None:
    """The function's own entries first: a module it imports by a name a layer also has stays its own."""
    seen = run(
        [str(WRAPPER), str(reporter), "/var/runtime/bootstrap.py"],
        {"_HANDLER": "app.handler", "PYTHONPATH": "/var/task/vendor"},
    )
    env = seen["env"]
    assert isinstance(env, dict)
    assert env["PYTHONPATH"] == f"/var/task/vendor:{WRAPPER.parent}/python"


def test_container_image_form_rewrites_the_last_argument(reporter: Path) -> None:
    seen = run([str(WRAPPER), str(reporter), "-m", "awslambdaric", "src/app.handler"], {})
    assert seen["argv"] == ["-m", "awslambdaric", OURS]
    env = seen["env"]
    assert isinstance(env, dict)
    assert (env["_HANDLER"], env["LAMBDAWARMER_HANDLER"]) == (None, "src/app.handler")
    assert env["PYTHONPATH"] == f"{WRAPPER.parent}/python"


@pytest.mark.parametrize("form", ["managed", "container"])
def test_wrapping_twice_changes_nothing_the_second_time(reporter: Path, form: str) -> None:
    if form == "managed":
        command, env = [str(reporter), "/var/runtime/bootstrap.py"], {"_HANDLER": "app.handler"}
    else:
        command, env = [str(reporter), "-m", "awslambdaric", "app.handler"], {}
    once = run([str(WRAPPER), *command], env)
    twice = run([str(WRAPPER), str(WRAPPER), *command], env)
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


def test_without_a_handler_nothing_is_rewritten(reporter: Path) -> None:
    seen = run([str(WRAPPER), str(reporter), "/var/runtime/bootstrap.py"], {})
    env = seen["env"]
    assert isinstance(env, dict)
    assert (env["_HANDLER"], env["LAMBDAWARMER_HANDLER"]) == (None, None)


def test_the_command_is_execed_with_its_arguments_intact(reporter: Path) -> None:
    odd = ["a b", "", "*", "$HOME", "--", "-m"]
    seen = run([str(WRAPPER), str(reporter), *odd], {"_HANDLER": "app.handler"})
    assert seen["argv"] == odd


def test_the_wrapper_is_posix_sh_with_set_eu() -> None:
    text = WRAPPER.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert "\nset -eu\n" in text
    dash = shutil.which("dash")
    if dash:
        subprocess.run([dash, "-n", str(WRAPPER)], check=True)
    assert os.access(WRAPPER, os.X_OK)


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


def test_wrapper_start_time_is_reported(reporter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not a timed assertion: prints the cost of going through the wrapper (bench/ has the figures)."""
    true = shutil.which("true") or "/bin/true"
    runs = 50
    started = time.perf_counter()
    for _ in range(runs):
        subprocess.run([str(WRAPPER), true, "/var/runtime/bootstrap.py"], env={"_HANDLER": "a.b"}, check=True)
    through = (time.perf_counter() - started) / runs
    started = time.perf_counter()
    for _ in range(runs):
        subprocess.run([true, "/var/runtime/bootstrap.py"], check=True)
    bare = (time.perf_counter() - started) / runs
    with capsys.disabled():
        print(f"\n  wrapper start: {(through - bare) * 1000:.2f} ms over a bare exec ({runs} runs)")


def test_another_exec_wrapper_runs_first_and_ours_goes_in_front_of_its_handler(reporter: Path) -> None:
    other = ROOT / "tests" / "fixtures" / "other_layer" / "otel-instrument"
    seen = run(
        [str(WRAPPER), str(reporter), "/var/runtime/bootstrap.py"],
        {"_HANDLER": "app.handler", "WARMER_EXEC_WRAPPER": str(other)},
    )
    assert seen["argv"] == ["/var/runtime/bootstrap.py"]
    env = seen["env"]
    assert isinstance(env, dict)
    assert (env["_HANDLER"], env["LAMBDAWARMER_HANDLER"]) == (OURS, "otel_fixture.handler")
    assert str(other.parent / "python") in str(env["PYTHONPATH"])
