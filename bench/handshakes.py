"""What a new HTTPS connection costs a function: TLS handshakes to the emulator's Invoke API, made
from inside a function held to its memory's CPU share, one at a time and all at once in threads (as
a round opens them). The figure behind lambdawarmer.timing.HANDSHAKE_CPU_MS."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from emulator import FunctionSpec, LambdaEmulator

HANDSHAKER = """
import os, socket, ssl, threading, time
from urllib.parse import urlparse

def handler(event, context):
    where = urlparse(os.environ["AWS_ENDPOINT_URL_LAMBDA"])
    tls = ssl.create_default_context(cafile=os.environ["AWS_CA_BUNDLE"])

    def one():
        plain = socket.create_connection((where.hostname, where.port))
        tls.wrap_socket(plain, server_hostname=where.hostname).close()

    n = event["n"]
    cpu, wall = time.process_time(), time.monotonic()
    for _ in range(n):
        one()
    alone = ((time.process_time() - cpu) * 1000 / n, (time.monotonic() - wall) * 1000 / n)
    cpu, wall = time.process_time(), time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    together = ((time.process_time() - cpu) * 1000 / n, (time.monotonic() - wall) * 1000)
    return {"alone_cpu_ms": alone[0], "alone_wall_ms": alone[1],
            "together_cpu_ms": together[0], "together_wall_ms": together[1]}
"""


def handshake_costs(memory_sizes: tuple[int, ...] = (128, 1769), n: int = 20) -> list[dict[str, Any]]:
    """Per memory size: CPU and wall time per handshake one at a time, CPU per handshake and the
    total wall time of ``n`` at once (the second of two invocations: the first warms the process)."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        code = Path(folder)
        (code / "app.py").write_text(HANDSHAKER)
        for memory_mb in memory_sizes:
            function = FunctionSpec(
                name="tls", code=code, handler="app.handler", memory_mb=memory_mb, timeout_s=60
            )
            with LambdaEmulator(function) as emulator:
                emulator.serve(tls=True)
                emulator.invoke({"n": n})
                rows.append({"memory_mb": memory_mb, "n": n, **json.loads(emulator.invoke({"n": n}).payload)})
    return rows


if __name__ == "__main__":
    for row in handshake_costs():
        print(json.dumps(row))
