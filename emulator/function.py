"""What the emulator runs: one function's code, runtime, layers, settings, versions and aliases."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FunctionSpec:
    """One Lambda function, as its configuration would describe it.

    ``versions`` are the published versions (``$LATEST`` always exists); ``aliases`` map an alias
    name to one of them. Every version runs the same code here, in its own pool of environments.
    """

    name: str
    code: Path
    handler: str
    runtime: str = "python3.11"
    layers: list[Path] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    memory_mb: int = 128
    timeout_s: float = 3.0
    versions: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    region: str = "us-east-1"
    account: str = "123456789012"
    provisioned: dict[str, int] = field(default_factory=dict)
    """Provisioned Concurrency: qualifier (alias or version) -> environments initialised ahead of demand."""
    max_concurrency: int | None = None
    """Lambda Managed Instances: the requests each environment serves at once (awslambdaric forks
    that many workers: ``AWS_LAMBDA_MAX_CONCURRENCY``), one environment started ahead of demand.
    None: on-demand, one request at a time."""
    tenant_isolation: bool = False
    """``TenancyConfig`` PER_TENANT: every invoke names a tenant; each tenant has environments of its own."""
    durable: bool = False
    """A durable function (``DurableConfig``): each invocation is a durable execution (emulator.durable)."""
    entrypoint: list[str] | None = None
    """A container image's ENTRYPOINT (the handler is appended, as CMD); None: the managed runtime."""

    @property
    def arn(self) -> str:
        """The unqualified ARN."""
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"

    def resolve(self, qualifier: str | None) -> str | None:
        """The version a qualifier runs (``None``: unqualified, ``$LATEST``); ``None`` if unknown."""
        if qualifier in (None, "", "$LATEST"):
            return "$LATEST"
        if qualifier in self.versions:
            return qualifier
        return self.aliases.get(qualifier)
