"""``import lambdawarmer`` loads the standard library only: no boto3, no botocore."""

from __future__ import annotations

import subprocess
import sys


def imported_modules(statement: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True, check=True
    )
    return [
        line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
    ]


def test_import_shows_no_boto3_or_botocore() -> None:
    modules = imported_modules("import lambdawarmer")
    assert "lambdawarmer" in modules
    assert not [m for m in modules if m.split(".")[0] in {"boto3", "botocore", "s3transfer", "urllib3"}]


def test_import_loads_only_the_standard_library_and_itself() -> None:
    at_startup = set(imported_modules("pass"))  # site hooks of this interpreter, not ours
    modules = set(imported_modules("import lambdawarmer")) - at_startup
    foreign = {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names | {"lambdawarmer"}}
    assert foreign == set()


def test_import_leaves_the_heavy_standard_modules_alone() -> None:
    """typing, dataclasses (and the inspect they pull in) and concurrent.futures cost milliseconds of init."""
    modules = set(imported_modules("import lambdawarmer"))
    assert not modules & {"typing", "dataclasses", "inspect", "concurrent.futures", "uuid"}
