"""The command line's AWS clients: boto3, with the caller's usual configuration, made when first used.

The one place they are made: ``clients.iam``, ``clients.scheduler``... for the control plane
(standard retries), :meth:`Clients.invoke_client` for pings (one attempt, a ping's own timeout),
:meth:`Clients.runtime_client` for running the layer's own code (auto concurrency) from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdawarmer.aws import LazyClient, Service

CONNECT_TIMEOUT_S = 10
CONTROL_PLANE_READ_TIMEOUT_S = 60
MAX_PARALLEL_PINGS = 16


def is_aws_error(error: BaseException) -> bool:
    """Whether ``error`` is boto3's: a refused call, no credentials or region, no connection."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # without boto3 nothing raised is boto3's
        return False
    return isinstance(error, (BotoCoreError, ClientError))


class Clients:
    """boto3 clients for one AWS configuration (profile, region)."""

    def __init__(self, profile: str | None = None, region: str | None = None) -> None:
        import boto3

        self._session = boto3.session.Session(profile_name=profile, region_name=region)
        self._clients: dict[str, Any] = {}
        self._caller: dict[str, Any] | None = None

    def __getattr__(self, attribute: str) -> Any:
        """``clients.iam``, ``clients.scheduler``... (``clients.lambda_`` for Lambda)."""
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        service = attribute.rstrip("_")
        if service not in self._clients:
            from botocore.config import Config

            config = Config(
                connect_timeout=CONNECT_TIMEOUT_S,
                read_timeout=CONTROL_PLANE_READ_TIMEOUT_S,
                retries={"mode": "standard"},
            )
            self._clients[service] = self._session.client(service, config=config)
        return self._clients[service]

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
        from botocore.config import Config

        config = Config(
            read_timeout=timeout_s,
            connect_timeout=CONNECT_TIMEOUT_S,
            retries={"total_max_attempts": 1},
            max_pool_connections=MAX_PARALLEL_PINGS,
        )
        return self._session.client("lambda", config=config)

    def runtime_client(self, service: Service, timeout_ms: int) -> LazyClient:
        """The layer's own client for ``service``, signing with this session's credentials."""
        from lambdawarmer.aws import Credentials, LazyClient

        found = self._session.get_credentials()
        if found is None:
            raise RuntimeError("no AWS credentials found (profile, environment or instance role)")
        frozen = found.get_frozen_credentials()
        credentials = Credentials(frozen.access_key, frozen.secret_key, frozen.token, None)
        return LazyClient(service, timeout_ms, 1, credentials=credentials, region_name=self.region)
