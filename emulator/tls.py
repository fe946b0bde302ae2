"""TLS for the emulator's Invoke API, as Lambda's API is HTTPS only: a certificate for 127.0.0.1 made
at start (RSA-2048, self-signed, so it is its own CA bundle), one per process, removed at exit."""

from __future__ import annotations

import atexit
import shutil
import ssl
import subprocess
import tempfile
import threading
from pathlib import Path

_made: list[Path] = []
_lock = threading.Lock()


def loopback_certificate() -> Path:
    """The directory holding ``cert.pem`` (also the CA bundle a client trusts) and ``key.pem`` for
    127.0.0.1 and localhost, made once per process with ``openssl``."""
    with _lock:
        if not _made:
            if shutil.which("openssl") is None:
                raise RuntimeError("the emulator's HTTPS needs the openssl command (or serve(tls=False))")
            folder = Path(tempfile.mkdtemp(prefix="lambdawarmer-emulator-tls-"))
            atexit.register(shutil.rmtree, folder, True)
            request = "-x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1"
            names = "subjectAltName=IP:127.0.0.1,DNS:localhost"
            files = ["-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")]
            command = ["openssl", "req", *request.split(), "-addext", names, *files]
            made = subprocess.run(command, capture_output=True, text=True, check=False)
            if made.returncode != 0:
                raise RuntimeError(f"openssl could not make the emulator's certificate: {made.stderr[-300:]}")
            _made.append(folder)
        return _made[0]


def ca_bundle() -> Path:
    """The file a client trusts the emulator's HTTPS with (``AWS_CA_BUNDLE``, boto3's ``verify``)."""
    return loopback_certificate() / "cert.pem"


def server_context() -> ssl.SSLContext:
    """The server side of the emulator's TLS (the protocol versions and ciphers Python defaults to)."""
    folder = loopback_certificate()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context
