"""Where a fleet command works: which accounts, each reached by a role assumed, and which regions.

The accounts: the caller's, those named, or every active member of the organization.

Each account and region is worked with its own :class:`~lambdawarmer_cli.clients.Clients`, on a
:func:`session`: the caller's credentials for the caller's own account, the assumed role's for any
other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..clients import Clients, error_reason, is_aws_error, new_session
from ..commands.publish import lambda_regions
from ..exit_status import UsageError
from .parallel import in_parallel

if TYPE_CHECKING:
    from collections.abc import Callable

ACCOUNT_ID = re.compile(r"\d{12}")
DEFAULT_ROLE = "OrganizationAccountAccessRole"
"""The role Organizations creates in every account it creates (``--role-name`` names another)."""
SESSION_NAME = "lambdawarmer-fleet"
ALL_REGIONS = "all"


@dataclass(frozen=True)
class Account:
    """One account of the fleet: how to reach it (``credentials`` None: the caller's own), or why
    it cannot be (``error``)."""

    id: str
    credentials: dict[str, str] | None = field(default=None, repr=False, compare=False)
    error: str | None = None


def session(
    profile: str | None,
    account: Account,
    region: str,
    on_call: Callable[..., None] | None = None,
) -> Any:
    """A boto3 session for ``account`` in ``region`` (``on_call``: told of every API call made)."""
    credentials = account.credentials
    if credentials is None:
        made = new_session(profile, region)
    else:
        made = new_session(
            None,
            region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    if on_call is not None:
        made.events.register("before-call", on_call)
    return made


def parse_regions(clients: Clients, asked: str | None) -> list[str]:
    """``--regions``: those named (each checked to offer Lambda), ``all`` of them, or (none given)
    the configured region."""
    if not asked:
        return [clients.region]
    return lambda_regions(clients, None if asked.strip() == ALL_REGIONS else asked)


def parse_account_ids(asked: str | None) -> list[str]:
    """``--accounts ID,...``: 12-digit ids, each once."""
    ids = list(dict.fromkeys(part.strip() for part in (asked or "").split(",") if part.strip()))
    wrong = [account for account in ids if not ACCOUNT_ID.fullmatch(account)]
    if wrong or not ids:
        raise UsageError(f"--accounts: expected 12-digit account ids, comma-separated; got {asked!r}")
    return ids


def organization_accounts(clients: Clients) -> list[str]:
    """The ids of every ACTIVE account of the caller's organization (Organizations ListAccounts)."""
    ids = []
    for page in clients.organizations.get_paginator("list_accounts").paginate():
        ids += [account["Id"] for account in page["Accounts"] if account.get("Status", "ACTIVE") == "ACTIVE"]
    return ids


def reach(clients: Clients, ids: list[str], role_name: str, max_workers: int) -> list[Account]:
    """Each account as it can be worked: the caller's own as is, any other through ``role_name``
    assumed there, ``max_workers`` at once (a refusal is that account's error; the others are
    still reached)."""
    home, partition, sts = clients.account, clients.partition, clients.sts  # made before the threads

    def one(account: str) -> Account:
        if account == home:
            return Account(account)
        arn = f"arn:{partition}:iam::{account}:role/{role_name}"
        try:
            answer = sts.assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME)
        except Exception as error:
            if not is_aws_error(error):
                raise
            return Account(account, error=f"cannot assume {arn}: {error_reason(error)}")
        return Account(account, credentials=dict(answer["Credentials"]))

    return in_parallel(ids, one, max_workers)
