"""Who may use a published layer version: read from its policy, and converged to what ``publish`` asks.

``publish`` owns the statements whose id begins ``lambdawarmer-share``, each id naming what it grants
(``lambdawarmer-share-public``, ``lambdawarmer-share-o-...`` for an organization,
``lambdawarmer-share-<account>``): a changed grant is another statement, the one no longer asked is
removed, and no conflict is ever swallowed. 1.6.0's ``lambdawarmer-share`` (public or an
organization) is read as what it grants. A statement of any other id is not ours: left alone, reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .clients import error_code

PUBLIC = "public"
ORGANIZATION = re.compile(r"o-[a-z0-9]{10,32}")
ACCOUNT = re.compile(r"\d{12}")
ROOT = re.compile(r"arn:[a-z-]+:iam::(\d{12}):root")
STATEMENT = "lambdawarmer-share"
ACTION = "lambda:GetLayerVersion"


@dataclass(frozen=True)
class Sharing:
    """Who may use the published versions besides this account: everyone, an organization, some
    accounts, or (none of them) no one."""

    public: bool = False
    organization: str | None = None
    accounts: tuple[str, ...] = ()

    @property
    def grants(self) -> frozenset[str]:
        """Each grant asked: ``public``, an organization id, or an account id."""
        if self.public:
            return frozenset({PUBLIC})
        if self.organization:
            return frozenset({self.organization})
        return frozenset(self.accounts)


@dataclass
class Converged:
    """A version's sharing before and after a run (ours only), and the statements that are not ours."""

    before: frozenset[str]
    after: frozenset[str]
    asked: bool
    others: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """``public -> organization o-...``, or what sharing stays."""
        if not self.asked:
            return f"sharing stays {describe(self.before)} (no sharing flag given)"
        if self.before == self.after:
            return f"sharing stays {describe(self.after)}"
        return f"{describe(self.before)} -> {describe(self.after)}"


def statement_id(grant: str) -> str:
    return f"{STATEMENT}-{grant}"


def describe(grants: Iterable[str]) -> str:
    """``public``, ``organization o-...``, ``accounts 1..., 2...``; ``this account only`` for none."""
    grants = set(grants)
    accounts = sorted(grant for grant in grants if ACCOUNT.fullmatch(grant))
    parts = [PUBLIC] if PUBLIC in grants else []
    parts += [f"organization {grant}" for grant in sorted(grants) if ORGANIZATION.fullmatch(grant)]
    if accounts:
        parts.append(f"account{'s' if len(accounts) > 1 else ''} {', '.join(accounts)}")
    return " and ".join(parts) or "this account only"


def granted(statement: dict[str, Any]) -> str | None:
    """What one statement grants (``public``, an organization id, an account id), as Lambda writes
    it (``Principal: {"AWS": "arn:...:root"}``, ``aws:PrincipalOrgID``) or moto keeps it; None for
    anything else."""
    if statement.get("Effect", "Allow") != "Allow" or statement.get("Action", ACTION) != ACTION:
        return None
    principal = statement.get("Principal")
    if isinstance(principal, dict) and set(principal) == {"AWS"}:
        principal = principal["AWS"]
    conditions = statement.get("Condition") or {}
    organization = statement.get("OrganizationId") or conditions.get("StringEquals", {}).get(
        "aws:PrincipalOrgID"
    )
    plain = not conditions or conditions == {"StringEquals": {"aws:PrincipalOrgID": organization}}
    if principal == "*" and plain:
        return str(organization) if organization else PUBLIC
    if isinstance(principal, str) and not conditions and not organization:
        account = ROOT.fullmatch(principal)
        if account or ACCOUNT.fullmatch(principal):
            return account.group(1) if account else principal
    return None


def statements(client: Any, layer: str, number: int) -> list[dict[str, Any]]:
    """The version's policy statements (none: no policy)."""
    try:
        policy = client.get_layer_version_policy(LayerName=layer, VersionNumber=number)
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            return []
        raise
    found = json.loads(policy["Policy"]).get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def converge(client: Any, layer: str, number: int, sharing: Sharing | None) -> Converged:
    """Make the version's sharing exactly ``sharing`` (None: leave it as it is): our statements no
    longer asked removed first (never wider than asked on the way), then those missing added."""
    ours: dict[str, str | None] = {}
    others = []
    for statement in statements(client, layer, number):
        sid = str(statement.get("Sid", ""))
        if sid == STATEMENT or sid.startswith(f"{STATEMENT}-"):
            ours[sid] = granted(statement)
        else:
            grant = granted(statement)
            what = describe([grant]) if grant else f"Principal {json.dumps(statement.get('Principal'))}"
            others.append(f"statement {sid!r} ({what}) was not made by lambdawarmer publish: left alone")
    before = frozenset(grant for grant in ours.values() if grant)
    if sharing is None:
        return Converged(before, before, False, others)
    kept: set[str] = set()
    for sid, grant in ours.items():
        if grant in sharing.grants and grant not in kept and sid in (statement_id(grant), STATEMENT):
            kept.add(grant)
        else:
            client.remove_layer_version_permission(LayerName=layer, VersionNumber=number, StatementId=sid)
    for grant in sorted(sharing.grants - kept):
        principal = {"Principal": grant} if ACCOUNT.fullmatch(grant) else {"Principal": "*"}
        if ORGANIZATION.fullmatch(grant):
            principal["OrganizationId"] = grant
        client.add_layer_version_permission(
            LayerName=layer, VersionNumber=number, StatementId=statement_id(grant), Action=ACTION, **principal
        )
    return Converged(before, sharing.grants, True, others)
