"""Installing packages from the registry into an interpreter's environment, for the emulator's
runtimes, the suite's one-time installs and the benchmarks: uv (a requirement of the development
environment), not pip. On 2 cores, the development environment took 14 s with uv and 29 s with pip,
and the suite's installs into five runtimes 155 s of CPU with pip.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class InstallFailed(RuntimeError):
    """The install failed; the message holds the command and what uv said."""


def install(python: Path, *arguments: str, what: str, timeout_s: float = 900) -> None:
    """``uv pip install ARGUMENTS`` for ``python`` (its environment, or ``--target DIR``), without
    bytecode (each module is compiled when first imported); :class:`InstallFailed` naming ``what``."""
    from uv import find_uv_bin

    command = [find_uv_bin(), "pip", "install", "--quiet", "--python", str(python), *arguments]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout_s)
    if done.returncode != 0:
        raise InstallFailed(f"installing {what} failed: {' '.join(command)}\n{done.stdout}{done.stderr}")


def new_venv(python: Path, venv: Path, *, what: str) -> None:
    """An empty virtual environment at ``venv`` for ``python`` (no pip in it: :func:`install` fills
    it), made anew."""
    command = [str(python), "-m", "venv", "--clear", "--without-pip", str(venv)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InstallFailed(f"setting up {what} failed: {' '.join(command)}\n{done.stdout}{done.stderr}")
