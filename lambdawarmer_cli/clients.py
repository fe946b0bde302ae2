"""The command line's AWS clients: boto3, with the caller's usual configuration, made when first used.

The one place they are made: ``clients.iam``, ``clients.scheduler``... for the control plane
(standard retries), :meth:`Clients.invoke_client` for pings (one attempt, a ping's own timeout),
:meth:`Clients.metric_reader` for the layer's own auto-concurrency code run from here. The layer's
AWS client (``lambdawarmer.aws``) is never used here: the runtime's request builders and answer
parsers are, wrapped by boto3, and boto3's errors are read by :func:`error_code` and :func:`error_reason`.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import os
import threading
from typing import TYPE_CHECKING, Any

from .exit_status import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from lambdawarmer.function_ref import FunctionRef

CONNECT_TIMEOUT_S = 10
CONTROL_PLANE_READ_TIMEOUT_S = 60
MAX_PARALLEL_PINGS = 16
SETUP_ERRORS = {
    "NoRegionError": "no AWS region: pass --region REGION, or set AWS_REGION (or AWS_DEFAULT_REGION, or "
    "region in your profile's configuration)",
    "NoCredentialsError": "no AWS credentials found: pass --profile NAME (or set AWS_PROFILE), set "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, sign in (aws sso login --profile NAME), or run where a "
    "role provides them (an instance, a container, CI with OIDC)",
}
"""What boto3's errors for a missing configuration mean to the caller, in one line each."""


def is_aws_error(error: BaseException) -> bool:
    """Whether ``error`` is boto3's: a refused call, no credentials or region, no connection."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # without boto3 nothing raised is boto3's
        return False
    return isinstance(error, (BotoCoreError, ClientError))


def error_code(error: BaseException) -> str:
    """The AWS error code of a refused call (``AccessDeniedException``...); the exception's type
    name when it carries none (``EndpointConnectionError``, ``NoCredentialsError``...)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        return str(response["Error"].get("Code") or type(error).__name__)
    return type(error).__name__


def error_reason(error: BaseException) -> str:
    """A short, readable reason for a failed call: ``Code: message``, at most 300 characters; for a
    missing region or credentials, what to set."""
    if type(error).__name__ in SETUP_ERRORS:
        return SETUP_ERRORS[type(error).__name__]
    response = getattr(error, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        message = response["Error"].get("Message", "")
        code = error_code(error)
        return (f"{code}: {message}" if message else code)[:300]
    return f"{type(error).__name__}: {error}"[:300]


def not_reached(error: BaseException, target: FunctionRef, region: str | None) -> str:
    """Why ``target`` could not be reached (``region``: the configuration's), as ``ping``,
    ``status``, ``enable`` and ``disable`` all say it: for a function not found, the name, the
    qualifier and the region looked in."""
    if error_code(error) != "ResourceNotFoundException":
        return error_reason(error)
    where = target.function.split(":")[3] if target.is_arn else region
    qualifier = f" (qualifier {target.qualifier})" if target.qualifier else ""
    return (
        f"not found: no function {target.name}{qualifier} in {where}: check the name, the qualifier and "
        f"the region (--region) ({error_reason(error)})"
    )


_SESSIONS = threading.Lock()
"""Held while a session is made on a shared loader (boto3 adds to the loader's search paths)."""


@functools.cache
def _shared_loader(data_path: str | None) -> Any:
    """botocore's API models, loaded once for every session of the process that reads them from
    ``data_path`` (``AWS_DATA_PATH`` or a profile's ``data_path``; None: botocore's own): each session
    would load its own (a client of a new session took 107 ms of CPU, 14 ms with this loader; a fleet
    of many accounts and regions spent most of its time there)."""
    from botocore.loaders import create_loader

    return create_loader(data_path)


def new_session(profile: str | None = None, region: str | None = None, **credentials: str) -> Any:
    """A boto3 session with the caller's usual configuration (``profile``: a named one; ``credentials``:
    ``aws_access_key_id``... given instead), on the process's one loader of API models."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    if profile is not None:
        core.set_config_variable("profile", profile)  # a profile's data_path chooses the loader
    loader = _shared_loader(core.get_config_variable("data_path"))
    core.register_component("data_loader", loader)
    with _SESSIONS:
        made = boto3.session.Session(
            profile_name=profile, region_name=region, botocore_session=core, **credentials
        )
        # each boto3 session adds its models' folder to the loader's search paths: once is enough
        loader.search_paths[:] = dict.fromkeys(loader.search_paths)
    return made


class Clients:
    """boto3 clients for one AWS configuration (profile, region)."""

    def __init__(self, profile: str | None = None, region: str | None = None, *, session: Any = None) -> None:
        """``region``: ``--region``; else ``AWS_REGION``, as the AWS CLI reads it; else boto3's own
        configuration (``AWS_DEFAULT_REGION``, the profile). A region that offers no Lambda is refused
        (:class:`UsageError`) before any call. ``session``: a boto3 session made elsewhere, in a
        region already checked (a fleet's, in an account reached through a role), used as it is."""
        self._clients: dict[str, Any] = {}
        self._caller: dict[str, Any] | None = None
        self._lock = threading.Lock()
        if session is not None:
            self._session = session
            return
        asked = region or os.environ.get("AWS_REGION") or None
        self._session = new_session(profile, asked)
        chosen = self._session.region_name
        if chosen and chosen not in self.known_regions():
            close = difflib.get_close_matches(chosen, self.known_regions(), n=1)
            said = "--region" if region else "AWS_REGION" if asked else "the configuration's region"
            raise UsageError(
                f"{said} {chosen!r}: not a region that offers Lambda"
                + (f": did you mean {close[0]}?" if close else "")
                + " (botocore's list of regions: upgrade boto3 if the region is new)"
            )

    def __getattr__(self, attribute: str) -> Any:
        """``clients.iam``, ``clients.scheduler``... (``clients.lambda_`` for Lambda)."""
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return self.in_region(attribute.rstrip("_"), None)

    def in_region(self, service: str, region: str | None) -> Any:
        """The ``service`` client for ``region`` (None: the configuration's), made once (under a
        lock: a boto3 session is not thread-safe, its clients are), its modeled exceptions made with
        it: botocore makes them on first use, unlocked, so two threads catching one
        (``except iam.exceptions.NoSuchEntityException``) could each get a class of their own, and
        one missed the error the other's class raised (a fleet's parallel plans, in CI)."""
        key = f"{service}@{region}" if region else service
        with self._lock:
            if key not in self._clients:
                from botocore.config import Config

                config = Config(
                    connect_timeout=CONNECT_TIMEOUT_S,
                    read_timeout=CONTROL_PLANE_READ_TIMEOUT_S,
                    retries={"mode": "standard"},
                )
                made = self._session.client(service, region_name=region, config=config)
                made.exceptions  # noqa: B018  (made now, once: see above)
                self._clients[key] = made
            return self._clients[key]

    def regions(self, service: str, partition: str) -> list[str]:
        """The regions of ``partition`` that offer ``service`` (botocore's endpoint data)."""
        return list(self._session.get_available_regions(service, partition_name=partition))

    def known_regions(self) -> list[str]:
        """Every region, of every partition, that offers Lambda."""
        partitions = self._session.get_available_partitions()
        return [region for partition in partitions for region in self.regions("lambda", partition)]

    @property
    def region(self) -> str:
        return str(self._session.region_name)

    @property
    def account(self) -> str:
        """The account the credentials belong to."""
        return str(self._identity()["Account"])

    @property
    def partition(self) -> str:
        """The partition (aws, aws-cn, aws-us-gov...) the credentials belong to."""
        return str(self._identity()["Arn"]).split(":")[1]

    def _identity(self) -> dict[str, Any]:
        if self._caller is None:
            self._caller = dict(self.sts.get_caller_identity())
        return self._caller

    def invoke_client(self, timeout_s: float) -> Any:
        """A Lambda client for pings: one attempt (a retried ping would warm again), ``timeout_s`` to
        answer, room for :data:`MAX_PARALLEL_PINGS` at once."""
        return self._single_attempt("lambda", timeout_s, MAX_PARALLEL_PINGS)

    def metric_reader(self, timeout_s: float) -> Callable[[dict[str, Any], float], Mapping[str, Any]]:
        """GetMetricData as ``lambdawarmer.auto`` reads it (one attempt, ``timeout_s`` to answer, the
        answer's ``Timestamps`` in epoch seconds), for running the layer's choice of N from here."""
        cloudwatch = self._single_attempt("cloudwatch", timeout_s, 1)

        def read(request: dict[str, Any], _timeout_s: float) -> Mapping[str, Any]:
            answer: dict[str, Any] = cloudwatch.get_metric_data(**request)
            for result in answer.get("MetricDataResults", []):
                result["Timestamps"] = [_epoch_s(stamp) for stamp in result.get("Timestamps", [])]
            return answer

        return read

    def _single_attempt(self, service: str, timeout_s: float, pool: int) -> Any:
        from botocore.config import Config

        config = Config(
            read_timeout=timeout_s,
            connect_timeout=min(CONNECT_TIMEOUT_S, timeout_s),
            retries={"total_max_attempts": 1},
            max_pool_connections=pool,
        )
        return self._session.client(service, config=config)


def _epoch_s(stamp: datetime.datetime | float) -> float:
    return stamp.timestamp() if isinstance(stamp, datetime.datetime) else float(stamp)
