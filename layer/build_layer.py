"""Build the lambdawarmer Lambda layer: a byte-for-byte reproducible zip, or an unpacked tree.

Layout (what Lambda unpacks into /opt):

    lambdawarmer-wrapper          the AWS_LAMBDA_EXEC_WRAPPER script, mode 755
    python/lambdawarmer/*.py      the package (the runtime puts /opt/python on sys.path), mode 644

Standard library only, no third-party code (boto3 is in the Lambda runtime already). The same
sources always give the same sha256: entries sorted, one fixed timestamp, fixed modes.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import stat
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "wrapper" / "lambdawarmer-wrapper"
PACKAGE = ROOT / "lambdawarmer"
NOT_IN_LAYER = {"cli.py", "__main__.py"}  # the command-line tool runs on a laptop, not in the function
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
EXECUTABLE = 0o755
READABLE = 0o644


def layer_files() -> list[tuple[str, Path, int]]:
    """(path in the layer, source file, mode) for every file of the layer, sorted by path."""
    files = [("lambdawarmer-wrapper", WRAPPER, EXECUTABLE)]
    for source in PACKAGE.iterdir():
        wanted = source.suffix == ".py" or source.name == "py.typed"
        if source.is_file() and wanted and source.name not in NOT_IN_LAYER:
            files.append((f"python/lambdawarmer/{source.name}", source, READABLE))
    return sorted(files)


def write_zip(destination: Path) -> None:
    """Write the layer zip to ``destination``."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name, source, mode in layer_files():
            entry = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            entry.create_system = 3  # Unix, so that the modes below are honoured
            entry.external_attr = (stat.S_IFREG | mode) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, source.read_bytes(), compresslevel=9)
    partial.replace(destination)


def write_tree(destination: Path) -> None:
    """Write the layer unpacked into ``destination`` (what `sam build` zips itself)."""
    for name, source, mode in layer_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        target.chmod(mode)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--zip", type=Path, help="write the layer zip here")
    where.add_argument("--tree", type=Path, help="write the unpacked layer into this folder")
    arguments = parser.parse_args(argv)
    if arguments.tree:
        write_tree(arguments.tree)
        print(f"layer tree: {arguments.tree}")
        return 0
    write_zip(arguments.zip)
    data = arguments.zip.read_bytes()
    print(f"layer zip: {arguments.zip}")
    print(f"size:      {len(data):,} bytes")
    print(f"sha256:    {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
