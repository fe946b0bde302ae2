"""An interpreter assembled from Debian's packages: what it checks, and the reason it gives where
it cannot be had (its runtime's tests are then skipped with that reason)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from emulator import debian_python
from emulator.interpreters import PYTHON_RUNTIMES, find_interpreter

RELEASE = """Origin: Debian
SHA256:
 {good} 1234 main/binary-amd64/Packages.xz
 {other} 99 main/binary-arm64/Packages.xz
"""


def test_the_package_index_is_taken_only_with_the_hash_the_signed_release_gives() -> None:
    data = b"the index"
    good = debian_python.hashlib.sha256(data).hexdigest()
    release = RELEASE.format(good=good, other="0" * 64)
    digest = debian_python._release_digest(release, "main/binary-amd64/Packages.xz")
    assert debian_python._checked(data, digest, "index") == data
    with pytest.raises(ValueError, match="not the one the signed index gives"):
        debian_python._checked(b"tampered", digest, "index")
    with pytest.raises(ValueError, match=r"lists no main/binary-riscv64/Packages\.xz"):
        debian_python._release_digest(release, "main/binary-riscv64/Packages.xz")


def test_without_its_tools_it_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(debian_python, "PYTHONS", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(debian_python.Unavailable, match="gpgv is not on this machine"):
        debian_python.assembled("3.14")


@pytest.mark.parametrize("runtime", [PYTHON_RUNTIMES[-1]])
def test_the_newest_runtime_runs_here(runtime: str) -> None:
    """Lambda's newest runtime, wherever it came from (PATH, pyenv, Debian's packages), runs the
    standard library a function needs."""
    python = find_interpreter(runtime)  # if it cannot be had: skipped, saying why (runtime_matrix.py)
    probe = "import ssl, hashlib, ctypes, zlib, json, sys; print(sys.version_info[:2])"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(tuple(int(n) for n in runtime.removeprefix("python").split(".")))


def test_a_version_debian_lacks_is_looked_for_once_a_day(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each test process asks for the runtimes it needs: the index is downloaded once to find that
    Debian has no such package, and the reason is given again without a download. The line saying
    the assembly starts is followed by one saying it failed, and why (./build.sh shows both)."""
    monkeypatch.setattr(debian_python, "PYTHONS", tmp_path)
    for tool in ("gpgv", "dpkg-deb"):
        if debian_python.shutil.which(tool) is None:
            pytest.skip(f"{tool} is not on this machine: the assembly stops before the index")
    downloads = []
    monkeypatch.setattr(debian_python, "_package_index", lambda architecture: downloads.append(1) or {})
    for _ in range(2):
        with pytest.raises(debian_python.Unavailable, match=r"Debian unstable has no package python3\.10$"):
            debian_python.assembled("3.10")
    assert downloads == [1]
    assert capsys.readouterr().err.splitlines() == [
        "emulator: assembling python3.10 from Debian unstable's packages",
        "emulator: python3.10 could not be assembled from Debian's packages: "
        "Debian unstable has no package python3.10",
    ]
    stale = debian_python.time.time() - debian_python.UNPACKAGED_FOR_S - 1
    os.utime(tmp_path / "python3.10.unpackaged", (stale, stale))
    with pytest.raises(debian_python.Unavailable):
        debian_python.assembled("3.10")
    assert downloads == [1, 1]
