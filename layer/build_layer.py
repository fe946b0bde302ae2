"""Build the lambdawarmer Lambda layer: a byte-for-byte reproducible zip, or an unpacked tree.

Layout (what Lambda unpacks into /opt):

    lambdawarmer-wrapper                          the AWS_LAMBDA_EXEC_WRAPPER script, mode 755
    lambdawarmer-layer.json                       the zip's account of itself: version, runtimes
    python/_lambdawarmer_layer/**/*.py            the runtime package (lambdawarmer/), whole, under the
                                                  layer's private name: the handler the wrapper points the
                                                  runtime at, and its engine
    python/lambdawarmer/__init__.py               ``import lambdawarmer`` for decorator users: the same
                                                  package under its public name
    python/**/__pycache__/*.cpython-3XX.pyc       bytecode for every supported runtime

The private name (``PRIVATE_PACKAGE`` in lambdawarmer/layer_paths.py, written by the build into the
wrapper's handler setting): a deployment package that vendors its own ``lambdawarmer``
(lambda-warmer-py, another version of ours) comes first on sys.path and keeps its
``import lambdawarmer``, while the layer's handler still loads from the layer.

/opt is read-only in Lambda, so without bytecode in the layer every cold start would compile the
package again (~7 ms). The .pyc files are "checked-hash" ones, valid whatever the files' times
after unpacking: the import checks each against its source's hash, so a later layer that replaces
one of our files (layers unpack over each other in /opt) has its source used, never our stale
bytecode. The build makes them for every runtime in layer/runtimes.py that this machine has an interpreter
for, and says which ship source only (their functions compile the source at each cold start);
``--strict`` (a release) fails instead, naming the ones missing. Runtimes may also be left out on
purpose (``WITHOUT_BYTECODE`` in layer/runtimes.py by default, or ``--no-bytecode-for RUNTIME``).
So a strict zip's bytes depend on the sources and the options only, never on the machine: entries
sorted, one fixed timestamp, fixed modes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lambdawarmer.layer_paths import ARCHITECTURES, LAYER_METADATA, PRIVATE_PACKAGE, WRAPPER_NAME  # noqa: E402
from lambdawarmer.version import __version__  # noqa: E402
from layer.runtimes import (  # noqa: E402
    HOW_TO_INSTALL,
    SUPPORTED_RUNTIMES,
    WITHOUT_BYTECODE,
    RuntimeUnavailable,
    find_interpreter,
)

WRAPPER = ROOT / "wrapper" / WRAPPER_NAME
WRAPPER_PLACEHOLDER = "@PRIVATE_PACKAGE@"
"""Where the wrapper's source leaves the private package name for the build to write."""
PACKAGE = ROOT / "lambdawarmer"
"""The runtime package: everything in it ships (the command line is another package, lambdawarmer_cli)."""
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
EXECUTABLE = 0o755
READABLE = 0o644

PUBLIC_ALIAS = '''"""``import lambdawarmer`` from the layer: its package ({private}) under the public name.

A ``lambdawarmer`` in the function's own code comes first on sys.path and is used instead.
"""

import sys

import {private}

sys.modules[__name__] = {private}
'''

COMPILE = """
import importlib.util, pathlib, py_compile, sys
tree = pathlib.Path(sys.argv[1])
for source in sorted(tree.rglob("*.py")):
    py_compile.compile(
        str(source),
        cfile=importlib.util.cache_from_source(str(source)),
        dfile=f"/opt/python/{source.relative_to(tree).as_posix()}",
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
    )
"""


class BuildError(RuntimeError):
    """The layer cannot be built as asked."""


def layer_package() -> str:
    """The layer's private package name (``lambdawarmer/layer_paths.py``, its one definition)."""
    return PRIVATE_PACKAGE


def wrapper_script() -> bytes:
    """The exec wrapper as the layer ships it: the private package name written into its handler."""
    text = WRAPPER.read_text()
    if WRAPPER_PLACEHOLDER not in text:
        raise BuildError(f"{WRAPPER} has no {WRAPPER_PLACEHOLDER} for the layer's package name")
    return text.replace(WRAPPER_PLACEHOLDER, PRIVATE_PACKAGE).encode()


def metadata() -> bytes:
    """The zip's account of itself (:data:`LAYER_METADATA`)."""
    document = {
        "layer": "lambdawarmer",
        "version": __version__,
        "compatible_runtimes": list(SUPPORTED_RUNTIMES),
        "compatible_architectures": list(ARCHITECTURES),
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def _sources() -> dict[str, bytes]:
    """Every Python file of the layer, by its path under python/: the runtime package, whole."""
    private = layer_package()
    files = {
        f"{private}/{source.relative_to(PACKAGE).as_posix()}": source.read_bytes()
        for source in sorted(PACKAGE.rglob("*.py"))
        if "__pycache__" not in source.parts
    }
    files["lambdawarmer/__init__.py"] = PUBLIC_ALIAS.format(private=private).encode()
    return files


def without_interpreter(skipped: frozenset[str]) -> dict[str, str]:
    """The runtimes, not skipped, that this machine has no interpreter for: why, for each."""
    missing = {}
    for runtime in SUPPORTED_RUNTIMES:
        if runtime not in skipped:
            try:
                find_interpreter(runtime)
            except RuntimeUnavailable as why:
                missing[runtime] = str(why)
    return missing


def source_only_here(no_bytecode_for: frozenset[str] = frozenset(WITHOUT_BYTECODE)) -> frozenset[str]:
    """What the build ships as source only unless ``--strict``: the runtimes left out on purpose and
    those this machine has no interpreter for."""
    return no_bytecode_for | frozenset(without_interpreter(no_bytecode_for))


def _bytecode(sources: dict[str, bytes], skipped: frozenset[str]) -> dict[str, bytes]:
    """``<folder>/__pycache__/<module>.cpython-3XX.pyc`` for every supported runtime not skipped."""
    unknown = sorted(skipped - set(SUPPORTED_RUNTIMES))
    if unknown:
        raise BuildError(
            f"--no-bytecode-for {', '.join(unknown)}: not a supported runtime {SUPPORTED_RUNTIMES}"
        )
    interpreters, missing = {}, []
    for runtime in SUPPORTED_RUNTIMES:
        if runtime in skipped:
            continue
        try:
            interpreters[runtime] = find_interpreter(runtime)
        except RuntimeUnavailable:
            missing.append(runtime)
    if missing:
        flags = " ".join(f"--no-bytecode-for {runtime}" for runtime in missing)
        raise BuildError(
            f"no interpreter for {', '.join(missing)} on this machine, so the layer would lack its "
            f"bytecode: install it, or build without it on purpose ({flags})"
        )
    compiled: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch)
        for name, data in sources.items():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            (tree / name).write_bytes(data)
        # A fixed hash seed: set and frozenset constants are marshalled in hash order.
        environment = {**os.environ, "PYTHONHASHSEED": "0"}
        for interpreter in interpreters.values():
            subprocess.run([str(interpreter), "-c", COMPILE, str(tree)], env=environment, check=True)
        for pyc in sorted(tree.rglob("*.pyc")):
            compiled[pyc.relative_to(tree).as_posix()] = pyc.read_bytes()
    return compiled


def layer_files(no_bytecode_for: frozenset[str] | None = None) -> list[tuple[str, bytes, int]]:
    """(path in the layer, content, mode) for every file of the layer, sorted by path; bytecode for
    every runtime not in ``no_bytecode_for`` (by default: :func:`source_only_here`)."""
    if no_bytecode_for is None:
        no_bytecode_for = source_only_here()
    files = [(WRAPPER_NAME, wrapper_script(), EXECUTABLE), (LAYER_METADATA, metadata(), READABLE)]
    sources = _sources()
    for name, data in {**sources, **_bytecode(sources, no_bytecode_for)}.items():
        files.append((f"python/{name}", data, READABLE))
    return sorted(files)


def write_zip(destination: Path, no_bytecode_for: frozenset[str] | None = None) -> None:
    """Write the layer zip to ``destination`` (``no_bytecode_for``: as :func:`layer_files` takes it)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name, data, mode in layer_files(no_bytecode_for):
            entry = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            entry.create_system = 3  # Unix, so that the modes below are honoured
            entry.external_attr = (stat.S_IFREG | mode) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data, compresslevel=9)
    partial.replace(destination)


def write_tree(destination: Path, no_bytecode_for: frozenset[str] | None = None) -> None:
    """Write the layer unpacked into ``destination`` (what `sam build` zips itself)."""
    for name, data, mode in layer_files(no_bytecode_for):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--zip", type=Path, help="write the layer zip here")
    where.add_argument("--tree", type=Path, help="write the unpacked layer into this folder")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail unless every runtime not left out gets its bytecode (a release: the same zip on "
        "every machine); default: runtimes this machine has no interpreter for ship source only",
    )
    parser.add_argument(
        "--no-bytecode-for",
        action="append",
        metavar="RUNTIME",
        help=f"ship no bytecode for this runtime (one of {', '.join(SUPPORTED_RUNTIMES)}); repeatable; "
        f"default: {', '.join(WITHOUT_BYTECODE)}",
    )
    arguments = parser.parse_args(argv)
    no_bytecode_for = WITHOUT_BYTECODE if arguments.no_bytecode_for is None else arguments.no_bytecode_for
    skipped = frozenset(no_bytecode_for)
    unknown = sorted(skipped - set(SUPPORTED_RUNTIMES))
    missing = {} if unknown or arguments.strict else without_interpreter(skipped)
    skipped |= frozenset(missing)
    try:
        if arguments.tree:
            write_tree(arguments.tree, skipped)
            print(f"layer tree: {arguments.tree}")
            return 0
        write_zip(arguments.zip, skipped)
    except BuildError as error:
        print(f"build_layer: {error}", file=sys.stderr)
        return 2
    data = arguments.zip.read_bytes()
    print(f"layer zip: {arguments.zip}")
    print(f"size:      {len(data):,} bytes")
    print(f"sha256:    {hashlib.sha256(data).hexdigest()}")
    with_bytecode = [runtime for runtime in SUPPORTED_RUNTIMES if runtime not in skipped]
    print(f"bytecode:  {', '.join(with_bytecode) or 'none'}")
    if missing:
        print(
            f"source only, no interpreter here: {', '.join(missing)} (their functions compile the layer "
            "at each cold start, a few ms; this zip differs from a release build: --strict makes one)"
        )
        for runtime, why in missing.items():
            print(f"  {runtime}: {why}")
        print(f"  for their bytecode too: {HOW_TO_INSTALL}, then build again")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
