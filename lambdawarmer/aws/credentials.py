"""The function's credentials: the environment's keys, else the container endpoint's (one fetch at a time)."""

from __future__ import annotations

import json
import os
import re
import threading
import time

from .connections import CallFailed, Request, connect, exchange, split_url
from .errors import AwsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import http.client
    from collections.abc import Mapping


REFRESH_BEFORE_EXPIRY_S = 15 * 60
CREDENTIALS_TIMEOUT_S = 2.0
RETRY_FETCH_S = 10.0
"""How long a credentials fetch is not made again (failed, or giving ones that expire soon too),
while credentials still valid serve."""
CONTAINER_HOST = "169.254.170.2"
CONTAINER_HOSTS = frozenset((CONTAINER_HOST, "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]", "localhost"))


MAX_CREDENTIALS_BYTES = 64 * 1024


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
    once per invoke). A fetch, failed or not, is not made again for :data:`RETRY_FETCH_S` while the
    ones held last (the endpoint may hand out ones that expire soon too)."""

    __slots__ = ("_failure", "_fetched", "_fetching", "_retry_at", "_wake")

    def __init__(self) -> None:
        self._fetched: Credentials | None = None
        self._fetching = False
        self._retry_at = 0.0
        self._failure: AwsError | None = None
        self._wake = threading.Condition(threading.Lock())

    def get(self, timeout_s: float = CREDENTIALS_TIMEOUT_S) -> Credentials:
        """Credentials to sign with; waiting for a fetch takes ``timeout_s`` at most."""
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
            if fetched is not None:  # a refresh: the endpoint may hand out ones expiring soon again,
                self._retry_at = time.monotonic() + RETRY_FETCH_S  # not to be fetched by every caller
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
    scheme, host, port, path = split_url(full_uri)
    if scheme != "https" and host not in CONTAINER_HOSTS and not is_loopback(host):
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
        connection = connect(scheme, host, port, deadline)
        status, _, body, _ = exchange(
            connection, Request("GET", path, headers, b""), deadline, MAX_CREDENTIALS_BYTES
        )
    except CallFailed as failed:
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


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8 or ::1), not a name that looks like one."""
    return bool(re.fullmatch(r"127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}", host)) or host in ("::1", "[::1]")
