"""The emulator's runtimes: one virtual environment per Python version, with what Lambda's managed
Python runtime provides (awslambdaric and boto3, from requirements-runtime.txt) and nothing else,
so a function sees the packages it would see in Lambda. Made on first use, under ``.venvs/``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .interpreters import PYTHON_RUNTIMES, RuntimeUnavailable, find_interpreter
from .packages import install, new_venv

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements-runtime.txt"
VENVS = Path(os.environ.get("LAMBDA_EMULATOR_VENVS", ROOT / ".venvs"))


def runtime_python(runtime: str) -> Path:
    """The runtime's interpreter (``.venvs/<runtime>/bin/python3.X``), made on first use."""
    venv = VENVS / runtime
    python = venv / "bin" / runtime
    stamp = venv / ".requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    VENVS.mkdir(parents=True, exist_ok=True)
    with open(VENVS / f".{runtime}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one set-up at a time (test workers)
        if not (python.exists() and stamp.exists() and stamp.read_text() == wanted):
            _set_up(runtime, venv, wanted)
    return python


def _set_up(runtime: str, venv: Path, wanted: str) -> None:
    """Make the runtime's venv: its interpreter, and requirements-runtime.txt installed."""
    python = venv / "bin" / runtime
    stamp = venv / ".requirements.sha256"
    interpreter = find_interpreter(runtime)
    shutil.rmtree(venv, ignore_errors=True)
    print(f"emulator: setting up the {runtime} runtime in {venv}", file=sys.stderr)
    new_venv(interpreter, venv, what=f"the {runtime} runtime")
    install(python, "-r", str(REQUIREMENTS), what=f"the {runtime} runtime's {REQUIREMENTS.name}")
    stamp.write_text(wanted)


def prepare_runtimes() -> dict[str, str]:
    """Every runtime this machine has an interpreter for, set up at once (their pip installs
    overlap): ``"ready"``, or why not."""

    def prepare(runtime: str) -> str:
        try:
            runtime_python(runtime)
        except (RuntimeUnavailable, RuntimeError) as missing:
            return str(missing).splitlines()[0]
        return "ready"

    with ThreadPoolExecutor(len(PYTHON_RUNTIMES)) as pool:
        return dict(zip(PYTHON_RUNTIMES, pool.map(prepare, PYTHON_RUNTIMES)))


def available_runtimes() -> dict[str, str]:
    """Each supported runtime: ``"ok"`` or why it is unavailable here."""
    status = {}
    for runtime in PYTHON_RUNTIMES:
        try:
            find_interpreter(runtime)
            status[runtime] = "ok"
        except RuntimeUnavailable as missing:
            status[runtime] = str(missing)
    return status
