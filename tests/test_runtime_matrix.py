"""The suite on a machine with one Python (a bare PATH, no ~/.pyenv, Debian's packages out of reach):
the runtimes it lacks are skipped with their reason and named at the end; on CI
(LAMBDAWARMER_FULL_MATRIX=1) a missing runtime fails the run before any test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.runtimes import runtime_python
from layer.runtimes import SUPPORTED_RUNTIMES

from .runtime_matrix import FULL_MATRIX_SWITCH, HOW_TO_GET_THEM

ROOT = Path(__file__).resolve().parent.parent
BARE_PATH = "/usr/local/bin:/usr/bin:/bin"
THIS = f"python{sys.version_info.major}.{sys.version_info.minor}"


def one_python(tmp_path: Path, **more: str) -> dict[str, str]:
    """A laptop's environment: a bare PATH, an empty HOME (no ~/.pyenv), no assembled interpreters and
    a Debian mirror that refuses at once (no network); the emulator's runtime for this Python only."""
    home, venvs = tmp_path / "home", tmp_path / "venvs"
    home.mkdir(exist_ok=True)
    venvs.mkdir(exist_ok=True)
    if not (venvs / THIS).exists():  # this runtime's environment as made here; none for the others
        (venvs / THIS).symlink_to(runtime_python(THIS).parents[1])
    return {
        "PATH": f"{Path(sys.executable).parent}:{BARE_PATH}",  # this .venv, as ./test.sh puts it first
        "HOME": str(home),
        "LAMBDA_EMULATOR_PYTHONS": str(tmp_path / "no-pythons"),
        "LAMBDA_EMULATOR_DEBIAN_MIRROR": "http://127.0.0.1:9",
        "LAMBDA_EMULATOR_VENVS": str(venvs),
        **more,
    }


def not_here() -> list[str]:
    """The runtimes such a machine lacks: all but this one and those on the bare PATH."""
    return [r for r in SUPPORTED_RUNTIMES if r != THIS and shutil.which(r, path=BARE_PATH) is None]


def pytest_in(
    environment: dict[str, str], tmp_path: Path, *arguments: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "t"),
            *arguments,
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_with_one_python_the_suite_collects_and_names_what_is_not_here(tmp_path: Path) -> None:
    missing = not_here()
    collected = pytest_in(one_python(tmp_path), tmp_path, "--collect-only", "-q")
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    last = collected.stdout.strip().splitlines()[-1]
    here = [r for r in SUPPORTED_RUNTIMES if r not in missing]
    expected = f"runtimes tested: {', '.join(here)}"
    if missing:
        expected += f"; not here: {', '.join(missing)} ({HOW_TO_GET_THEM})"
    assert last == expected


def test_with_one_python_a_missing_runtime_is_skipped_saying_why_and_the_rest_runs(
    tmp_path: Path,
) -> None:
    """The end-to-end test on every runtime: the layer built (bytecode for this Python, source for the
    others), this Python's run passes, each missing one is skipped saying why."""
    missing = not_here()
    ran = pytest_in(
        one_python(tmp_path),
        tmp_path,
        "tests/test_e2e.py::test_a_ping_warms_without_running_the_handler",
        "-rs",
    )
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output[-4000:]
    assert (f"1 passed, {len(missing)} skipped" if missing else "1 passed in") in output
    for runtime in missing:
        assert f"runtime not here: no {runtime} interpreter on this machine" in output, output[-4000:]


def test_on_the_full_matrix_a_missing_runtime_fails_the_run_before_any_test(tmp_path: Path) -> None:
    missing = not_here()
    if not missing:
        pytest.skip("every runtime is on the bare PATH here: none can be missing")
    environment = one_python(tmp_path, **{FULL_MATRIX_SWITCH: "1"})
    ran = pytest_in(environment, tmp_path, "--collect-only", "-q", "tests/test_e2e.py")
    assert ran.returncode == 4, ran.stdout[-2000:] + ran.stderr[-2000:]
    assert f"{FULL_MATRIX_SWITCH}=1: every runtime must be tested" in ran.stderr
    for runtime in missing:
        assert f"  {runtime}: no {runtime} interpreter on this machine" in ran.stderr


def test_ci_runs_the_full_matrix() -> None:
    assert f"export {FULL_MATRIX_SWITCH}=1" in (ROOT / ".ci" / "run").read_text()
    release = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    assert f'{FULL_MATRIX_SWITCH}: "1"' in release
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
