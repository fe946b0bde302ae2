"""lambdawarmer for the AWS CDK (Python): ``Warmer(scope, id, function=..., concurrency=N or "auto")``
sets up what ``lambdawarmer enable`` does, from the same definitions (``lambdawarmer_cli.iam`` for
every IAM document, the layer's ``PingFormat`` for the ping): the layer and its variables on the
function, the self-invoke permission (and the CloudWatch calls its metrics mode or ``auto`` make),
an EventBridge Scheduler schedule with a role only that schedule may assume and that may only invoke
the target, and, for an alias, optionally the CodeDeploy pre-traffic hook that warms each new version.
"""

from .warmer import Warmer

__all__ = ["Warmer"]
