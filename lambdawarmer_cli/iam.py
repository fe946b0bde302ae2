"""The IAM documents warming needs, and reading what a role's policies allow.

Written: the execution role's inline policy for one target (invoke this function, any qualifier;
the CloudWatch calls its metrics mode or auto concurrency makes, PutMetricData to its own
namespace only), and a schedule's role (trusted by EventBridge Scheduler for that one schedule,
allowed to invoke its one target). Read: whether a role's inline and
attached policies allow an action on a resource (its Allow statements; IAM's policy simulator
would also weigh denies and boundaries).
"""

from __future__ import annotations

import fnmatch
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clients import Clients

POLICY_VERSION = "2012-10-17"
SELF_INVOKE_SID = "LambdaWarmerSelfInvoke"
Document = dict[str, Any]


def self_invoke_policy(function_arn: str, *, metrics_namespace: str | None, auto: bool) -> Document:
    """The execution role's inline policy for one target: invoke ``function_arn`` (any qualifier)
    and nothing else, plus PutMetricData to the function's own namespace when its metrics mode sends
    them (``metrics_namespace``), and GetMetricData for ``auto``."""
    statements: list[Document] = [
        {
            "Sid": SELF_INVOKE_SID,
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": [function_arn, f"{function_arn}:*"],
        }
    ]
    return {
        "Version": POLICY_VERSION,
        "Statement": statements + _cloudwatch_statements(metrics_namespace, auto),
    }


def cloudwatch_policy(*, metrics_namespace: str | None, auto: bool) -> Document | None:
    """:func:`self_invoke_policy`'s CloudWatch statements alone (None when neither mode needs one),
    for a role whose function's self-invoke is granted by :func:`self_invoke_permission`."""
    found = _cloudwatch_statements(metrics_namespace, auto)
    return {"Version": POLICY_VERSION, "Statement": found} if found else None


def _cloudwatch_statements(metrics_namespace: str | None, auto: bool) -> list[Document]:
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


def self_invoke_permission(execution_role_arn: str) -> Document:
    """The statement of a function's own resource policy (``AddPermission``'s arguments, on the
    qualifier pinged) that lets its execution role invoke it: it touches no role, so the CDK
    construct and the Terraform module grant the fan-out without growing a shared role's policies."""
    return {
        "StatementId": SELF_INVOKE_SID,
        "Action": "lambda:InvokeFunction",
        "Principal": execution_role_arn,
    }


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
    """Every statement of the role's inline and attached managed policies."""
    iam = clients.iam
    found = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        found += statements(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
        )
        found += statements(version["PolicyVersion"]["Document"])
    return found
