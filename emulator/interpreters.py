"""Lambda's managed Python runtimes, and where this machine has an interpreter for each.

The one list of runtimes: the emulator runs these, and the layer supports every one of them
(``layer/runtimes.py`` takes it from here; the build, the template, the tests and the docs follow it).
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

PYTHON_RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
"""Lambda's managed Python runtimes (those it no longer supports left out)."""

HOW_TO_INSTALL = "install them with pyenv or uv"
"""Where to get an interpreter this machine lacks (the build and the test run say it)."""


class RuntimeUnavailable(RuntimeError):
    """This machine has no interpreter for the runtime asked for."""


def find_interpreter(runtime: str) -> Path:
    """An interpreter for ``runtime`` (e.g. ``python3.12``): this one, on PATH, installed by pyenv, or
    assembled from Debian's packages (emulator.debian_python; the first time, a download). Looked for
    once per process: a runtime found missing is not looked for again (each test asking for it is
    told at once)."""
    if runtime not in PYTHON_RUNTIMES:
        raise RuntimeUnavailable(f"unknown runtime {runtime!r}; supported: {', '.join(PYTHON_RUNTIMES)}")
    found = _looked_up(runtime)
    if isinstance(found, RuntimeUnavailable):
        raise RuntimeUnavailable(str(found))
    return found


@functools.cache
def _looked_up(runtime: str) -> Path | RuntimeUnavailable:
    try:
        return _look_for(runtime)
    except RuntimeUnavailable as missing:
        return missing


def _look_for(runtime: str) -> Path:
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
    from .debian_python import Unavailable, assembled

    try:
        return assembled(version)
    except Unavailable as why:
        raise RuntimeUnavailable(
            f"no {runtime} interpreter on this machine (looked on PATH and in ~/.pyenv), and {why}"
        ) from None
