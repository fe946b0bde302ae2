"""Build the lambdawarmer Lambda layer: a byte-for-byte reproducible zip, or an unpacked tree.

Layout (what Lambda unpacks into /opt):

    lambdawarmer-wrapper                        the AWS_LAMBDA_EXEC_WRAPPER script, mode 755
    python/lambdawarmer/*.py                    the package (the runtime puts /opt/python on sys.path)
    python/lambdawarmer/__pycache__/*.pyc       its bytecode for each Python 3.10-3.14 on this machine

/opt is read-only in Lambda, so without bytecode in the layer every cold start would compile the
package again (~7 ms). The .pyc files are "unchecked-hash" ones, valid whatever the files' times
after unpacking; a Python whose bytecode is missing compiles the source as usual. Standard library
only, no third-party code (boto3 is in the Lambda runtime already). The same sources on the same
machine always give the same sha256: entries sorted, one fixed timestamp, fixed modes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.runtimes import SUPPORTED, RuntimeUnavailable, find_interpreter  # noqa: E402

WRAPPER = ROOT / "wrapper" / "lambdawarmer-wrapper"
PACKAGE = ROOT / "lambdawarmer"
NOT_IN_LAYER = {"cli.py", "__main__.py"}  # the command-line tool runs on a laptop, not in the function
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
EXECUTABLE = 0o755
READABLE = 0o644


COMPILE = """
import importlib.util, pathlib, py_compile, sys
for source in sorted(pathlib.Path(sys.argv[1]).glob("*.py")):
    py_compile.compile(
        str(source),
        cfile=importlib.util.cache_from_source(str(source)),
        dfile=f"/opt/python/lambdawarmer/{source.name}",
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
"""


def _sources() -> dict[str, bytes]:
    return {
        source.name: source.read_bytes()
        for source in sorted(PACKAGE.iterdir())
        if source.is_file()
        and (source.suffix == ".py" or source.name == "py.typed")
        and source.name not in NOT_IN_LAYER
    }


def _bytecode(sources: dict[str, bytes]) -> dict[str, bytes]:
    """``__pycache__/<module>.cpython-3XX.pyc`` for every supported Python this machine has."""
    compiled: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for name, data in sources.items():
            (folder / name).write_bytes(data)
        for runtime in SUPPORTED:
            try:
                interpreter = find_interpreter(runtime)
            except RuntimeUnavailable:
                continue
            # A fixed hash seed: set and frozenset constants are marshalled in hash order.
            environment = {**os.environ, "PYTHONHASHSEED": "0"}
            subprocess.run([str(interpreter), "-c", COMPILE, str(folder)], env=environment, check=True)
        for pyc in sorted((folder / "__pycache__").glob("*.pyc")):
            compiled[f"__pycache__/{pyc.name}"] = pyc.read_bytes()
    return compiled


def layer_files() -> list[tuple[str, bytes, int]]:
    """(path in the layer, content, mode) for every file of the layer, sorted by path."""
    files = [("lambdawarmer-wrapper", WRAPPER.read_bytes(), EXECUTABLE)]
    sources = _sources()
    for name, data in {**sources, **_bytecode(sources)}.items():
        files.append((f"python/lambdawarmer/{name}", data, READABLE))
    return sorted(files)


def write_zip(destination: Path) -> None:
    """Write the layer zip to ``destination``."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name, data, mode in layer_files():
            entry = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            entry.create_system = 3  # Unix, so that the modes below are honoured
            entry.external_attr = (stat.S_IFREG | mode) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data, compresslevel=9)
    partial.replace(destination)


def write_tree(destination: Path) -> None:
    """Write the layer unpacked into ``destination`` (what `sam build` zips itself)."""
    for name, data, mode in layer_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
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
