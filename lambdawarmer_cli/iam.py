"""The IAM documents warming needs, and reading what a role's policies allow.

Written: the self-invoke grant, a statement in the function's own resource-based policy naming its
execution role (touching no role); the CloudWatch statements its metrics mode or auto concurrency
needs (PutMetricData to its own namespace only); the execution role's inline policy for one target
of older versions and of the CDK construct (invoke this function, any qualifier, and those
CloudWatch statements); and a schedule's role (trusted by EventBridge Scheduler for that one schedule,
allowed to invoke its one target). Read: whether a role's inline and
attached policies allow an action on a resource (its Allow statements; IAM's policy simulator
would also weigh denies and boundaries).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clients import Clients

POLICY_VERSION = "2012-10-17"
SELF_INVOKE_SID = "LambdaWarmerSelfInvoke"
"""The self-invoke statement of an execution role's inline policy (up to 1.6, and SAM's own role)."""
Document = dict[str, Any]


SELF_INVOKE_ACTION = "lambda:InvokeFunction"
SELF_INVOKE_STATEMENT = "lambdawarmer-self-invoke"
"""The statement id of the self-invoke grant in a function's (alias's, version's) policy: each has
its own policy, so one id serves every target."""


def self_invoke_permission(function: str, role_arn: str) -> dict[str, str]:
    """Lambda AddPermission's arguments for the grant that lets a function invoke itself: statement
    :data:`SELF_INVOKE_STATEMENT` in the resource-based policy of ``function`` (a name or ARN;
    through an alias or version, ``NAME:QUALIFIER``, that qualifier's policy) allowing
    ``lambda:InvokeFunction`` to the execution role ``role_arn`` (the fan-out signs with it).
    One per target, on the function itself: it touches no role, so any number of functions may
    share one (an inline policy per target meets IAM's 10,240 characters per role at the 37th)."""
    return {
        "FunctionName": function,
        "StatementId": SELF_INVOKE_STATEMENT,
        "Action": SELF_INVOKE_ACTION,
        "Principal": role_arn,
    }


def cloudwatch_statements(*, metrics_namespace: str | None, auto: bool) -> list[Document]:
    """What the execution role needs of CloudWatch: PutMetricData to the function's own namespace
    when its metrics mode sends them (``metrics_namespace``), and GetMetricData for ``auto``."""
    statements: list[Document] = []
    if metrics_namespace is not None:
        statements.append(
            {
                "Sid": "LambdaWarmerMetrics",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": metrics_namespace}},
            }
        )
    if auto:
        statements.append(
            {
                "Sid": "LambdaWarmerAuto",
                "Effect": "Allow",
                "Action": "cloudwatch:GetMetricData",
                "Resource": "*",
            }
        )
    return statements


def self_invoke_policy(function_arn: str, *, metrics_namespace: str | None, auto: bool) -> Document:
    """The execution role's inline policy for one target: invoke ``function_arn`` (any qualifier)
    and nothing else, plus :func:`cloudwatch_statements`. (The command line grants the invoke by
    :func:`self_invoke_permission` instead; policies of this form made by its older versions are
    still read and removed.)"""
    invoke: Document = {
        "Sid": SELF_INVOKE_SID,
        "Effect": "Allow",
        "Action": SELF_INVOKE_ACTION,
        "Resource": [function_arn, f"{function_arn}:*"],
    }
    cloudwatch = cloudwatch_statements(metrics_namespace=metrics_namespace, auto=auto)
    return {"Version": POLICY_VERSION, "Statement": [invoke, *cloudwatch]}


def cloudwatch_policy(*, metrics_namespace: str | None, auto: bool) -> Document | None:
    """:func:`cloudwatch_statements` as a policy (None when neither mode needs one): the execution
    role's own policy where the invoke is granted by :func:`self_invoke_permission`."""
    found = cloudwatch_statements(metrics_namespace=metrics_namespace, auto=auto)
    return {"Version": POLICY_VERSION, "Statement": found} if found else None


def scheduler_trust(account: str, schedule_arn: str) -> Document:
    """Who may assume a schedule's role: EventBridge Scheduler, for that one schedule only
    (``aws:SourceArn``) of ``account`` (``aws:SourceAccount``): the confused-deputy guard."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account, "aws:SourceArn": schedule_arn}},
            }
        ],
    }


def scheduler_policy(target_arn: str) -> Document:
    """What a schedule's role may do: invoke its target and nothing else."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": target_arn}],
    }


def statements(document: Any) -> list[Document]:
    """A policy document's statements (given as JSON text or parsed)."""
    document = json.loads(document) if isinstance(document, str) else document
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def _patterns(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(item) for item in value or []]


def allows(statement: Document, action: str, resource: str) -> bool:
    """Whether ``statement`` allows ``action`` on ``resource`` (wildcards as IAM reads them)."""
    return (
        statement.get("Effect") == "Allow"
        and any(fnmatch.fnmatchcase(action, pattern) for pattern in _patterns(statement.get("Action")))
        and any(fnmatch.fnmatchcase(resource, pattern) for pattern in _patterns(statement.get("Resource")))
    )


def role_statements(clients: Clients, role: str) -> list[Document]:
    """Every statement of the role's inline and attached managed policies. A policy listed and gone
    when read (removed meanwhile: another function on the role changed at the same time, as a
    fleet's are) grants nothing."""
    iam = clients.iam
    gone = iam.exceptions.NoSuchEntityException
    found = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        with contextlib.suppress(gone):
            found += statements(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        with contextlib.suppress(gone):
            policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
            version = iam.get_policy_version(
                PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
            )
            found += statements(version["PolicyVersion"]["Document"])
    return found
