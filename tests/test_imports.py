"""``import lambdawarmer`` loads the standard library only: no boto3, no botocore."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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


def test_the_decorator_works_on_the_oldest_python_it_supports(tmp_path: Path) -> None:
    """requires-python is >= 3.9 (the decorator; the layer's runtimes start at 3.10)."""
    python39 = find_python39()
    if python39 is None:
        pytest.skip("no Python 3.9 on this machine")
    script = (
        "import lambdawarmer\n"
        "h = lambdawarmer.warmer(delay=0)(lambda event, context: ['handled', event])\n"
        "class C:\n"
        "    aws_request_id = 'r'\n"
        "    def get_remaining_time_in_millis(self): return 3000\n"
        "assert h([1], C()) == ['handled', [1]]\n"
        "assert h({'warmer': True}, C())['warmed'] is True\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [python39, "-c", script],
        env={"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.stdout.strip() == "ok", result.stderr


def find_python39() -> str | None:
    pyenv = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9.*/bin/python3.9")))
    for candidate in [*pyenv, shutil.which("python3.9")]:
        if (
            candidate
            and subprocess.run([candidate, "-c", ""], capture_output=True, check=False).returncode == 0
        ):
            return candidate
    return None


def test_a_plain_request_loads_nothing_only_a_ping_needs(tmp_path: Path) -> None:
    """The layer's init and a plain request load nothing of what recognising a ping needs (an event
    with none of the trigger fields is let through first); a fanned-out ping adds recognising and
    its report, not the originator's modules; a scheduled ping of 1 adds the originator, not the
    fan-out nor the AWS client."""
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return event\n")
    script = (
        "import json, sys, time\n"
        "from awslambdaric.lambda_context import LambdaContext\n"
        "import lambdawarmer.handler as layer\n"
        "context = LambdaContext('r', None, None, int(time.time() * 1000) + 30000, "
        "'arn:aws:lambda:us-east-1:123456789012:function:orders')\n"
        "loaded = lambda: sorted(m for m in sys.modules if m.startswith('lambdawarmer'))\n"
        "steps = {}\n"
        "layer.handler({'order': 1}, context)\n"
        "steps['request'] = loaded()\n"
        "layer.handler({'__lambdawarmer__': {'index': 2, 'total': 2, 'correlation_id': 'c', "
        "'hold_ms': 0}}, context)\n"
        "steps['fanned-out'] = loaded()\n"
        "layer.handler({'warmer': True, 'concurrency': 1}, context)\n"
        "steps['scheduled'] = loaded()\n"
        "print(json.dumps(steps))\n"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}",
        "LAMBDAWARMER_HANDLER": "app.handler",
        "AWS_LAMBDA_FUNCTION_NAME": "orders",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    steps = json.loads(result.stdout.splitlines()[-1])
    recognising = {
        "lambdawarmer.protocol.pings",
        "lambdawarmer.protocol.proofs",
        "lambdawarmer.protocol.durable",
    }
    ping_only = {
        *recognising,
        "lambdawarmer.protocol.reports",
        "lambdawarmer.protocol.rounds",
        "lambdawarmer.observability",
    }
    originator_only = {"lambdawarmer.originator", "lambdawarmer.tenants", "lambdawarmer.tally"}
    fan_out_only = {"lambdawarmer.fanout", "lambdawarmer.aws", "lambdawarmer.auto"}
    metrics = {"lambdawarmer.metrics"}  # WARMER_SEND_METRIC is off by default
    decorator = {"lambdawarmer.decorator"}  # the layer's handler never uses it, on any path
    assert not set(steps["request"]) & (ping_only | originator_only | fan_out_only | metrics | decorator)
    assert not set(steps["scheduled"]) & decorator
    assert {"lambdawarmer.protocol.pings", "lambdawarmer.protocol.reports"} <= set(steps["fanned-out"])
    assert not set(steps["fanned-out"]) & (originator_only | fan_out_only)
    assert "lambdawarmer.originator" in steps["scheduled"]
    assert not set(steps["scheduled"]) & fan_out_only
