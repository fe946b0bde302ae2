"""The function under test, three ways: bare, with our layer, with lambda-warmer-py 0.6.0's decorator.

lambda-warmer-py is installed from PyPI into ``bench/.seed`` for the benchmarks only (it is never a
dependency of the project), and copied into the seed variant's code folder, as its users deploy it.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

from emulator import FunctionSpec
from emulator.packages import install
from lambdawarmer.config import load_config
from lambdawarmer.protocol import PingFormat

BENCH = Path(__file__).resolve().parent
SEED_DIR = BENCH / ".seed"
SEED_REQUIREMENT = "lambda-warmer-py==0.6.0"
IMPLEMENTATIONS = ("bare", "layer", "seed")
PINGS = PingFormat.of(load_config(environ={}))
"""The pings of a function at the default settings (lambda-warmer-py's field names too)."""

HANDLER_BODY = """
def handler(event, context):
    if isinstance(event, dict) and event.get("sleep_ms"):
        time.sleep(event["sleep_ms"] / 1000)
    if isinstance(event, dict) and "barrier" in event:  # held until all the overlapping requests arrived
        open(os.path.join(event["barrier"], context.aws_request_id), "w").close()
        give_up = time.monotonic() + 20
        while len(os.listdir(event["barrier"])) < event["parties"] and time.monotonic() < give_up:
            time.sleep(0.01)
    return {"ok": True}
"""


def install_seed(target: Path) -> Path:
    """lambda-warmer-py 0.6.0 from the registry into ``target`` (its one dependency, boto3, is in every
    runtime); its ``lambdawarmer`` package folder."""
    if not (target / "lambdawarmer" / "__init__.py").exists():
        install(
            Path(sys.executable),
            "--no-deps",
            "--target",
            str(target),
            SEED_REQUIREMENT,
            what=SEED_REQUIREMENT,
        )
    return target / "lambdawarmer"


def ensure_seed() -> Path:
    """lambda-warmer-py 0.6.0 in bench/.seed, for the benchmarks."""
    install_seed(SEED_DIR)
    return SEED_DIR


def make_function(
    implementation: str,
    folder: Path,
    layer_zip: Path,
    metrics: bool = False,
    *,
    memory_mb: int = 1024,
    timeout_s: float = 60,
) -> FunctionSpec:
    """The benchmark function as ``implementation`` deploys it, its code written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    environment: dict[str, str] = {}
    layers: list[Path] = []
    if implementation == "seed":
        shutil.copytree(ensure_seed() / "lambdawarmer", folder / "lambdawarmer", dirs_exist_ok=True)
        source = (
            f"import os, time\nimport lambdawarmer\n\n@lambdawarmer.warmer(send_metric={metrics})"
            + HANDLER_BODY
        )
    else:
        source = "import os, time\n" + HANDLER_BODY
    if implementation == "layer":
        layers = [layer_zip]
        environment = {"AWS_LAMBDA_EXEC_WRAPPER": "/opt/lambdawarmer-wrapper"}
        if metrics:
            environment["WARMER_SEND_METRIC"] = "true"
    (folder / "app.py").write_text(textwrap.dedent(source))
    return FunctionSpec(
        name="bench",
        code=folder,
        handler="app.handler",
        layers=layers,
        environment=environment,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
    )
