"""Where a call goes: the services, the function's region, and the endpoint boto3 would call."""

from __future__ import annotations

import os
import re

from .errors import AwsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


REGION_NAME = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?")
PARTITIONS = (
    # (name, region prefix, DNS suffix, dual-stack DNS suffix), from botocore's partitions.json: a
    # region is the partition's if it is the prefix then REGION_AFTER_PREFIX. The ISO partitions'
    # dual-stack endpoints differ by service in botocore's rules (or do not exist): none is assumed.
    ("aws-cn", "cn-", "amazonaws.com.cn", "api.amazonwebservices.com.cn"),
    ("aws-us-gov", "us-gov-", "amazonaws.com", "api.aws"),
    ("aws-iso", "us-iso-", "c2s.ic.gov", None),
    ("aws-iso-b", "us-isob-", "sc2s.sgov.gov", None),
    ("aws-iso-e", "eu-isoe-", "cloud.adc-e.uk", None),
    ("aws-iso-f", "us-isof-", "csp.hci.ic.gov", None),
    ("aws-eusc", "eusc-de-", "amazonaws.eu", "api.amazonwebservices.eu"),
)
REGION_AFTER_PREFIX = r"\w+-\d+"
"""A prefix, then this pattern (compiled only for a region with a partition's prefix: compiling the
seven patterns on the first fan-out's endpoint lookup took 2.4 M instructions, callgrind, python3.11)."""
COMMERCIAL = ("aws", None, "amazonaws.com", "api.aws")
"""The ``aws`` partition: every region the others do not claim, as botocore has it."""
_TRUE = ("true", "1")


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
        (
            found
            for found in PARTITIONS
            if region_name.startswith(found[1])
            and re.fullmatch(REGION_AFTER_PREFIX, region_name[len(found[1]) :])
        ),
        COMMERCIAL,
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
