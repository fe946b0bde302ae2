"""Installs from the registry into an interpreter's environment, by uv.

For the emulator's runtimes, the suite's one-time installs and the benchmarks: uv (a requirement of
the development environment), not pip. In CI on a fresh clone (2 cores, no cache), the development
environment took 17 s with uv where it took 29 s with pip, and pytest started at 47 s instead of 100 s:
pip's installs into five runtimes had taken 155 s of CPU beside ruff and mypy.
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
