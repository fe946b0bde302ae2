"""SnapStart: Lambda restores one snapshot, taken after the init, into many environments, and
runs the ``snapshot_restore_py`` hooks around it (awslambdaric's hooks runner: before-snapshot
hooks before the snapshot, after-restore hooks in each restored environment). Here the snapshot is
a process forked after the init: each child is one restored environment, with every byte of the
parent's memory, as Firecracker's restore gives (the real hooks runner and registry run both sides)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

RESTORED = 3

SCRIPT = """
import json, os, time
import lambdawarmer
from awslambdaric import lambda_runtime_hooks_runner
from awslambdaric.lambda_context import LambdaContext
from lambdawarmer.instance import ENVIRONMENT

wrapped = lambdawarmer.warmer(lambda event, context: "real work")
snapshot_id = ENVIRONMENT.instance_id
lambda_runtime_hooks_runner.run_before_snapshot()  # the init is over: the snapshot is taken here
children = []
for _ in range({restored}):
    read, write = os.pipe()
    if os.fork() == 0:  # one restored environment
        lambda_runtime_hooks_runner.run_after_restore()
        deadline = int(time.time() * 1000) + 30000
        context = LambdaContext("r", None, None, deadline, "arn:aws:lambda:us-east-1:1:function:orders")
        ping = wrapped({{"warmer": True}}, context)
        again = wrapped({{"warmer": True}}, context)
        first_request = ENVIRONMENT.claim_first_request()
        seen = [ping["instance_id"], ping["cold"], again["cold"], first_request]
        os.write(write, json.dumps(seen).encode())
        os._exit(0)
    os.close(write)
    children.append(read)
restored = [json.loads(os.read(read, 65536)) for read in children]
print(json.dumps({{"snapshot": snapshot_id, "restored": restored}}))
"""


def test_every_environment_restored_from_one_snapshot_is_a_new_instance() -> None:
    environment = {
        "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
        "AWS_LAMBDA_FUNCTION_NAME": "orders",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT.format(restored=RESTORED))],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    ids = [instance_id for instance_id, *_ in result["restored"]]
    assert len(set(ids)) == RESTORED  # each restored environment has an id of its own
    assert result["snapshot"] not in ids
    # The first invocation after a restore is the environment's cold start (a restore is on the
    # request's path), the next is warm; a real request after a ping is told it came after one.
    assert [(cold, again, first) for _, cold, again, first in result["restored"]] == [
        (True, False, [False, True])
    ] * RESTORED
