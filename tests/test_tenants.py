"""Tenant isolation: each tenant has environments of its own and every invoke must name one. A ping
names the tenants to warm and how many each; the fan-out names each invoke's tenant; the report
and the round metrics are per tenant."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from awslambdaric.lambda_context import LambdaContext

from emulator import LambdaEmulator
from lambdawarmer import warmer
from lambdawarmer.protocol import FANOUT_KEY
from lambdawarmer_cli.ping_targets import INVOKE_ACTION, scheduled_ping

from .conftest import FUNCTION_ARN, lambda_client, layered_spec, report_answer, write_function

pytestmark = pytest.mark.e2e
Start = Callable[..., LambdaEmulator]
TOKEN = "owners-token-0123456789abcdef"
PLAIN = "def handler(event, context):\n    return {'tenant': context.tenant_id}\n"


def tenanted(start_emulator: Start, tmp_path: Path, layer_zip: Path, **environment: str) -> LambdaEmulator:
    function = layered_spec(write_function(tmp_path / "code", PLAIN), layer_zip, **environment)
    function.tenant_isolation = True
    function.memory_mb = 512
    return start_emulator(function)


def test_a_ping_warms_each_tenants_own_environments(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    emulator = tenanted(start_emulator, tmp_path, layer_zip, WARMER_SEND_METRIC="true", WARMER_TOKEN=TOKEN)
    client = lambda_client(emulator)
    with pytest.raises(botocore.exceptions.ClientError, match="must name one"):
        client.invoke(FunctionName="orders", Payload=b"{}")
    ping = {"warmer": True, "tenants": {"acme": 2, "globex": 3}, "token": TOKEN}
    answer = client.invoke(FunctionName="orders", TenantId="acme", Payload=json.dumps(ping))
    report = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, report
    assert report["concurrency_source"] == "tenants"
    assert {name: share["instances_warmed"] for name, share in report["tenants"].items()} == {
        "acme": 2,
        "globex": 3,
    }
    assert report["instances_warmed"] == 5
    assert Counter(environment.tenant for environment in emulator.all_environments) == {
        "acme": 2,
        "globex": 3,
    }
    records = [json.loads(line) for line in emulator.output() if '"InstancesRequested"' in line]
    assert sorted((record["TenantId"], record["InstancesWarmed"]) for record in records) == [
        ("acme", 2),
        ("globex", 3),
    ]
    # the tenants' real requests start warm, each in its own tenant's environments
    pinged = len(emulator.invocations)
    for tenant in ("acme", "globex"):
        served = client.invoke(FunctionName="orders", TenantId=tenant, Payload=b"{}")
        assert json.loads(served["Payload"].read()) == {"tenant": tenant}
    assert not [invocation for invocation in emulator.invocations[pinged:] if invocation.cold]


def test_the_setting_names_the_tenants_when_the_ping_does_not(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    emulator = tenanted(start_emulator, tmp_path, layer_zip, WARMER_TENANTS="globex=2")
    answer = lambda_client(emulator).invoke(
        FunctionName="orders", TenantId="acme", Payload=json.dumps({"warmer": True})
    )
    report = json.loads(answer["Payload"].read())
    assert {name: share["instances_warmed"] for name, share in report["tenants"].items()} == {
        "acme": 1,
        "globex": 2,
    }


def test_the_tenants_a_ping_names_are_held_to_the_cap_on_n(invoke_api: Any) -> None:
    """However many tenants and environments a ping names (even the owner's), no more than
    WARMER_MAX_CONCURRENCY invokes leave, in all."""
    counter = iter(range(1, 10_000))
    api = invoke_api(lambda call: report_answer(call, f"instance-{next(counter)}"))
    context = LambdaContext(
        "req-1", None, None, int(time.time() * 1000) + 30_000, FUNCTION_ARN, tenant_id="acme"
    )
    ping = {"warmer": True, "tenants": {f"tenant-{n}": 1000 for n in range(50)}, "token": TOKEN}
    report = warmer(max_concurrency=7, token=TOKEN)(lambda event, context: "real work")(ping, context)
    assert len(api.calls) == 6  # 7 in all, this instance (acme's) the first
    assert {name: share["concurrency"] for name, share in report["tenants"].items()} == {
        "acme": 1,
        "tenant-0": 6,
    }
    assert all(FANOUT_KEY in call.payload for call in api.calls)


def test_a_ping_naming_no_tenant_warms_the_environments_own(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    """No tenants in the ping nor WARMER_TENANTS: the environment's own tenant, every invoke naming it
    (Lambda refuses one that names none)."""
    emulator = tenanted(start_emulator, tmp_path, layer_zip)
    answer = lambda_client(emulator).invoke(
        FunctionName="orders", TenantId="acme", Payload=json.dumps({"warmer": True, "concurrency": 3})
    )
    report = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, report
    assert report["concurrency_source"] == "event"
    assert report["invocations_failed"] == 0
    assert report["tenants"]["acme"]["instances_warmed"] == 3
    assert Counter(environment.tenant for environment in emulator.all_environments) == {"acme": 3}


def test_a_tokenless_ping_warms_only_the_environments_own_tenant(
    start_emulator: Start, tmp_path: Path, layer_zip: Path
) -> None:
    """Anyone who may invoke the function can send a tokenless ping: it may not aim the fan-out at
    other tenants' environments, and the report says which it named were not warmed."""
    emulator = tenanted(start_emulator, tmp_path, layer_zip)
    ping = {"warmer": True, "tenants": {"acme": 2, "globex": 3, "initech": 1}}
    answer = lambda_client(emulator).invoke(FunctionName="orders", TenantId="acme", Payload=json.dumps(ping))
    report = json.loads(answer["Payload"].read())
    assert list(report["tenants"]) == ["acme"]
    assert "globex" in report["tenants_ignored"]
    assert "initech" in report["tenants_ignored"]
    assert "WARMER_TOKEN" in report["tenants_ignored"]
    assert Counter(environment.tenant for environment in emulator.all_environments) == {"acme": 2}


def test_a_universal_targets_payload_is_read_as_text_or_as_json() -> None:
    """Invoke's ``Payload`` in a schedule's universal target, as a JSON text or as JSON itself: the same
    ping either way (status once crashed, exit 70, on the second)."""
    ping = {"warmer": True, "concurrency": 3}
    arn = "arn:aws:lambda:us-east-1:123456789012:function:orders"
    for payload in (json.dumps(ping), ping):
        request = {"FunctionName": arn, "TenantId": "acme", "Payload": payload}
        target = {"Arn": f"arn:aws:scheduler:::{INVOKE_ACTION}", "Input": json.dumps(request)}
        invoked, tenant, text = scheduled_ping(target)
        assert (invoked, tenant, json.loads(text or "null")) == (arn, "acme", ping)
