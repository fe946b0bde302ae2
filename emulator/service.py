"""The Lambda service for one function: routing, throttling, the async queue, the records.

Routing is Lambda's: an invocation goes to an idle environment of the version it resolves to if
there is one, else to a new environment (a cold start), unless the function is at its concurrency
limit, when it is throttled (429 TooManyRequestsException).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from .cpu import CpuController, cpu_controller
from .durable import end_execution, start_execution
from .environment import Environment, Invocation
from .faults import FaultRule
from .function import FunctionSpec
from .http import LoopbackEndpoint
from .runtimes import runtime_python
from .signatures import ACCESS_KEY, SECRET_KEY
from .tls import ca_bundle

ASYNC_RETRIES = 2  # Lambda retries a failed asynchronous invocation twice
ASYNC_CAPACITY_WAIT_S = 5.0  # how long a queued event waits for a free environment


def can_mount_opt() -> bool:
    """Whether a private mount namespace can put the layers at /opt here (root, unshare, an /opt)."""
    if not Path("/opt").is_dir() or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs none /opt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def unpack_layers(layers: list[Path], destination: Path) -> None:
    """Unpack layer zips in order, later ones over earlier ones, keeping file modes (as Lambda does)."""
    for layer in layers:
        with zipfile.ZipFile(layer) as archive:
            for entry in archive.infolist():
                target = destination / entry.filename
                if entry.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(entry))
                mode = (entry.external_attr >> 16) & 0o777
                target.chmod(mode or 0o644)


_said: list[str] = []


def _cpu_controller(cpu: str) -> CpuController | None:
    """The cgroups that give environments their CPU share; None (said once) where there are none."""
    if cpu not in ("memory", "full"):
        raise ValueError(f"cpu={cpu!r}: expected 'memory' (the memory's share) or 'full'")
    if cpu == "full":
        return None
    controller = cpu_controller()
    if isinstance(controller, str):
        if controller not in _said:
            _said.append(controller)
            print(
                f"emulator: environments run on a whole core, not their memory's share: {controller}",
                file=sys.stderr,
            )
        return None
    return controller


class LambdaEmulator:
    """One function behind an emulated Lambda service.

    ``concurrency`` is the function's concurrency limit (its reserved concurrency); ``latency_ms``
    models the network round trip of the Invoke API (applied by the HTTP endpoint, half each way).
    ``faults`` decides, from each Invoke API request's payload, a fault to inject instead of the
    normal answer (see emulator.faults). ``route_jitter_ms`` delays each synchronous invoke by a
    random 0 to that many ms before it is routed to an environment, as invokes reach Lambda unevenly
    (network jitter the sender cannot see). ``isolation`` is ``"mount"`` (layers at /opt in a private
    mount namespace), ``"none"`` (layers left where they are unpacked, paths pointed there) or
    ``"auto"``. ``credentials`` adds access keys (key -> secret) the Invoke API accepts besides
    the emulator's own, which its functions are given. ``cpu`` is ``"memory"`` (each environment
    held to its memory's share of a core, as Lambda does, once its init is done; the init too with
    ``throttle_init``) or ``"full"`` (no limit).
    """

    def __init__(
        self,
        function: FunctionSpec,
        *,
        concurrency: int = 100,
        latency_ms: float = 0.0,
        isolation: str = "auto",
        extra_env: dict[str, str] | None = None,
        faults: FaultRule | None = None,
        route_jitter_ms: float = 0.0,
        credentials: dict[str, str] | None = None,
        cpu: str = "memory",
        throttle_init: bool = False,
    ) -> None:
        self.function = function
        self.throttle_init = throttle_init
        self.cpu = _cpu_controller(cpu)
        self.credentials = {ACCESS_KEY: SECRET_KEY, **(credentials or {})}
        self.refused_requests: list[str] = []  # the error type of each request refused for its signature
        self.route_jitter_ms = route_jitter_ms
        self.faults = faults
        self.concurrency = concurrency
        self.latency_ms = latency_ms
        self.python = runtime_python(function.runtime)
        self.mount_opt = can_mount_opt() if isolation == "auto" else isolation == "mount"
        self._workdir = Path(tempfile.mkdtemp(prefix=f"lambda-{function.name}-"))
        self.opt_dir = self._workdir / "opt"
        self.opt_dir.mkdir()
        unpack_layers(function.layers, self.opt_dir)
        self.extra_env = dict(extra_env or {})
        self._closing = False
        self.environments: list[Environment] = []  # alive ones
        self.all_environments: list[Environment] = []  # every one ever started
        self.invocations: list[Invocation] = []
        # (function name, qualifier) of every request the Invoke API was asked, found or not
        self.api_requests: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()
        self._async_pending = 0  # queued events not yet finished, retries included
        self._http: LoopbackEndpoint | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def serve(
        self,
        port: int = 0,
        *,
        tls: bool = True,
        idle_timeout_s: float | None = None,
        keep_alive: bool = False,
    ) -> str:
        """Start the Invoke API on 127.0.0.1 and point the function at it; its URL. Over HTTPS, as
        Lambda's API is, the function trusting the emulator's certificate (``AWS_CA_BUNDLE``, which
        boto3 and lambdawarmer read), unless ``tls`` is False. Between two pings (once no request is
        in flight) every idle kept-alive connection is closed, as the service closes a frozen
        function's long before the next scheduled ping, unless ``keep_alive`` (the steady state
        of pings close together); ``idle_timeout_s``: besides, connections idle that long are
        closed."""
        from .invoke_api import serve_invoke_api

        self._http = serve_invoke_api(
            self, port, tls=tls, idle_timeout_s=idle_timeout_s, close_when_quiet=not keep_alive
        )
        self.extra_env.setdefault("AWS_ENDPOINT_URL_LAMBDA", self._http.url)
        if tls:
            self.extra_env.setdefault("AWS_CA_BUNDLE", str(ca_bundle()))
        self._provision()
        return self._http.url

    @property
    def ca_bundle(self) -> str | None:
        """The file a client trusts the Invoke API's HTTPS with (None over plain HTTP)."""
        return str(ca_bundle()) if self.url.startswith("https:") else None

    @property
    def url(self) -> str:
        """The Invoke API's URL (after :meth:`serve`)."""
        if self._http is None:
            raise RuntimeError("the Invoke API is not served yet: call serve() first")
        return self._http.url

    def close(self) -> None:
        """Stop every environment and endpoint, and remove the unpacked layers."""
        self._closing = True
        if self._http is not None:
            self._http.close()
        for environment in list(self.environments):
            environment.stop()
        if self.cpu is not None:
            self.cpu.close()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> LambdaEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- invoking ------------------------------------------------------------------------------

    def invoke(
        self,
        event: Any = None,
        qualifier: str | None = None,
        invocation_type: str = "RequestResponse",
        payload: bytes | None = None,
        client_context: str | None = None,
        *,
        tenant: str | None = None,
    ) -> Invocation:
        """Invoke the function (for ``tenant``, when it isolates tenants); for ``Event`` the invocation
        is queued and returned at once."""
        version = self.function.resolve(qualifier)
        arn = self.function.arn + (f":{qualifier}" if qualifier else "")
        body = payload if payload is not None else json.dumps(event).encode()
        if self.function.durable and version is not None:
            body = start_execution(self.function, version, body)
        invocation = Invocation(
            body,
            qualifier=qualifier,
            version=version or "",
            invoked_arn=arn,
            invocation_type=invocation_type,
            client_context=client_context,
            tenant=tenant,
        )
        with self.lock:
            self.invocations.append(invocation)
        if version is None:
            message = f"Function not found: {arn}"
            invocation.fail("not_found", "ResourceNotFoundException", message)
        elif invocation_type == "Event":
            with self.lock:
                self._async_pending += 1
            # Lambda's pollers take a burst of events at once: one thread each, capacity permitting.
            threading.Thread(target=self._run_event, args=(invocation,), daemon=True).start()
        elif invocation_type == "DryRun":
            invocation.finish("success", b"")
        else:
            if self.route_jitter_ms:
                time.sleep(random.uniform(0, self.route_jitter_ms) / 1000)
            self._run(invocation)
        return invocation

    def _run(self, invocation: Invocation, wait_for_capacity_s: float = 0.0) -> None:
        """Run on an environment; throttled if none is free within ``wait_for_capacity_s``."""
        give_up_at = time.monotonic() + wait_for_capacity_s
        while (
            environment := self._acquire(invocation.version, invocation.qualifier, invocation.tenant)
        ) is None:
            if time.monotonic() >= give_up_at:
                invocation.fail("throttled", "TooManyRequestsException", "Rate Exceeded.")
                return
            time.sleep(0.05)
        try:
            environment.run(invocation)
        finally:
            self._release(environment)
        if self.function.durable:
            end_execution(invocation)

    def _acquire(
        self, version: str, qualifier: str | None = None, tenant: str | None = None
    ) -> Environment | None:
        """An idle environment marked busy: Provisioned Concurrency's of ``qualifier`` first (Lambda
        routes there first), then an on-demand one of ``version`` (of ``tenant``'s, with tenant
        isolation); else a new one, or None at the limit."""
        with self.lock:
            self.environments = [e for e in self.environments if e.state != "dead"]
            idle = [e for e in self.environments if e.state == "idle" and e.tenant == tenant]
            provisioned = [e for e in idle if qualifier and e.provisioned_for == qualifier]
            on_demand = [e for e in idle if e.version == version and e.provisioned_for is None]
            for environment in provisioned + on_demand:
                return self._take(environment)
            if len(self.environments) >= self.concurrency:
                return None
            return self._take(self._new_environment(version, tenant=tenant))

    def _take(self, environment: Environment) -> Environment:
        """One more invocation in ``environment``: busy once it runs all it can at once (one, or
        Managed Instances' ``max_concurrency``); the caller holds the lock."""
        environment.in_flight += 1
        full = environment.in_flight >= (self.function.max_concurrency or 1)
        environment.state = "busy" if full else "idle"
        return environment

    def _new_environment(
        self, version: str, provisioned_for: str | None = None, tenant: str | None = None
    ) -> Environment:
        """A new environment of ``version`` (not started), counted; the caller holds the lock."""
        environment_id = f"env-{len(self.all_environments) + 1:03d}"
        environment = Environment(
            environment_id,
            self.function,
            version=version,
            python=self.python,
            opt_dir=self.opt_dir,
            mount_opt=self.mount_opt,
            extra_env=self.extra_env,
            cpu=self.cpu.group(environment_id) if self.cpu else None,
            throttle_init=self.throttle_init,
            provisioned_for=provisioned_for,
            tenant=tenant,
        )
        self.environments.append(environment)
        self.all_environments.append(environment)
        return environment

    def _provision(self) -> None:
        """Start the environments Lambda starts ahead of demand: Provisioned Concurrency's, and on
        Managed Instances one for ``$LATEST``."""
        ahead: list[tuple[str, str | None]] = []
        for qualifier, count in self.function.provisioned.items():
            version = self.function.resolve(qualifier)
            if version is None or version == "$LATEST":
                raise ValueError(f"Provisioned Concurrency on {qualifier!r}: name a version or an alias")
            ahead += [(version, qualifier)] * count
        if self.function.max_concurrency:
            ahead.append(("$LATEST", None))
        with self.lock:
            started = [self._new_environment(version, qualifier) for version, qualifier in ahead]
        for environment in started:
            environment.started_ahead = True
            environment.start()
            environment.state = "idle"

    def _release(self, environment: Environment) -> None:
        with self.lock:
            environment.in_flight -= 1
            if environment.state == "busy":
                environment.state = "idle"
            if environment.in_flight == 0:
                environment.idle_since = time.monotonic()

    def reclaim_idle(self, idle_since_before: float) -> int:
        """Stop the environments idle since before ``idle_since_before`` (``time.monotonic()``), as
        Lambda reclaims environments left idle; how many were stopped."""
        with self.lock:
            idle = [
                environment
                for environment in self.environments
                if environment.state == "idle"
                and environment.in_flight == 0
                and environment.idle_since < idle_since_before
            ]
            for environment in idle:
                environment.state = "dead"
        for environment in idle:
            environment.stop()
        return len(idle)

    def _run_event(self, invocation: Invocation) -> None:
        """An asynchronous invocation: waits for capacity, and is retried twice if it fails."""
        for attempt in range(1 + ASYNC_RETRIES):
            if attempt:
                invocation = Invocation(
                    invocation.event,
                    qualifier=invocation.qualifier,
                    version=invocation.version,
                    invoked_arn=invocation.invoked_arn,
                    invocation_type="Event",
                    tenant=invocation.tenant,
                )
                with self.lock:
                    self.invocations.append(invocation)
            if self._closing:
                break
            self._run(invocation, ASYNC_CAPACITY_WAIT_S)
            if invocation.status == "success":
                break
        with self.lock:
            self._async_pending -= 1

    def wait_for_async(self, timeout: float = 30.0) -> bool:
        """Wait until every queued asynchronous invocation has finished."""
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            with self.lock:
                if self._async_pending == 0:
                    return True
            time.sleep(0.02)
        return False

    def output(self) -> list[str]:
        """Every line the function printed, environment by environment."""
        return [line for environment in self.all_environments for line in environment.output]

    def summary(self) -> dict[str, Any]:
        """Counts of what happened so far."""
        with self.lock:
            invocations = list(self.invocations)
        return {
            "environments_started": len(self.all_environments),
            "invocations": len(invocations),
            "cold_starts": sum(i.cold for i in invocations),
            "by_status": {
                s: sum(i.status == s for i in invocations) for s in sorted({i.status for i in invocations})
            },
        }
