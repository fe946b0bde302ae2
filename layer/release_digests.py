"""The sha256 of each released layer zip, listed for the command line (lambdawarmer_cli/release_digests.json).

    python -m layer.release_digests record         # list this version's strict build (a release commit)
    python -m layer.release_digests check ZIP --tag v1.7.0   # the release workflow: exit 1 unless
                                                   # ZIP is the tag's version and its listed sha256

``record`` builds the layer strictly (every runtime's bytecode, or it fails: the bytes a release
ships) and lists ``version -> sha256`` for this checkout's version, replacing what was listed for
it. Run it in the release commit, after the last change to the layer's sources; the tests check
that a strict build still gives what is listed for the current version.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import zipfile
from pathlib import Path

from lambdawarmer.layer_paths import LAYER_METADATA
from lambdawarmer.version import __version__
from layer.build_layer import ROOT, BuildError, write_zip

DIGESTS = ROOT / "lambdawarmer_cli" / "release_digests.json"
"""The file the command line reads (lambdawarmer_cli/release_digests.py names it too)."""


def listed(path: Path = DIGESTS) -> dict[str, str]:
    """version -> sha256 (hexadecimal), as listed."""
    return dict(json.loads(path.read_text()))


def strict_sha256() -> str:
    """The sha256 of this checkout's layer built strictly; raises BuildError where it cannot be."""
    with tempfile.TemporaryDirectory() as scratch:
        destination = Path(scratch) / "lambdawarmer-layer.zip"
        write_zip(destination)
        return hashlib.sha256(destination.read_bytes()).hexdigest()


def record(version: str, sha256: str, path: Path = DIGESTS) -> None:
    """List ``version``'s zip as ``sha256`` (any earlier value for it replaced), versions in order."""
    digests = {**listed(path), version: sha256}
    ordered = sorted(digests, key=lambda v: tuple(int(part) for part in v.split(".")))
    path.write_text(json.dumps({v: digests[v] for v in ordered}, indent=2) + "\n")


def check(zip_path: Path, tag: str | None, path: Path = DIGESTS) -> list[str]:
    """What is wrong with releasing ``zip_path`` (under ``tag``): nothing when it says it is a version
    that is listed with its sha256 (and the tag names that version)."""
    data = zip_path.read_bytes()
    with zipfile.ZipFile(zip_path) as archive:
        version = str(json.loads(archive.read(LAYER_METADATA))["version"])
    sha256 = hashlib.sha256(data).hexdigest()
    wanted = listed(path).get(version)
    problems = []
    if tag is not None and tag != f"v{version}":
        problems.append(f"the tag {tag} is not the zip's version v{version}")
    if wanted is None:
        problems.append(
            f"{version} is not listed in {path.name}: run python -m layer.release_digests record in the "
            "release commit"
        )
    elif wanted != sha256:
        problems.append(
            f"the zip's sha256 {sha256} is not {wanted}, listed for {version}: the build does not "
            "reproduce what the release commit lists"
        )
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("record", help=f"list this version's ({__version__}) strict build")
    checking = commands.add_parser("check", help="exit 1 unless ZIP is its version's listed build")
    checking.add_argument("zip", type=Path)
    checking.add_argument("--tag", help="the release's tag (vVERSION)")
    arguments = parser.parse_args(argv)
    if arguments.command == "record":
        try:
            sha256 = strict_sha256()
        except BuildError as error:
            print(f"release_digests: {error}", file=sys.stderr)
            return 2
        record(__version__, sha256)
        print(f"{__version__}: {sha256} (listed in {DIGESTS.relative_to(ROOT)})")
        return 0
    problems = check(arguments.zip, arguments.tag)
    for problem in problems:
        print(f"release_digests: {problem}", file=sys.stderr)
    if not problems:
        print(f"{arguments.zip}: the listed build of its version")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
