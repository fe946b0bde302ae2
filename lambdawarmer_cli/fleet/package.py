"""``python -m lambdawarmer_cli.fleet.package [ZIP]``: the autopilot's code as a Lambda zip.

Writes ``dist/lambdawarmer-autopilot.zip`` (or ZIP): the ``lambdawarmer_cli`` and ``lambdawarmer``
packages, which the handler ``lambdawarmer_cli.fleet.autopilot.handler`` imports (boto3 is the
runtime's). Reproducible: the same sources give the same bytes; prints its path and sha256. Upload
it to the bucket and key ``fleet/autopilot.yaml`` is given.
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("lambdawarmer_cli", "lambdawarmer")
DEFAULT_ZIP = ROOT / "dist" / "lambdawarmer-autopilot.zip"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
HANDLER = "lambdawarmer_cli.fleet.autopilot.handler"


def build(path: Path) -> str:
    """Write the zip to ``path``; its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sources = sorted(
        source
        for package in PACKAGES
        for source in (ROOT / package).rglob("*.py")
        if "__pycache__" not in source.parts
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for source in sources:
            entry = zipfile.ZipInfo(source.relative_to(ROOT).as_posix(), date_time=FIXED_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, source.read_bytes())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT_ZIP
    print(f"{path}  sha256 {build(path)}  handler {HANDLER}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
