"""Which Lambda runtimes the suite runs on here (pytest hooks, imported by conftest.py).

A runtime this machine has no interpreter for is skipped with its reason wherever a test needs it,
the run's header and its last line name what ran and what was not here. ``LAMBDAWARMER_FULL_MATRIX=1``
(set by ``.ci/run``) makes a missing runtime a failure instead, before any test runs.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

from emulator import RuntimeUnavailable, available_runtimes
from emulator.interpreters import HOW_TO_INSTALL

FULL_MATRIX_SWITCH = "LAMBDAWARMER_FULL_MATRIX"
HOW_TO_GET_THEM = f"{HOW_TO_INSTALL} for the full matrix"
_found = pytest.StashKey[dict[str, str]]()


def full_matrix() -> bool:
    """Whether every runtime must be here (CI)."""
    return os.environ.get(FULL_MATRIX_SWITCH) == "1"


def runtimes_line(found: dict[str, str], said: str = "runtimes tested") -> str:
    """``runtimes tested: ...; not here: ... (how to get them)``, from :func:`available_runtimes`."""
    here = [runtime for runtime, status in found.items() if status == "ok"]
    line = f"{said}: {', '.join(here) or 'none'}"
    missing = [runtime for runtime, status in found.items() if status != "ok"]
    if missing:
        line += f"; not here: {', '.join(missing)} ({HOW_TO_GET_THEM})"
    return line


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # a test worker: its controller looks, once
    found = available_runtimes()
    config.stash[_found] = found
    missing = {runtime: why for runtime, why in found.items() if why != "ok"}
    if missing and full_matrix():
        reasons = "\n".join(f"  {runtime}: {why}" for runtime, why in missing.items())
        raise pytest.UsageError(
            f"{FULL_MATRIX_SWITCH}=1: every runtime must be tested, and these are not here:\n{reasons}"
        )


def pytest_report_header(config: pytest.Config) -> str | None:
    found = config.stash.get(_found, None)
    return None if found is None else runtimes_line(found, "runtimes here")


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's last line, after pytest's count of the tests."""
    found = config.stash.get(_found, None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if found is not None and reporter is not None:
        reporter.write_line(runtimes_line(found))


def _skipped_unless_full_matrix(missing: RuntimeUnavailable) -> None:
    if not full_matrix():
        pytest.skip(f"runtime not here: {missing}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except RuntimeUnavailable as missing:
        _skipped_unless_full_matrix(missing)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except RuntimeUnavailable as missing:
        _skipped_unless_full_matrix(missing)
        raise
