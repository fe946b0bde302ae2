"""What the suite installs from the registry once, beside the project (never into it): the SAM CLI
(``.venvs/sam``) and the observability libraries (``.venvs/observability/<runtime>/<digest>``).

Each install holds a lock while it runs, so whoever comes second waits for it instead of installing
again: ``./test.sh`` starts them all in the background (``python -m tests.installs``) while ruff and
mypy run, and a test that needs one (the ``sam_cli`` fixture, tests/test_observability.py) waits for
it, or installs it itself when the suite is run without ``./test.sh``.
"""

from __future__ import annotations

import fcntl
import hashlib
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from emulator import available_runtimes, runtime_python
from emulator.packages import install, new_venv
from emulator.runtimes import VENVS
from layer.runtimes import SUPPORTED_RUNTIMES

SAM_REQUIREMENT = "aws-sam-cli==1.170.0"
"""The SAM CLI the template tests run (in an environment of its own: it pins its own boto3)."""

POWERTOOLS_V3 = ("aws-lambda-powertools==3.37.0", "aws-xray-sdk==2.15.0")
POWERTOOLS_V2 = ("aws-lambda-powertools==2.43.1", "aws-xray-sdk==2.15.0")
DATADOG = ("datadog-lambda==8.130.0",)
NEW_RELIC = ("newrelic-lambda==1.0.0",)
LUMIGO = ("lumigo-tracer==1.1.257",)
EPSAGON = ("epsagon==1.82.0",)
OBSERVABILITY = (POWERTOOLS_V3, POWERTOOLS_V2, DATADOG, NEW_RELIC, LUMIGO, EPSAGON)
"""The observability libraries tests/test_observability.py runs, each a folder of its own per runtime."""

OBSERVABILITY_HOME = VENVS / "observability"
LIBRARY_RUNTIMES = (SUPPORTED_RUNTIMES[0], SUPPORTED_RUNTIMES[-1])
"""The runtimes every library runs on: the oldest and the newest supported. What they meet is the
layer's code, the same on every runtime (tests/test_e2e.py runs the layer on each); run on all five,
the libraries took about 50 s of the suite's CPU, and 30 installs."""
THIS_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
"""The runtime of the suite's own Python, which the tests of one library's special case use."""


@contextmanager
def _locked(lock: Path) -> Iterator[None]:
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # released when the file closes
        yield


def sam_cli() -> Path:
    """``sam``, installed into ``.venvs/sam`` (about 240 MB) the first time; reused after, offline.
    Without bytecode: the two commands the tests run compile what they import."""
    venv = VENVS / "sam"
    sam, stamp = venv / "bin" / "sam", venv / ".requirement"
    with _locked(VENVS / ".sam.lock"):
        if not (sam.exists() and stamp.exists() and stamp.read_text() == SAM_REQUIREMENT):
            new_venv(Path(sys.executable), venv, what=SAM_REQUIREMENT)
            install(venv / "bin" / "python", SAM_REQUIREMENT, what=SAM_REQUIREMENT)
            stamp.write_text(SAM_REQUIREMENT)
    return sam


def observability_library(runtime: str, requirements: tuple[str, ...]) -> Path:
    """The folder holding ``requirements`` for ``runtime``, installed the first time."""
    wanted = hashlib.sha256("\n".join(requirements).encode()).hexdigest()
    folder = OBSERVABILITY_HOME / runtime / wanted[:16]
    stamp = folder / ".requirements.sha256"
    with _locked(folder.parent / f"{wanted[:16]}.lock"):
        if not (stamp.exists() and stamp.read_text() == wanted):
            what = f"{' '.join(requirements)} for {runtime}"
            install(runtime_python(runtime), "--target", str(folder), *requirements, what=what)
            stamp.write_text(wanted)
    return folder


def observability_libraries() -> None:
    """Every observability library for the runtimes they are tested on (those found here), 4 installs
    at a time (the first ones each on another runtime, whose venv it may have to make first)."""
    found = available_runtimes()
    runtimes = [name for name in dict.fromkeys((*LIBRARY_RUNTIMES, THIS_RUNTIME)) if found.get(name) == "ok"]
    pairs = [(runtime, requirements) for requirements in OBSERVABILITY for runtime in runtimes]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda pair: observability_library(*pair), pairs))


def main() -> int:
    """Everything, at once; prints what failed (a test needing it tries again, and says why)."""
    with ThreadPoolExecutor(2) as pool:
        jobs = {
            "the SAM CLI": pool.submit(sam_cli),
            "the observability libraries": pool.submit(observability_libraries),
        }
    failed = 0
    for what, job in jobs.items():
        error = job.exception()
        if error is not None:
            failed += 1
            print(f"tests.installs: {what}: {error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
