"""The emulator's runtimes: one virtual environment per Python version, with what Lambda's managed
Python runtime provides (awslambdaric and boto3, from requirements-runtime.txt) and nothing else,
so a function sees the packages it would see in Lambda. Made on first use, under ``.venvs/``.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements-runtime.txt"
VENVS = Path(os.environ.get("LAMBDA_EMULATOR_VENVS", ROOT / ".venvs"))
SUPPORTED = ("python3.10", "python3.11", "python3.12", "python3.13", "python3.14")


class RuntimeUnavailable(RuntimeError):
    """This machine has no interpreter for the runtime asked for."""


def find_interpreter(runtime: str) -> Path:
    """An interpreter for ``runtime`` (e.g. ``python3.12``): on PATH, or installed by pyenv."""
    if runtime not in SUPPORTED:
        raise RuntimeUnavailable(f"unknown runtime {runtime!r}; supported: {', '.join(SUPPORTED)}")
    version = runtime.removeprefix("python")
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return Path(sys.executable)
    pyenv = sorted(
        glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/{runtime}")), reverse=True
    )
    for candidate in [shutil.which(runtime), *pyenv]:
        if (
            candidate
            and subprocess.run([candidate, "-c", ""], capture_output=True, check=False).returncode == 0
        ):
            return Path(candidate)
    raise RuntimeUnavailable(f"no {runtime} interpreter on this machine (looked on PATH and in ~/.pyenv)")


def runtime_python(runtime: str) -> Path:
    """The runtime's interpreter (``.venvs/<runtime>/bin/python3.X``), made on first use."""
    venv = VENVS / runtime
    python = venv / "bin" / runtime
    stamp = venv / ".requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    interpreter = find_interpreter(runtime)
    shutil.rmtree(venv, ignore_errors=True)
    print(f"emulator: setting up the {runtime} runtime in {venv}", file=sys.stderr)
    for command in (
        [str(interpreter), "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
    ):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            output = done.stdout + done.stderr
            raise RuntimeError(f"setting up {runtime} failed: {' '.join(command)}\n{output}")
    stamp.write_text(wanted)
    return python


def available_runtimes() -> dict[str, str]:
    """Each supported runtime: ``"ok"`` or why it is unavailable here."""
    status = {}
    for runtime in SUPPORTED:
        try:
            find_interpreter(runtime)
            status[runtime] = "ok"
        except RuntimeUnavailable as missing:
            status[runtime] = str(missing)
    return status
