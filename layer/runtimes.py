"""The Lambda Python runtimes the layer supports: every one Lambda offers (``emulator/interpreters.py``
holds the list, which the build, the template, the tests, the emulator and the docs follow), and
those it ships as source only.
"""

from __future__ import annotations

from emulator.interpreters import HOW_TO_INSTALL, PYTHON_RUNTIMES, RuntimeUnavailable, find_interpreter

SUPPORTED_RUNTIMES = PYTHON_RUNTIMES

WITHOUT_BYTECODE: tuple[str, ...] = ()
"""Runtimes the layer ships as source only, by default: none. An interpreter a machine lacks is
found or assembled by ``emulator.interpreters`` (python3.14 from Debian's packages); a runtime
left out on purpose (``--no-bytecode-for``) has its functions compile the layer's source at each
cold start (/opt is read-only): a few ms more, nothing else."""

__all__ = [
    "HOW_TO_INSTALL",
    "SUPPORTED_RUNTIMES",
    "WITHOUT_BYTECODE",
    "RuntimeUnavailable",
    "find_interpreter",
]
