"""One execution environment: a real process running the real awslambdaric, and its Runtime API.

It is started as the managed Python runtime starts one (the ``bootstrap`` script beside this file,
exec wrapper included), with the Lambda environment variables, and with the function's layers at
``/opt`` in a private mount namespace (read-only, as in Lambda) when this machine allows it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cpu import cpu_share
from .function import FunctionSpec
from .http import LoopbackEndpoint
from .runtime_api import serve_runtime_api
from .signatures import ACCESS_KEY, SECRET_KEY

if TYPE_CHECKING:
    from .cpu import CpuGroup

BOOTSTRAP = Path(__file__).resolve().parent / "runtime" / "bootstrap"
INIT_TIMEOUT_S = 10.0  # Lambda's limit on the init phase
WARM_PICKUP_S = 5.0  # a warm environment's runtime asks for its next event within this (or is stuck)
MOUNT_AND_START = 'mount --bind "$1" /opt && mount -o remount,ro,bind /opt && shift && exec "$@"'
JOIN_CGROUP = 'echo $$ > "$1" && shift && exec "$@"'


class Invocation:
    """One invocation: what came in, where it ran, what came out, and when."""

    def __init__(
        self,
        event: bytes,
        *,
        qualifier: str | None,
        version: str,
        invoked_arn: str,
        invocation_type: str = "RequestResponse",
        client_context: str | None = None,
        tenant: str | None = None,
    ) -> None:
        self.request_id = str(uuid.uuid4())
        self.tenant = tenant
        self.event = event
        self.qualifier = qualifier
        self.version = version
        self.invoked_arn = invoked_arn
        self.invocation_type = invocation_type
        self.client_context = client_context
        self.environment_id: str | None = None
        self.cold = False
        self.received_at = time.monotonic()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.answered_at: float | None = None  # when the runtime's answer came in
        self.deadline_ms = 0
        self.deadline_at = 0.0
        self.status = "pending"  # success, error, timeout, throttled, init_error, exit_error, not_found
        self.payload = b""
        self.error_type: str | None = None
        self.delivered = threading.Event()
        self.done = threading.Event()

    def runtime_headers(self) -> dict[str, str]:
        """The headers ``GET /next`` carries for this invocation."""
        headers = {
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(self.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.invoked_arn,
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{self.request_id[-12:]}{'0' * 12}",
            "Content-Type": "application/json",
        }
        if self.client_context:
            headers["Lambda-Runtime-Client-Context"] = self.client_context
        if self.tenant is not None:
            headers["Lambda-Runtime-Aws-Tenant-Id"] = self.tenant
        return headers

    def finish(self, status: str, payload: bytes, error_type: str | None = None) -> None:
        """Record the outcome, once; later calls are ignored. It finished when the runtime answered,
        if it did (:attr:`answered_at`), else now."""
        if self.done.is_set():
            return
        self.status, self.payload, self.error_type = status, payload, error_type
        self.finished_at = self.answered_at or time.monotonic()
        self.done.set()
        self.delivered.set()

    def fail(self, status: str, error_type: str, message: str) -> None:
        """Record a failure the service itself reports (throttle, timeout, a dead runtime...)."""
        self.finish(
            status, json.dumps({"errorType": error_type, "errorMessage": message}).encode(), error_type
        )


class Environment:
    """One execution environment of one function version."""

    def __init__(
        self,
        environment_id: str,
        function: FunctionSpec,
        *,
        version: str,
        python: Path,
        opt_dir: Path,
        mount_opt: bool,
        extra_env: dict[str, str],
        cpu: CpuGroup | None = None,
        throttle_init: bool = False,
        provisioned_for: str | None = None,
        tenant: str | None = None,
    ) -> None:
        self.id = environment_id
        self.tenant = tenant
        """The tenant this environment serves (tenant isolation), only that one."""
        self.provisioned_for = provisioned_for
        """The qualifier whose Provisioned Concurrency this environment is (None: on-demand)."""
        self.started_ahead = False
        """Started before any invocation (Provisioned Concurrency, Managed Instances): none is cold."""
        self.cpu = cpu  # its cgroup: held to the memory's CPU share once its init is done
        self.throttle_init = throttle_init
        self.function = function
        self.version = version
        self.state = "starting"  # starting, idle, busy, dead
        self.idle_since = 0.0  # when it last became idle (time.monotonic())
        self._lines: list[str] = []  # its output so far (read through :attr:`output`)
        self._output_lock = threading.Lock()
        self._output_done = False
        self.started_at = time.monotonic()
        self.ready_at: float | None = None
        self.invocations = 0
        self.init_error: dict[str, Any] | None = None
        self.exit_code: int | None = None
        self._queue: queue.Queue[Invocation] = queue.Queue()
        self._running: dict[str, Invocation] = {}  # by request id: several at once on Managed Instances
        self.in_flight = 0  # invocations routed here and not finished (the service's count)
        self._lock = threading.Lock()
        self._closed = False
        self._spawn_with = (python, opt_dir, mount_opt, extra_env)
        self._api: LoopbackEndpoint | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # -- process -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the process and its Runtime API, once. Kept out of the constructor so that the
        service routes under its lock and starts environments outside it, all at once, as Lambda does."""
        with self._lock:
            if self._process is not None or self._closed:
                return
            self.started_at = time.monotonic()
            self._api = serve_runtime_api(self)
            self._process = self._spawn(*self._spawn_with)
        threading.Thread(target=self._read_output, daemon=True).start()

    def _lambda_env(
        self, python: Path, opt_dir: Path, mount_opt: bool, extra: dict[str, str]
    ) -> dict[str, str]:
        function = self.function
        stream = time.strftime("%Y/%m/%d") + f"/[{self.version}]{self.id}"
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(Path(function.code).resolve()),
            "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self._api.port if self._api else 0}",
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": self.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency"
            if self.provisioned_for
            else "on-demand",
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_SESSION_TOKEN": "emulator-session",
            "LAMBDA_EMULATOR_PYTHON": str(python),
            **(
                {"AWS_LAMBDA_MAX_CONCURRENCY": str(function.max_concurrency)}
                if function.max_concurrency
                else {}
            ),
            **extra,
            **function.environment,
        }
        if not function.entrypoint:  # a container image names its handler in CMD instead
            env["_HANDLER"] = function.handler
        if not mount_opt:
            # The layers stay where they were unpacked: point the runtime and the wrapper path there.
            env["LAMBDA_EMULATOR_OPT"] = str(opt_dir)
            wrapper = env.get("AWS_LAMBDA_EXEC_WRAPPER", "")
            if wrapper.startswith("/opt/"):
                env["AWS_LAMBDA_EXEC_WRAPPER"] = str(opt_dir / wrapper[len("/opt/") :])
        return env

    def _spawn(
        self, python: Path, opt_dir: Path, mount_opt: bool, extra: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        entrypoint = self.function.entrypoint
        command = [*entrypoint, self.function.handler] if entrypoint else [str(BOOTSTRAP)]
        if mount_opt:
            isolate = ["unshare", "--mount", "--propagation", "private", "sh", "-c", MOUNT_AND_START, "sh"]
            command = [*isolate, str(opt_dir), *command]
        if self.cpu is not None:
            # The process joins its cgroup before it runs anything; its children stay in it.
            if self.throttle_init:
                self.cpu.limit(cpu_share(self.function.memory_mb))
            command = ["sh", "-c", JOIN_CGROUP, "sh", str(self.cpu.procs), *command]
        env = self._lambda_env(python, opt_dir, mount_opt, extra)
        return subprocess.Popen(
            command,
            env=env,
            cwd=env["LAMBDA_TASK_ROOT"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int | None:
        """The process id of its runtime (None before it started)."""
        return self._process.pid if self._process else None

    def _read_output(self) -> None:
        """Collect the process's output line by line. Each read happens under the output lock, and
        only once data is there, so :meth:`drain_output` can tell when all of it is in."""
        process = self._process
        assert process is not None
        assert process.stdout is not None
        descriptor, partial = process.stdout.fileno(), b""
        while True:
            select.select([descriptor], [], [])
            with self._output_lock:
                chunk = os.read(descriptor, 65536)
                if not chunk:
                    self._output_done = True
                    break
                *lines, partial = (partial + chunk).split(b"\n")
                self._lines.extend(line.decode(errors="replace") for line in lines)
        if partial:
            self._lines.append(partial.decode(errors="replace"))
        self.exit_code = process.wait()
        self._died()

    @property
    def output(self) -> list[str]:
        """The lines its process wrote so far, those still in the pipe read first: the function
        prints before it responds, so a caller reading the output once an invocation returned finds
        its lines here, as in CloudWatch (a copy)."""
        self.drain_output()
        with self._output_lock:
            return list(self._lines)

    def drain_output(self, limit_s: float = 0.5) -> None:
        """Wait until what the process has written so far is read (at most ``limit_s``)."""
        process = self._process
        if process is None or process.stdout is None:
            return
        give_up_at = time.monotonic() + limit_s
        while time.monotonic() < give_up_at:
            with self._output_lock:
                if self._output_done or not select.select([process.stdout], [], [], 0)[0]:
                    return
            time.sleep(0.001)

    def _died(self) -> None:
        with self._lock:
            self.state = "dead"
            pending, self._running = list(self._running.values()), {}
        while not self._queue.empty():
            pending.append(self._queue.get_nowait())
        for invocation in pending:
            if self.init_error is not None:
                error = self.init_error
                invocation.fail("init_error", error["errorType"], error.get("errorMessage", ""))
            else:
                status = f"exit status {self.exit_code}"
                message = f"RequestId: {invocation.request_id} Error: Runtime exited with error: {status}"
                invocation.fail("exit_error", "Runtime.ExitError", message)

    # -- runtime API callbacks -----------------------------------------------------------------

    def next_invocation(self) -> Invocation:
        """Called by ``GET /next``: blocks until an invocation is given to this environment."""
        while True:
            try:
                invocation = self._queue.get(timeout=0.5)
                break
            except queue.Empty:
                if self._closed:
                    raise ConnectionAbortedError("environment stopped") from None
        with self._lock:
            if self.ready_at is None:
                self.ready_at = time.monotonic()
                if self.cpu is not None and not self.throttle_init:
                    self.cpu.limit(cpu_share(self.function.memory_mb))  # the init is over
            self._running[invocation.request_id] = invocation
        invocation.started_at = time.monotonic()
        invocation.deadline_at = invocation.started_at + self.function.timeout_s
        invocation.deadline_ms = int((time.time() + self.function.timeout_s) * 1000)
        invocation.delivered.set()
        return invocation

    def responded(self, request_id: str, body: bytes, error: dict[str, Any] | None) -> None:
        """Called for ``/response`` and ``/error``: the invocation ends, and its caller has the answer,
        when the answer came, as Lambda's does: its logs are read when :attr:`output` is (on a
        loaded machine that took up to half a second, which callers waited for)."""
        answered_at = time.monotonic()
        with self._lock:
            invocation = self._running.pop(request_id, None)
            if invocation is None:
                return
            invocation.answered_at = answered_at
        if error is None:
            invocation.finish("success", body)
        else:
            invocation.finish("error", body, error["errorType"])

    def init_failed(self, error: dict[str, Any]) -> None:
        """Called for ``/init/error``: the process exits next, failing what waits."""
        self.init_error = error

    # -- the service's side --------------------------------------------------------------------

    def run(self, invocation: Invocation) -> None:
        """Run ``invocation`` here and wait for its outcome, enforcing the function's timeout.

        A cold start has the init phase (up to 10 s) before the timeout starts, as in Lambda.
        """
        invocation.environment_id = self.id
        invocation.cold = self.invocations == 0 and not self.started_ahead
        self.invocations += 1
        self.start()
        self._queue.put(invocation)
        if self.state == "dead":
            self._died()
        waited_s = INIT_TIMEOUT_S if invocation.cold else WARM_PICKUP_S
        if not invocation.delivered.wait(waited_s):
            what = "init did not end" if invocation.cold else "the runtime did not ask for the next event"
            message = f"RequestId: {invocation.request_id} Error: {what} in {waited_s:.0f} s"
            invocation.fail("timeout", "Runtime.InitTimeout", message)
            self.stop()
        elif not invocation.done.wait(max(0.0, invocation.deadline_at - time.monotonic())) and not (
            self._answered_in_time(invocation)
        ):
            seconds = f"{self.function.timeout_s:.2f}"
            message = f"RequestId: {invocation.request_id} Task timed out after {seconds} seconds"
            invocation.fail("timeout", "Sandbox.Timedout", message)
            self.stop()  # Lambda discards an environment whose invocation timed out

    @staticmethod
    def _answered_in_time(invocation: Invocation) -> bool:
        """Whether the runtime answered before the deadline (its answer being recorded as it passed)."""
        answered_at = invocation.answered_at
        return answered_at is not None and answered_at <= invocation.deadline_at and invocation.done.wait(1.0)

    def stop(self) -> None:
        """End the process (and its Runtime API) at once."""
        with self._lock:
            self._closed = True
            process, api = self._process, self._api
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        if api is not None:
            api.close()
        if self.cpu is not None:
            self.cpu.remove()
        with self._lock:
            self.state = "dead"
