"""The layer zip: layout, modes, nothing third-party, and byte-for-byte reproducible."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from emulator.debian_python import PYTHONS
from lambdawarmer.layer_paths import LAYER_METADATA, WRAPPER_NAME
from lambdawarmer.version import __version__
from layer.build_layer import layer_files, layer_package, source_only_here, write_tree, write_zip
from layer.runtimes import HOW_TO_INSTALL, SUPPORTED_RUNTIMES, WITHOUT_BYTECODE

ROOT = Path(__file__).resolve().parent.parent


def test_layout_and_modes(tmp_path: Path) -> None:
    write_zip(tmp_path / "layer.zip")
    with zipfile.ZipFile(tmp_path / "layer.zip") as archive:
        entries = {entry.filename: entry for entry in archive.infolist()}
    assert "lambdawarmer-wrapper" in entries
    assert stat.S_IMODE(entries["lambdawarmer-wrapper"].external_attr >> 16) == 0o755
    assert stat.S_IMODE(entries["lambdawarmer-layer.json"].external_attr >> 16) == 0o644
    said = json.loads(zipfile.ZipFile(tmp_path / "layer.zip").read("lambdawarmer-layer.json"))
    assert said == {
        "layer": "lambdawarmer",
        "version": __version__,
        "compatible_runtimes": list(SUPPORTED_RUNTIMES),
        "compatible_architectures": ["x86_64", "arm64"],
    }
    package = {name for name in entries if name not in ("lambdawarmer-wrapper", "lambdawarmer-layer.json")}
    assert all(name.startswith(("python/_lambdawarmer_layer/", "python/lambdawarmer/")) for name in package)
    assert {
        "python/_lambdawarmer_layer/__init__.py",
        "python/_lambdawarmer_layer/handler.py",
        "python/lambdawarmer/__init__.py",
    } <= package
    public = {name for name in package if name.startswith("python/lambdawarmer/")}
    with_bytecode = [runtime for runtime in SUPPORTED_RUNTIMES if runtime not in source_only_here()]
    assert public == {"python/lambdawarmer/__init__.py"} | {
        f"python/lambdawarmer/__pycache__/__init__.cpython-{runtime[6:].replace('.', '')}.pyc"
        for runtime in with_bytecode
    }
    assert all(stat.S_IMODE(entries[name].external_attr >> 16) == 0o644 for name in package)
    assert list(entries) == sorted(entries)
    assert {entry.date_time for entry in entries.values()} == {(1980, 1, 1, 0, 0, 0)}


def test_the_bytecode_is_used_as_it_is_in_a_read_only_opt(tmp_path: Path) -> None:
    write_tree(tmp_path / "layer")
    for path in (tmp_path / "layer").rglob("*"):
        path.chmod(path.stat().st_mode & ~0o222)  # read-only, as /opt is in Lambda
    package = tmp_path / "layer" / "python" / "_lambdawarmer_layer"
    script = (
        "import sys, _lambdawarmer_layer.handler; "
        "print([m for m in sys.modules if m.startswith('_lambdawarmer_layer')])"
    )
    result = subprocess.run(
        [sys.executable, "-v", "-c", script],
        env={"PYTHONPATH": str(package.parent), "LAMBDAWARMER_HANDLER": "json.dumps"},
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    modules = eval(result.stdout.strip().splitlines()[-1])
    imported = {name.partition(".")[2] or "__init__" for name in modules}  # sub-packages too

    def loaded(line: str) -> str:
        """``protocol.fields`` from ``# code object from '.../protocol/__pycache__/fields.cpython-3X.pyc'``"""
        folder, _, pyc = line.split(f"{package}/", 1)[1].rstrip("'").rpartition("__pycache__/")
        module = ".".join([*folder.strip("/").split("/"), pyc.split(".")[0]]).strip(".")
        return module.removesuffix(".__init__") if module != "__init__" else module

    from_bytecode = {
        loaded(line)
        for line in result.stderr.splitlines()
        if line.startswith(f"# code object from '{package}/") and "__pycache__/" in line
    }
    # a sub-package's module too: the fields a request is checked for (pings load with the first ping)
    assert {"handler", "protocol.fields"} <= imported
    assert from_bytecode == imported


def test_the_layer_ships_the_runtime_package_whole_and_nothing_else() -> None:
    """Every source of lambdawarmer/ (sub-packages too), under the private name, plus the public alias
    and the wrapper: no third-party code, and none of the command line (lambdawarmer_cli/)."""
    sources = {name for name, _, _ in layer_files() if name.endswith(".py")}
    package = ROOT / "lambdawarmer"
    private = layer_package()
    runtime = {
        f"python/{private}/{path.relative_to(package).as_posix()}"
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert sources == runtime | {"python/lambdawarmer/__init__.py"}
    others = {name for name, _, _ in layer_files() if not name.endswith((".py", ".pyc"))}
    assert others == {WRAPPER_NAME, LAYER_METADATA}


def build_with_one_python(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """The build on a machine with this Python alone (no pyenv, a bare PATH: none assembled from
    Debian's packages either)."""
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "layer" / "build_layer.py"),
            "--zip",
            str(tmp_path / "layer.zip"),
            *flags,
        ],
        env={
            "PATH": "/nonexistent",
            "HOME": str(tmp_path),
            "LAMBDA_EMULATOR_PYTHONS": str(tmp_path / "none"),
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_with_one_python_the_build_ships_source_for_the_others_and_says_so(tmp_path: Path) -> None:
    result = build_with_one_python(tmp_path)
    assert result.returncode == 0, result.stderr
    this = f"python{sys.version_info.major}.{sys.version_info.minor}"
    missing = [r for r in SUPPORTED_RUNTIMES if r not in WITHOUT_BYTECODE and r != this]
    assert f"bytecode:  {this}" in result.stdout
    assert f"source only, no interpreter here: {', '.join(missing)}" in result.stdout
    for runtime in missing:  # why each is missing, and where to get it
        assert f"  {runtime}: no {runtime} interpreter on this machine (looked on PATH" in result.stdout
    assert f"  for their bytecode too: {HOW_TO_INSTALL}, then build again" in result.stdout
    with zipfile.ZipFile(tmp_path / "layer.zip") as archive:
        tags = {name.rsplit(".", 2)[-2] for name in archive.namelist() if name.endswith(".pyc")}
    assert tags == {f"cpython-{sys.version_info.major}{sys.version_info.minor}"}


def test_a_strict_build_fails_naming_the_runtimes_it_cannot_compile_for(tmp_path: Path) -> None:
    """A release must not silently ship less bytecode."""
    result = build_with_one_python(tmp_path, "--strict")
    assert result.returncode == 2
    assert not (tmp_path / "layer.zip").exists()
    this = f"python{sys.version_info.major}.{sys.version_info.minor}"
    missing = [r for r in SUPPORTED_RUNTIMES if r not in WITHOUT_BYTECODE and r != this]
    assert f"no interpreter for {', '.join(missing)}" in result.stderr
    assert "--no-bytecode-for" in result.stderr


def test_runtimes_left_out_on_purpose_ship_source_only(tmp_path: Path) -> None:
    skipped = source_only_here() | {"python3.10"}  # and those this machine has no interpreter for
    names = [name for name, _, _ in layer_files(skipped)]
    assert not [name for name in names if name.endswith(".cpython-310.pyc")]
    assert "python/_lambdawarmer_layer/handler.py" in names


def test_the_same_sources_give_the_same_sha256(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built twice, the second time from a copy of the package with new times: the same bytes (the
    working tree's files are left as they are)."""
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    write_zip(first)  # bytecode included: compiled again, in new interpreters
    copy = tmp_path / "lambdawarmer"
    shutil.copytree(ROOT / "lambdawarmer", copy, ignore=shutil.ignore_patterns("__pycache__"))
    for source in copy.iterdir():  # new mtimes must not change a byte
        os.utime(source, (1_900_000_000, 1_900_000_000))
    monkeypatch.setattr("layer.build_layer.PACKAGE", copy)
    write_zip(second)
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()


def test_build_command_prints_path_size_and_sha256(tmp_path: Path) -> None:
    out = tmp_path / "dist" / "lambdawarmer-layer.zip"
    printed = subprocess.run(
        [sys.executable, str(ROOT / "layer" / "build_layer.py"), "--zip", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert str(out) in printed
    assert f"{out.stat().st_size:,} bytes" in printed
    assert digest in printed


def test_tree_is_the_zip_unpacked(tmp_path: Path) -> None:
    write_zip(tmp_path / "layer.zip")
    write_tree(tmp_path / "tree")
    unpacked = tmp_path / "unpacked"
    shutil.unpack_archive(tmp_path / "layer.zip", unpacked)
    tree_files = sorted(
        p.relative_to(tmp_path / "tree") for p in (tmp_path / "tree").rglob("*") if p.is_file()
    )
    zip_files = sorted(p.relative_to(unpacked) for p in unpacked.rglob("*") if p.is_file())
    assert tree_files == zip_files
    assert (tmp_path / "tree" / "lambdawarmer-wrapper").stat().st_mode & 0o777 == 0o755


def test_sam_build_gives_the_same_layout(tmp_path: Path, sam_cli: Path) -> None:
    """`sam build` (BuildMethod: makefile) must give the zip's layout."""
    sam = str(sam_cli)
    source = tmp_path / "repo"
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".venv", ".venvs", ".pythons", ".git", "dist", "*cache*")
    )
    # The interpreters the build compiles for are this checkout's (one assembled from Debian's
    # packages included), as for write_tree below.
    pythons = {"LAMBDA_EMULATOR_PYTHONS": str(PYTHONS)}
    subprocess.run(
        [sam, "build", "LambdaWarmerLayer"],
        cwd=source,
        check=True,
        capture_output=True,
        env={**os.environ, **pythons},
    )
    built = source / ".aws-sam" / "build" / "LambdaWarmerLayer"
    write_tree(tmp_path / "tree")
    listing = sorted(str(p.relative_to(built)) for p in built.rglob("*") if p.is_file())
    expected = sorted(
        str(p.relative_to(tmp_path / "tree")) for p in (tmp_path / "tree").rglob("*") if p.is_file()
    )
    assert listing == expected
    assert (built / "lambdawarmer-wrapper").stat().st_mode & 0o777 == 0o755


def test_the_package_metadata_is_complete_and_passes_twine_check(tmp_path: Path) -> None:
    """What PyPI would show: the licence file, Python versions as tested (layer/runtimes.py), and a
    description twine renders. Built from a copy: the working tree stays untouched."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    versions = {
        c.rsplit(" :: ", 1)[-1]
        for c in project["classifiers"]
        if c.startswith("Programming Language :: Python :: 3.")
    }
    assert versions == {runtime.removeprefix("python") for runtime in SUPPORTED_RUNTIMES}
    assert project["requires-python"] == f">={min(versions, key=lambda v: tuple(map(int, v.split('.'))))}"
    assert project["license-files"] == ["LICENSE"]
    copy = tmp_path / "project"
    packages = ("lambdawarmer", "lambdawarmer_cli", "lambdawarmer_model")
    for name in ("pyproject.toml", "docs/pypi.md", "LICENSE", *packages):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheels.glob("lambdawarmer-*.whl")
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with zipfile.ZipFile(wheel) as archive:
        assert any(name.endswith("licenses/LICENSE") for name in archive.namelist())
        shipped = {name for name in archive.namelist() if name.endswith(".py")}
        sources = {
            path.relative_to(ROOT).as_posix()
            for package in packages
            for path in (ROOT / package).rglob("*.py")
            if "__pycache__" not in path.parts
        }
        assert shipped == sources, "every module of the three packages, subpackages included"
        assert "lambdawarmer_cli/release_digests.json" in archive.namelist()
        metadata = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("METADATA"))
    description = metadata.split("\n\n", 1)[1]
    assert "pip install 'lambdawarmer[cli]'" in description
    assert not re.search(r"\]\((?!https?://)", description), "a relative link, broken on PyPI"


def test_the_command_line_reads_the_list_the_release_writes(tmp_path: Path) -> None:
    from lambdawarmer_cli import release_digests as shipped
    from layer import release_digests

    assert release_digests.DIGESTS == shipped.DIGESTS
    listed = tmp_path / "release_digests.json"
    listed.write_text("{}")
    release_digests.record("1.10.0", "ab" * 32, listed)
    release_digests.record("1.9.0", "cd" * 32, listed)
    assert list(json.loads(listed.read_text())) == ["1.9.0", "1.10.0"]  # in version order


def test_the_shipped_list_names_versions_and_sha256s() -> None:
    from lambdawarmer_cli.release_digests import released

    for version, digest in released().items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
        assert re.fullmatch(r"[0-9a-f]{64}", digest), (version, digest)


def test_the_release_check_refuses_a_zip_not_listed_for_its_version_or_its_tag(tmp_path: Path) -> None:
    """What the release workflow runs before recording the digest (python -m layer.release_digests check)."""
    from layer.release_digests import check, record

    write_zip(tmp_path / "layer.zip")
    sha256 = hashlib.sha256((tmp_path / "layer.zip").read_bytes()).hexdigest()
    listed = tmp_path / "release_digests.json"
    listed.write_text("{}")
    assert [p for p in check(tmp_path / "layer.zip", f"v{__version__}", listed) if "is not listed" in p]
    record(__version__, "0" * 64, listed)
    (problem,) = check(tmp_path / "layer.zip", f"v{__version__}", listed)
    assert f"the zip's sha256 {sha256} is not {'0' * 64}" in problem
    record(__version__, sha256, listed)
    assert check(tmp_path / "layer.zip", f"v{__version__}", listed) == []
    assert check(tmp_path / "layer.zip", "v0.0.1", listed) == [
        f"the tag v0.0.1 is not the zip's version v{__version__}"
    ]


def test_a_strict_build_reproduces_the_digest_listed_for_this_version() -> None:
    """On a machine with every runtime's interpreter (CI's): once the release commit lists this
    version (python -m layer.release_digests record), a strict build must still give those bytes;
    a change to the layer after that needs a new version (and its own record)."""
    from layer.build_layer import without_interpreter
    from layer.release_digests import listed, strict_sha256

    wanted = listed().get(__version__)
    if wanted is None:
        pytest.skip(f"{__version__} is not listed yet (a release commit lists it)")
    missing = without_interpreter(frozenset(WITHOUT_BYTECODE))
    if missing:
        pytest.skip(f"a strict build needs an interpreter for {', '.join(missing)}")
    assert strict_sha256() == wanted, "run python -m layer.release_digests record (or bump the version)"
