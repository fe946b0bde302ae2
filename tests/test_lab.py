"""The lab as docs/getting-started/try-locally.md shows it: its shell lines pasted whole work (the
wait included), ``lab.env`` is there only while the lab is ready, and nothing leaves the machine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

METRIC = """
import boto3, datetime
cloudwatch = boto3.client("cloudwatch")
cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[{
    "MetricName": "ConcurrentExecutions", "Value": 2, "Unit": "Count",
    "Dimensions": [{"Name": "FunctionName", "Value": "example"}],
    "Timestamp": datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)}])
"""


def documented_lines() -> list[str]:
    """The page's ``bash`` block, as a reader pastes it (less ``./build.sh``: the fixture built it)."""
    text = (ROOT / "docs" / "getting-started" / "try-locally.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block is not None
    lines = block.group(1).splitlines()
    assert lines[0].startswith("./build.sh"), lines[0]
    return lines[1:]


def test_the_documented_sequence_pasted_whole_runs_wholly_in_the_lab(layer_zip: Path, tmp_path: Path) -> None:
    """Pasted whole, in a shell whose AWS settings point elsewhere (an unreachable CloudWatch, a
    profile that does not exist, configured endpoints ignored): the wait ends when the lab is ready,
    ``ping --concurrency auto`` is decided from the lab's CloudWatch (the peak put there), and
    ``lab.env`` is gone once the lab is stopped."""
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "lambdawarmer-layer.zip").write_bytes(layer_zip.read_bytes())
    (tmp_path / "example").symlink_to(ROOT / "example")
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    script = "\n".join(
        [
            "set -e",
            *documented_lines(),
            "test -s lab.env",
            "lambdawarmer enable example --concurrency 2 --publish dist/lambdawarmer-layer.zip --yes",
            f"python -c '{METRIC}'",
            "lambdawarmer ping example --concurrency auto --token-from-env --json > ping.json",
            "kill %1",
            "wait || true",
            "test ! -e lab.env",
        ]
    )
    elsewhere = {
        "AWS_ENDPOINT_URL_CLOUDWATCH": "http://127.0.0.1:9",
        "AWS_PROFILE": "no-such-profile",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
        "AWS_SESSION_TOKEN": "a-real-session",
    }
    env = {
        **os.environ,
        **elsewhere,
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "lab ready" in result.stdout
    report = json.loads((tmp_path / "ping.json").read_text())
    assert (report["auto"]["peak"], report["auto"]["fallback"], report["instances_warmed"]) == (2, None, 2)
    assert not list(tmp_path.glob(".lab.env*")), "a partial lab.env was left behind"


def test_without_an_env_file_the_lab_prints_the_lines_to_source(layer_zip: Path) -> None:
    """The lines it prints unset what would lead away from the lab and export every endpoint."""
    from layer.lab import example_lab, shell_lines

    lab, environment = example_lab(layer_zip, ROOT / "example")
    with lab:
        lines = shell_lines(environment).splitlines()
    assert lines[0] == "unset AWS_PROFILE AWS_SESSION_TOKEN AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
    exported = dict(line.removeprefix("export ").split("=", 1) for line in lines[1:])
    for service in ("LAMBDA", "IAM", "SCHEDULER", "CLOUDWATCH", "STS", "SSM"):
        assert exported[f"AWS_ENDPOINT_URL_{service}"] == exported["AWS_ENDPOINT_URL"]
    assert exported["WARMER_TOKEN"]
