"""The Lambda Python runtimes the layer supports: the one list the build, the template, the tests,
the emulator and the README follow (a test checks the template and the README against it).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

SUPPORTED_RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13", "python3.14")

WITHOUT_BYTECODE = ("python3.14",)
"""Runtimes the layer ships as source only, by default: no registry the build machines reach offers a
CPython 3.14, and the zip must not depend on the machine. Their functions compile the layer's
source at each cold start (/opt is read-only): a few ms more, nothing else."""


class RuntimeUnavailable(RuntimeError):
    """This machine has no interpreter for the runtime asked for."""


def find_interpreter(runtime: str) -> Path:
    """An interpreter for ``runtime`` (e.g. ``python3.12``): this one, on PATH, or installed by pyenv."""
    if runtime not in SUPPORTED_RUNTIMES:
        raise RuntimeUnavailable(f"unknown runtime {runtime!r}; supported: {', '.join(SUPPORTED_RUNTIMES)}")
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
