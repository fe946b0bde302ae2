"""Signed AWS calls from inside a function, standard library only: credentials, endpoints, connections.

boto3 costs 0.35 s to import on a whole core and 5 s at 128 MB's 7% of one, the very cold start we
exist to remove; the layer makes three calls (Lambda Invoke, CloudWatch GetMetricData and
PutMetricData), so it makes them itself over ``http.client`` with Signature Version 4 (sigv4.py).
Importing this module and what it needs costs ~35 ms of CPU on top of the runtime's own imports:
36 ms of wall time on a whole core, 0.6 s at 128 MB's 7% (bench/results.md, section 8), against 5 s
for boto3 there. Nothing imports it before the first call needs it (the first fan-out or auto
read; at init in the PutMetricData mode, where every request calls).

* **Credentials** as Lambda provides them: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/
  ``AWS_SESSION_TOKEN``, else the container credentials endpoint (``AWS_CONTAINER_CREDENTIALS_FULL_URI``
  or ``_RELATIVE_URI``, with ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` or ``_TOKEN``), fetched again
  15 minutes before they expire, as botocore does.
* **Endpoints** as boto3 resolves them: ``AWS_ENDPOINT_URL_<SERVICE>``, then ``AWS_ENDPOINT_URL``
  (unless ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``), else the region's partition, FIPS and dual-stack
  included.
* **Connections** are kept alive and reused, across invocations too. One idle longer than a NAT
  gateway keeps a flow (350 s), or that the service closed while the environment was frozen (its
  socket is readable: the close arrived), is dropped before use, and a request on a kept-alive
  connection that fails before any answer came back is sent once more on a new one: it never
  reached the service. Nothing else is retried.
* **Every call is bounded**: connect within min(timeout, 3 s), and the whole call (connect, TLS,
  send, headers, body) ends by its deadline, the timeout cut to what the caller has left, whatever
  the server does: a watchdog shuts the socket at the deadline (watchdog.py), so a server that
  trickles bytes cannot stretch it. No answer longer than the service's limit is read (Invoke's
  6 MB, less elsewhere): memory stays bounded.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import threading
import time

from .sigv4 import authorization
from .watchdog import WATCHDOG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from ssl import SSLContext
    from typing import Any

MAX_CONNECT_TIMEOUT_S = 3.0
MAX_IDLE_S = 340.0
"""A kept-alive connection idle longer is not reused: NAT gateways and Lambda's network drop idle
flows after 350 s without a word, and a request sent into one would wait out its whole timeout."""
REFRESH_BEFORE_EXPIRY_S = 15 * 60
CREDENTIALS_TIMEOUT_S = 2.0
RETRY_FETCH_S = 10.0
"""How long a failed credentials fetch is not tried again, while credentials still valid serve."""
CONTAINER_HOST = "169.254.170.2"
CONTAINER_HOSTS = frozenset((CONTAINER_HOST, "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]", "localhost"))
REGION_NAME = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?")
PARTITIONS = (
    # (name, region pattern, DNS suffix, dual-stack DNS suffix), from botocore's partitions.json.
    # The ISO partitions' dual-stack endpoints differ by service in botocore's rules (or do not
    # exist): none is assumed there.
    ("aws-cn", re.compile(r"cn-\w+-\d+"), "amazonaws.com.cn", "api.amazonwebservices.com.cn"),
    ("aws-us-gov", re.compile(r"us-gov-\w+-\d+"), "amazonaws.com", "api.aws"),
    ("aws-iso", re.compile(r"us-iso-\w+-\d+"), "c2s.ic.gov", None),
    ("aws-iso-b", re.compile(r"us-isob-\w+-\d+"), "sc2s.sgov.gov", None),
    ("aws-iso-e", re.compile(r"eu-isoe-\w+-\d+"), "cloud.adc-e.uk", None),
    ("aws-iso-f", re.compile(r"us-isof-\w+-\d+"), "csp.hci.ic.gov", None),
    ("aws-eusc", re.compile(r"eusc-de-\w+-\d+"), "amazonaws.eu", "api.amazonwebservices.eu"),
)
COMMERCIAL = ("aws", None, "amazonaws.com", "api.aws")
"""The ``aws`` partition: every region the others do not claim, as botocore has it."""
_TRUE = ("true", "1")


class AwsError(Exception):
    """A call that failed: ``code`` is what botocore names it (the service's error code, or
    ``EndpointConnectionError``, ``ConnectTimeoutError``, ``ReadTimeoutError``...), ``status`` the
    HTTP status when an answer came."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status


def error_code(error: BaseException) -> str:
    """The AWS error code of a failed call (``AccessDeniedException``...): ours, or botocore's (the
    command line calls AWS through boto3); the exception's type name when it carries none."""
    if isinstance(error, AwsError):
        return error.code
    response = getattr(error, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        return str(response["Error"].get("Code") or type(error).__name__)
    return type(error).__name__


def error_reason(error: BaseException) -> str:
    """A short, readable reason for a failed call: ``Code: message``, at most 300 characters."""
    if isinstance(error, AwsError):
        return str(error)[:300]
    response = getattr(error, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        message = response["Error"].get("Message", "")
        code = error_code(error)
        return (f"{code}: {message}" if message else code)[:300]
    return f"{type(error).__name__}: {error}"[:300]


class Service:
    """An AWS service as its endpoint and its signature name it."""

    __slots__ = ("endpoint_prefix", "env_name", "fips_is_plain_in", "max_answer_bytes", "signing_name")

    def __init__(
        self,
        endpoint_prefix: str,
        signing_name: str,
        env_name: str,
        max_answer_bytes: int,
        fips_is_plain_in: tuple[str, ...] = (),
    ) -> None:
        self.endpoint_prefix = endpoint_prefix
        self.signing_name = signing_name
        self.env_name = env_name  # AWS_ENDPOINT_URL_<this>: the service id, upper case
        self.max_answer_bytes = max_answer_bytes  # a longer answer is refused, never held in memory
        self.fips_is_plain_in = fips_is_plain_in  # partitions whose plain endpoint is the FIPS one


KIB = 1024
LAMBDA = Service("lambda", "lambda", "LAMBDA", 6 * KIB * KIB + 64 * KIB)  # Invoke answers 6 MB at most
CLOUDWATCH = Service("monitoring", "monitoring", "CLOUDWATCH", KIB * KIB, fips_is_plain_in=("aws-us-gov",))
CODEDEPLOY = Service("codedeploy", "codedeploy", "CODEDEPLOY", 256 * KIB)
MAX_CREDENTIALS_BYTES = 64 * KIB


def region(environ: Mapping[str, str] | None = None) -> str:
    """The function's region: ``AWS_REGION`` (Lambda sets it), else ``AWS_DEFAULT_REGION``."""
    environ = os.environ if environ is None else environ
    name = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or ""
    if not name:
        raise AwsError("NoRegionError", "You must specify a region (AWS_REGION).")
    if not REGION_NAME.fullmatch(name):
        raise AwsError(
            "InvalidRegionError", f"Provided region_name '{name}' doesn't match a supported format."
        )
    return name


def endpoint_url(service: Service, region_name: str, environ: Mapping[str, str] | None = None) -> str:
    """The URL boto3 would call for ``service`` in ``region_name``."""
    environ = os.environ if environ is None else environ
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() not in _TRUE:
        configured = environ.get(f"AWS_ENDPOINT_URL_{service.env_name}") or environ.get("AWS_ENDPOINT_URL")
        if configured:
            return configured
    partition, _, suffix, dual_stack_suffix = next(
        (found for found in PARTITIONS if found[1].fullmatch(region_name)), COMMERCIAL
    )
    fips = environ.get("AWS_USE_FIPS_ENDPOINT", "").lower() in _TRUE
    if environ.get("AWS_USE_DUALSTACK_ENDPOINT", "").lower() in _TRUE:
        if dual_stack_suffix is None:
            raise AwsError(
                "EndpointVariantError",
                f"no dual-stack endpoint is known for {region_name} ({partition}): unset "
                f"AWS_USE_DUALSTACK_ENDPOINT or set AWS_ENDPOINT_URL_{service.env_name}",
            )
        suffix = dual_stack_suffix
    elif partition in service.fips_is_plain_in:
        fips = False
    return f"https://{service.endpoint_prefix}{'-fips' if fips else ''}.{region_name}.{suffix}"


class Credentials:
    """One set of keys, and when they expire (epoch seconds; None: they do not)."""

    __slots__ = ("access_key", "expires_at", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None, expires_at: float | None) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token
        self.expires_at = expires_at


class CredentialSource:
    """The function's credentials, looked up on each call (the environment first, as botocore does);
    the container endpoint's are kept until 15 minutes before they expire, then fetched again by one
    caller while the others go on signing with the ones still valid (a fan-out does not fetch them
    once per invoke). A failed fetch is not tried again for :data:`RETRY_FETCH_S` while the old
    ones last. ``given``: those, always (the command line passes its boto3 session's)."""

    __slots__ = ("_failure", "_fetched", "_fetching", "_given", "_retry_at", "_wake")

    def __init__(self, given: Credentials | None = None) -> None:
        self._given = given
        self._fetched: Credentials | None = None
        self._fetching = False
        self._retry_at = 0.0
        self._failure: AwsError | None = None
        self._wake = threading.Condition(threading.Lock())

    def get(self, timeout_s: float = CREDENTIALS_TIMEOUT_S) -> Credentials:
        """Credentials to sign with; waiting for a fetch takes ``timeout_s`` at most."""
        if self._given is not None:
            return self._given
        environ = os.environ
        access_key, secret_key = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
        if access_key and secret_key:
            return Credentials(access_key, secret_key, environ.get("AWS_SESSION_TOKEN") or None, None)
        deadline = time.monotonic() + timeout_s
        with self._wake:
            while True:
                fetched = self._fetched
                usable = fetched is not None and not _expires_within(fetched, 60)
                if fetched is not None and not _expires_within(fetched, REFRESH_BEFORE_EXPIRY_S):
                    return fetched
                if usable and (self._fetching or time.monotonic() < self._retry_at):
                    return fetched  # type: ignore[return-value]
                if not self._fetching:
                    if self._failure is not None and time.monotonic() < self._retry_at:
                        raise self._failure
                    self._fetching = True
                    break
                left_s = deadline - time.monotonic()
                if left_s <= 0:
                    raise AwsError("CredentialRetrievalError", "timed out waiting for the credentials fetch")
                self._wake.wait(left_s)
        try:
            fetched_now = _fetch_container_credentials(environ, max(0.001, deadline - time.monotonic()))
        except AwsError as error:
            with self._wake:
                self._fetching, self._failure = False, error
                self._retry_at = time.monotonic() + RETRY_FETCH_S
                self._wake.notify_all()
            if usable:
                return fetched  # type: ignore[return-value]
            raise
        with self._wake:
            self._fetched, self._fetching, self._failure = fetched_now, False, None
            self._wake.notify_all()
        return fetched_now


def _expires_within(credentials: Credentials, seconds: float) -> bool:
    return credentials.expires_at is not None and credentials.expires_at - time.time() < seconds


def _fetch_container_credentials(environ: Mapping[str, str], timeout_s: float) -> Credentials:
    full_uri = environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    relative_uri = environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    if relative_uri:
        full_uri = f"http://{CONTAINER_HOST}{relative_uri}"
    if not full_uri:
        raise AwsError(
            "NoCredentialsError",
            "Unable to locate credentials: neither AWS_ACCESS_KEY_ID with AWS_SECRET_ACCESS_KEY nor "
            "AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
        )
    scheme, host, port, path = _split_url(full_uri)
    if scheme != "https" and host not in CONTAINER_HOSTS and not _is_loopback(host):
        raise AwsError(
            "CredentialRetrievalError",
            f"Unsupported host '{host}' in AWS_CONTAINER_CREDENTIALS_FULL_URI: only https, a loopback "
            f"address or {', '.join(sorted(CONTAINER_HOSTS))}",
        )
    headers = {"Accept": "application/json"}
    token = _container_token(environ)
    if token:
        headers["Authorization"] = token
    deadline = time.monotonic() + timeout_s
    connection: http.client.HTTPConnection | None = None
    try:
        connection = _connection(scheme, host, port, deadline)
        status, _, body, _ = _exchange(
            connection, _Request("GET", path, headers, b""), deadline, MAX_CREDENTIALS_BYTES
        )
    except _CallFailed as failed:
        raise AwsError("CredentialRetrievalError", f"container credentials endpoint: {failed.why}") from None
    finally:
        if connection is not None:
            connection.close()
    return _parse_credentials(status, body)


def _parse_credentials(status: int, body: bytes) -> Credentials:
    """The keys in a container credentials answer. What is wrong with one is named, never shown: the
    body holds the secret key and the session token."""

    def refused(why: str) -> AwsError:
        return AwsError(
            "CredentialRetrievalError", f"container credentials endpoint answered {status}: {why}"
        )

    try:
        data = json.loads(body)
    except ValueError:
        raise refused(f"not JSON ({len(body)} bytes)") from None
    if not isinstance(data, dict):
        raise refused(f"a JSON {type(data).__name__}, not an object")
    keys = [data.get(name) for name in ("AccessKeyId", "SecretAccessKey")]
    if not all(isinstance(key, str) and key for key in keys):
        raise refused("no AccessKeyId and SecretAccessKey strings in it")
    token = data.get("Token")
    expiration = data.get("Expiration")
    try:
        expires_at = None if expiration in (None, "") else _epoch(expiration)
    except (ValueError, TypeError, OverflowError):
        raise refused("its Expiration is neither an ISO 8601 time nor epoch seconds") from None
    return Credentials(
        str(keys[0]), str(keys[1]), token if isinstance(token, str) and token else None, expires_at
    )


def _container_token(environ: Mapping[str, str]) -> str | None:
    path = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    if path:
        try:
            with open(path) as file:
                token = file.read().strip()
        except OSError as error:
            raise AwsError(
                "CredentialRetrievalError", f"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: {error}"
            ) from None
    else:
        token = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "")
    if "\r" in token or "\n" in token:
        raise AwsError("CredentialRetrievalError", "the container authorization token holds a line break")
    return token or None


def _epoch(stamp: object) -> float:
    """``2026-12-01T10:00:00Z`` (or with ``+00:00``, fractions), or epoch seconds (botocore takes
    both), as epoch seconds; raises ValueError or TypeError for anything else."""
    import calendar

    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        return float(stamp)
    if not isinstance(stamp, str):
        raise TypeError(f"a {type(stamp).__name__}")
    if re.fullmatch(r"\d+(\.\d+)?", stamp):
        return float(stamp)
    return float(calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")))


def _is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8 or ::1), not a name that looks like one."""
    return bool(re.fullmatch(r"127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}", host)) or host in ("::1", "[::1]")


def _split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an ``http(s)://host[:port][/path]`` URL."""
    scheme, separator, rest = url.partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in ("http", "https"):
        raise AwsError("InvalidEndpoint", f"not an http(s) URL: {url!r}")
    authority, slash, path = rest.partition("/")
    found = re.fullmatch(r"(\[[^\]]*\]|[^:]*)(?::(\d+))?", authority)
    if found is None or not found.group(1):
        raise AwsError("InvalidEndpoint", f"no host in the URL {url!r}")
    port = int(found.group(2)) if found.group(2) else 443 if scheme == "https" else 80
    return scheme, found.group(1), port, (slash + path).rstrip("/")


_tls: list[SSLContext] = []


def _tls_context() -> SSLContext:
    """One TLS context per process (loading the trust store costs ~10 ms, 0.15 s at 128 MB)."""
    if not _tls:
        import ssl

        _tls.append(ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or None))
    return _tls[0]


class _CallFailed(Exception):
    """A connection or an exchange that failed: ``kind`` is ``timeout`` (the deadline passed),
    ``connect``, ``tls``, ``reset`` (closed before any answer), ``closed`` (broken during the
    answer) or ``too large``; ``why`` says it in words (never with a body)."""

    def __init__(self, kind: str, why: str) -> None:
        super().__init__(why)
        self.kind = kind
        self.why = why


def _connection(scheme: str, host: str, port: int, deadline: float) -> http.client.HTTPConnection:
    """A connection to ``host``, connected (and its TLS handshake done) by ``deadline``
    (``time.monotonic()``), in at most :data:`MAX_CONNECT_TIMEOUT_S`; raises :class:`_CallFailed`."""
    bare_host = host.strip("[]")
    remaining_s = min(MAX_CONNECT_TIMEOUT_S, deadline - time.monotonic())
    if remaining_s <= 0:
        raise _CallFailed("timeout", "no time left to connect")
    connection = http.client.HTTPConnection(bare_host, port, timeout=remaining_s)
    try:
        connection.connect()
    except TimeoutError:
        raise _CallFailed("timeout", "connect timed out") from None
    except OSError as error:
        raise _CallFailed("connect", f"could not connect: {error.strerror or error}") from None
    if scheme == "https":
        watched = WATCHDOG.watch(connection.sock, min(deadline, time.monotonic() + MAX_CONNECT_TIMEOUT_S))
        try:
            tls = _tls_context().wrap_socket(
                connection.sock, server_hostname=bare_host, do_handshake_on_connect=False
            )
            connection.sock = watched.sock = tls
            tls.do_handshake()
        except OSError as error:
            connection.close()
            if watched.cut or isinstance(error, TimeoutError):
                raise _CallFailed("timeout", "the TLS handshake timed out") from None
            raise _CallFailed("tls", f"TLS failed: {getattr(error, 'reason', None) or error}") from None
        finally:
            WATCHDOG.release(watched)
    return connection


def _exchange(
    connection: http.client.HTTPConnection, request: _Request, deadline: float, max_bytes: int
) -> tuple[int, dict[str, str], bytes, bool]:
    """(status, headers, body, whether the connection may be kept) of ``request``: all of it by
    ``deadline``, whatever the server does (the watchdog cuts the socket then), and no body longer
    than ``max_bytes`` held; raises :class:`_CallFailed`."""
    if deadline - time.monotonic() <= 0 or connection.sock is None:
        raise _CallFailed("timeout", "no time left")
    connection.sock.settimeout(deadline - time.monotonic())
    watched = WATCHDOG.watch(connection.sock, deadline)
    answered = False
    try:
        connection.request(request.method, request.target, body=request.body, headers=request.headers)
        answer = connection.getresponse()
        answered = True
        length = answer.getheader("content-length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise _CallFailed("too large", f"an answer of {length} bytes, over the {max_bytes} read")
        chunks, size = [], 0
        while chunk := answer.read1(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise _CallFailed("too large", f"an answer longer than the {max_bytes} bytes read")
            chunks.append(chunk)
        answer.close()  # all of it read: the connection may send the next request
    except (OSError, http.client.HTTPException) as error:
        if watched.cut or isinstance(error, TimeoutError):
            raise _CallFailed("timeout", "timed out") from None
        if not answered and isinstance(
            error, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
        ):
            raise _CallFailed("reset", "closed before any answer") from None  # RemoteDisconnected too
        raise _CallFailed("closed", "the connection broke") from None
    finally:
        WATCHDOG.release(watched)
    if watched.cut:  # the cut can also look like an answer that ended early
        raise _CallFailed("timeout", "timed out")
    headers = {name.lower(): value for name, value in answer.getheaders()}
    return answer.status, headers, b"".join(chunks), not answer.will_close


class Response:
    """What a call got back: status, headers (lower-case names) and body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class _Idle:
    __slots__ = ("connection", "since")

    def __init__(self, connection: http.client.HTTPConnection) -> None:
        self.connection = connection
        self.since = time.monotonic()


class AwsClient:
    """Signed calls to one service, on kept-alive connections; safe to use from many threads."""

    __slots__ = (
        "_credentials",
        "_idle",
        "_lock",
        "base_path",
        "host",
        "host_header",
        "pool_size",
        "port",
        "region",
        "scheme",
        "service",
        "timeout_s",
        "url",
    )

    def __init__(
        self,
        service: Service,
        timeout_ms: int,
        pool_size: int,
        *,
        credentials: Credentials | None = None,
        region_name: str | None = None,
    ) -> None:
        self.service = service
        self.timeout_s = timeout_ms / 1000
        self.pool_size = pool_size
        self.region = region_name or region()
        self.url = endpoint_url(service, self.region)
        self.scheme, self.host, self.port, self.base_path = _split_url(self.url)
        default_port = 443 if self.scheme == "https" else 80
        self.host_header = self.host if self.port == default_port else f"{self.host}:{self.port}"
        self._credentials = CredentialSource(credentials)
        self._idle: list[_Idle] = []
        self._lock = threading.Lock()

    def call(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        timeout_s: float | None = None,
    ) -> Response:
        """Send one signed request and read its whole answer within ``timeout_s`` (at most the
        client's timeout). A 2xx answer is returned; anything else raises :class:`AwsError`."""
        started = time.monotonic()
        limit_s = self.timeout_s if timeout_s is None else max(0.001, min(timeout_s, self.timeout_s))
        credentials = self._credentials.get(min(limit_s, CREDENTIALS_TIMEOUT_S))
        target = self.base_path + path + (f"?{query}" if query else "")
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        signed = {"host": self.host_header, "x-amz-date": amz_date, **(headers or {})}
        if credentials.token:
            signed["x-amz-security-token"] = credentials.token
        signed["Authorization"] = authorization(
            method=method,
            path=self.base_path + path,
            query=query,
            headers=signed,
            body=body,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            region=self.region,
            service=self.service.signing_name,
            amz_date=amz_date,
        )
        request = _Request(method, target, signed, body)
        deadline = started + limit_s
        while True:
            connection, reused = self._take(deadline)
            try:
                status, answer_headers, answer_body, keep = _exchange(
                    connection, request, deadline, self.service.max_answer_bytes
                )
            except _CallFailed as failed:
                connection.close()
                if failed.kind == "reset" and reused:
                    continue  # the service closed that kept-alive connection: the request never reached it
                raise self._error(failed) from None
            except BaseException:
                connection.close()
                raise
            break
        if keep:
            self._give(connection)
        else:
            connection.close()
        if not 200 <= status < 300:
            raise _service_error(status, answer_headers, answer_body)
        return Response(status, answer_headers, answer_body)

    def _error(self, failed: _CallFailed) -> AwsError:
        """``failed`` as botocore names it."""
        url = f'endpoint URL: "{self.url}"'
        if failed.kind == "timeout":
            return AwsError("ReadTimeoutError", f"Read timeout on {url}")
        if failed.kind == "connect":
            return AwsError("EndpointConnectionError", f"Could not connect to the {url} ({failed.why})")
        if failed.kind == "tls":
            return AwsError("SSLError", f"SSL validation failed for {url}: {failed.why}")
        if failed.kind == "too large":
            return AwsError("ResponseTooLarge", f"{failed.why} from {url}")
        return AwsError(
            "ConnectionClosedError", f"Connection was closed before we received a valid response from {url}."
        )

    def _take(self, deadline: float) -> tuple[http.client.HTTPConnection, bool]:
        """A kept-alive connection still open (and whether it was reused), else a new one."""
        with self._lock:
            while self._idle:
                idle = self._idle.pop()
                sock = idle.connection.sock
                if (
                    sock is not None
                    and time.monotonic() - idle.since < MAX_IDLE_S
                    and not select.select([sock], [], [], 0)[0]  # readable while idle: closed, or junk
                ):
                    return idle.connection, True
                idle.connection.close()
        try:
            return _connection(self.scheme, self.host, self.port, deadline), False
        except _CallFailed as failed:
            if failed.kind == "timeout":
                raise AwsError(
                    "ConnectTimeoutError", f'Connect timeout on endpoint URL: "{self.url}"'
                ) from None
            raise self._error(failed) from None

    def _give(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.pool_size:
                self._idle.append(_Idle(connection))
                return
        connection.close()


CLOUDWATCH_TARGET = "GraniteServiceVersion20100801"
CODEDEPLOY_TARGET = "CodeDeploy_20141006"


def json_call(
    client: AwsClient,
    target: str,
    request: Mapping[str, object],
    *,
    json_version: str = "1.1",
    query_compatible: bool = False,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """One operation of a service speaking the AWS JSON protocol (``X-Amz-Target: Prefix.Operation``):
    the answer, parsed."""
    headers = {"Content-Type": f"application/x-amz-json-{json_version}", "X-Amz-Target": target}
    if query_compatible:
        headers["x-amzn-query-mode"] = "true"
    response = client.call(
        "POST",
        "/",
        headers=headers,
        body=json.dumps(request, separators=(",", ":")).encode(),
        timeout_s=timeout_s,
    )
    try:
        answer = json.loads(response.body or b"{}")
    except ValueError:
        raise AwsError("ResponseParserError", f"{target}: the answer is not JSON") from None
    return answer if isinstance(answer, dict) else {}


def cloudwatch_call(
    client: AwsClient, operation: str, request: Mapping[str, object], timeout_s: float | None = None
) -> dict[str, Any]:
    """One CloudWatch operation in its JSON protocol (awsJson1_0, query-compatible): the answer."""
    return json_call(
        client,
        f"{CLOUDWATCH_TARGET}.{operation}",
        request,
        json_version="1.0",
        query_compatible=True,
        timeout_s=timeout_s,
    )


def codedeploy_call(
    client: AwsClient, operation: str, request: Mapping[str, object], timeout_s: float | None = None
) -> dict[str, Any]:
    """One CodeDeploy operation (awsJson1_1): the answer."""
    return json_call(client, f"{CODEDEPLOY_TARGET}.{operation}", request, timeout_s=timeout_s)


class _Request:
    __slots__ = ("body", "headers", "method", "target")

    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body


class LazyClient:
    """One :class:`AwsClient` per execution environment, made on first use (a bad region or
    endpoint setting then fails that call, never the function's init)."""

    __slots__ = ("_client", "_lock", "_options", "_pool_size", "_service", "_timeout_ms")

    def __init__(self, service: Service, timeout_ms: int, pool_size: int, **options: Any) -> None:
        self._service = service
        self._timeout_ms = timeout_ms
        self._pool_size = pool_size
        self._options = options  # AwsClient's keyword arguments: credentials, region_name
        self._client: AwsClient | None = None
        self._lock = threading.Lock()

    def get(self) -> AwsClient:
        """The client; thread-safe, so concurrent first uses still make only one."""
        with self._lock:
            if self._client is None:
                self._client = AwsClient(self._service, self._timeout_ms, self._pool_size, **self._options)
            return self._client


def _service_error(status: int, headers: Mapping[str, str], body: bytes) -> AwsError:
    """The error an answer of ``status`` carries, named as botocore names it."""
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    code = (
        headers.get("x-amzn-query-error", "").split(";")[0]  # CloudWatch's JSON protocol: the query code
        or headers.get("x-amzn-errortype", "").split(":")[0]
        or str(data.get("__type") or data.get("code") or data.get("Code") or "").rsplit("#", 1)[-1]
    )
    message = data.get("message") or data.get("Message") or ""
    if not code and body.lstrip().startswith(b"<"):  # an XML error (the query protocol's)
        found = {tag: re.search(rf"<{tag}>([^<]*)</{tag}>".encode(), body) for tag in ("Code", "Message")}
        code = found["Code"].group(1).decode(errors="replace") if found["Code"] else ""
        message = found["Message"].group(1).decode(errors="replace") if found["Message"] else ""
    if not code:
        code = str(status)
        message = message or body[:100].decode(errors="replace")
    return AwsError(code, str(message), status)
