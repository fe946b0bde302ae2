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


UV_CONFIGURATION = "uv reads none of pip's configuration: see docs/contributing.md, Set-up behind a proxy"
"""Where to read what to set when an install fails that pip's own configuration made work."""


def install(python: Path, *arguments: str, what: str, timeout_s: float = 900) -> None:
    """``uv pip install ARGUMENTS`` for ``python`` (its environment, or ``--target DIR``), without
    bytecode (each module is compiled when first imported), trusting the system's certificates as pip
    does; :class:`InstallFailed` naming ``what`` (uv missing, failing or past ``timeout_s``)."""
    try:
        from uv import find_uv_bin
    except ImportError:
        raise InstallFailed(f"installing {what} needs uv (requirements-dev.txt; ./test.sh has it)") from None
    command = [find_uv_bin(), "pip", "install", "--quiet", "--system-certs", "--python", str(python)]
    command += arguments
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise InstallFailed(f"installing {what} took over {timeout_s:.0f} s: {' '.join(command)}") from None
    if done.returncode != 0:
        raise InstallFailed(
            f"installing {what} failed: {' '.join(command)}\n{done.stdout}{done.stderr}({UV_CONFIGURATION})"
        )


def new_venv(python: Path, venv: Path, *, what: str) -> None:
    """An empty virtual environment at ``venv`` for ``python`` (no pip in it: :func:`install` fills
    it), made anew."""
    command = [str(python), "-m", "venv", "--clear", "--without-pip", str(venv)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InstallFailed(f"setting up {what} failed: {' '.join(command)}\n{done.stdout}{done.stderr}")
