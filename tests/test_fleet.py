"""``lambdawarmer fleet`` against moto's server: an organization of three accounts, two regions,
60 functions of which 20 carry the tag (moto's Organizations, STS, Resource Groups Tagging API,
Lambda, IAM and Scheduler, over HTTP).

moto's STS hands out credentials for any role ARN, even one that does not exist; AWS refuses
those. STS here is a proxy to moto that refuses them as AWS does (the role is looked up in moto).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest

from emulator.http import FastHandler, LoopbackEndpoint
from lambdawarmer_cli import main as cli
from lambdawarmer_cli.commands import fleet
from lambdawarmer_cli.fleet.budget import Option, allocate
from lambdawarmer_cli.names import RECORD_TAG
from lambdawarmer_cli.progress import Progress

from .control_plane import code_zip, run
from .test_history import now, put_history, trace_function

REGIONS = ("us-east-1", "eu-west-1")
ROLE = "lambdawarmer-fleet"
TAG = {"warm": "yes"}
MANAGEMENT = "123456789012"
PER_SCOPE = (4, 3, 3, 4, 3, 3)
"""How many of the ten functions of each account and region carry the tag: 20 in all."""
DENIED = (
    b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    b"<Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole</Message></Error>"
    b"</ErrorResponse>"
)


class StsRefusingMissingRoles(FastHandler):
    """moto's STS, except that AssumeRole of a role that does not exist is AccessDenied."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        moto = self.server.moto  # type: ignore[attr-defined]
        request = urllib.request.Request(moto + self.path, data=body, method="POST")
        for name in ("Content-Type", "Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if self.headers.get(name):
                request.add_header(name, self.headers[name])
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, text = answer.status, answer.read()
        form = parse_qs(body.decode())
        if form.get("Action") == ["AssumeRole"]:
            arn = form["RoleArn"][0]
            account, name = arn.split(":")[4], arn.rsplit("/", 1)[-1]
            if not _role_exists(moto, account, name):
                self.reply(403, DENIED, {"Content-Type": "text/xml"})
                return
        self.reply(status, text, {"Content-Type": "text/xml"})


def _role_exists(moto: str, account: str, name: str) -> bool:
    iam = _in_account(moto, account, "iam", REGIONS[0])
    try:
        iam.get_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


@functools.cache
def _in_account(moto: str, account: str, service: str, region: str) -> Any:
    """A client acting in ``account`` (moto takes the account from an assumed role's credentials)."""
    sts = boto3.client("sts", region_name=region, endpoint_url=moto)
    arn = f"arn:aws:iam::{account}:role/setup"
    credentials = sts.assume_role(RoleArn=arn, RoleSessionName="setup")["Credentials"]
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=moto,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


@pytest.fixture
def sts(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    _in_account.cache_clear()  # moto was reset: the credentials of the last test's roles are gone
    endpoint = LoopbackEndpoint(StsRefusingMissingRoles, moto=aws["endpoint"])
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", endpoint.url)
    yield
    endpoint.close()


def _function_role(iam: Any) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return str(iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def create_function(functions: Any, role: str, name: str, tags: dict[str, str], **more: Any) -> None:
    """A function of the fleet (``more``: create_function's other arguments: Layers, Runtime...)."""
    functions.create_function(
        FunctionName=name,
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code_zip()},
        Tags=tags,
        **{"Runtime": "python3.12", **more},
    )


def build_organization(moto: str, *, with_role: tuple[bool, ...] = (True, True)) -> dict[str, Any]:
    """Three accounts (the management account and two members), ten functions in each of two regions
    of each, the tag on 20 of the 60; each function carries the lambdawarmer layer of its region (as
    a deploy that attaches it does). The members have the fleet's role when ``with_role`` says."""
    org = boto3.client("organizations", region_name=REGIONS[0], endpoint_url=moto)
    org.create_organization(FeatureSet="ALL")
    members = [
        org.create_account(Email=f"m{n}@example.invalid", AccountName=f"member{n}")["CreateAccountStatus"][
            "AccountId"
        ]
        for n in range(2)
    ]
    tagged: list[tuple[str, str, str]] = []
    untagged: list[tuple[str, str, str]] = []
    for account in [MANAGEMENT, *members]:
        iam = _in_account(moto, account, "iam", REGIONS[0])
        role = _function_role(iam)
        if account != MANAGEMENT and with_role[members.index(account)]:
            iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}))
        for region in REGIONS:
            functions = _in_account(moto, account, "lambda", region)
            layer = functions.publish_layer_version(LayerName="lambdawarmer", Content={"ZipFile": code_zip()})
            for n in range(10):
                name = f"app-{n}"
                warm = n % 3 == 0 and n // 3 < PER_SCOPE[len(tagged + untagged) // 10]
                tags = {**TAG, "team": "shop"} if warm else {"team": "shop"}
                create_function(functions, role, name, tags, Layers=[layer["LayerVersionArn"]], Timeout=30)
                (tagged if warm else untagged).append((account, region, name))
    return {"members": members, "tagged": tagged, "untagged": untagged}


def configurations(moto: str, accounts: list[str]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every function's layers, variables and tags, by (account, region, name): two calls a region."""
    found = {}
    for account in accounts:
        for region in REGIONS:
            tags = {
                resource["ResourceARN"]: {tag["Key"]: tag["Value"] for tag in resource["Tags"]}
                for resource in _in_account(moto, account, "resourcegroupstaggingapi", region).get_resources(
                    ResourceTypeFilters=["lambda:function"]
                )["ResourceTagMappingList"]
            }
            listed = _in_account(moto, account, "lambda", region).list_functions()["Functions"]
            for function in listed:
                found[(account, region, function["FunctionName"])] = {
                    "layers": function.get("Layers"),
                    "variables": function.get("Environment"),
                    "tags": tags.get(function["FunctionArn"], {}),
                }
    return found


def rows(output: str) -> list[dict[str, Any]]:
    """The JSON rows a --json run printed (after the plans, which go to stderr: ``run`` joins them)."""
    start = output.find("[\n  {")
    return list(json.loads(output[start:] if start >= 0 else output[output.rindex("[]") :]))


SCOPE = ("--tag", "warm=yes", "--regions", ",".join(REGIONS), "--organization", "--role-name", ROLE)


def test_fleet_enable_warms_the_20_tagged_leaves_the_40_alone_and_a_missing_role_is_finished_by_a_rerun(
    aws: dict[str, Any], sts: None
) -> None:
    """One organization for the whole story (building it and enabling 20 functions is most of the
    time): the plan first, an account whose role is missing reported while the others finish, the
    rerun finishing it and the next one changing nothing, status, then disable."""
    organization = build_organization(aws["endpoint"], with_role=(True, False))
    assert len(organization["tagged"]) == 20
    assert len(organization["untagged"]) == 40
    accounts = [MANAGEMENT, *organization["members"]]
    unreachable = organization["members"][1]
    before = configurations(aws["endpoint"], accounts)
    reachable = [where for where in organization["tagged"] if where[0] != unreachable]

    status, output = run("fleet", "enable", *SCOPE, "--concurrency", "2", "--dry-run", "--json")
    assert status == 3, output
    assert "dry run: nothing was changed" in output
    found = rows(output)
    assert {row["state"] for row in found if row["account"] != unreachable} == {"WARN"}, output
    assert len(found) == len(reachable) + 2  # a FAIL row for each region of the unreachable account
    assert configurations(aws["endpoint"], accounts) == before  # a dry run changes nothing

    status, output = run("fleet", "enable", *SCOPE, "--concurrency", "2", "--json")
    assert status == 3, output
    found = rows(output)
    refused = [row for row in found if row["account"] == unreachable]
    assert [(row["function"], row["state"]) for row in refused] == [("*", "FAIL"), ("*", "FAIL")]
    assert all("AccessDenied" in row["needs"] and ROLE in row["needs"] for row in refused)
    others = [row for row in found if row["account"] != unreachable]
    assert sorted((r["account"], r["region"], r["function"]) for r in others) == sorted(reachable)
    assert {row["state"] for row in others} == {"OK"}

    _in_account(aws["endpoint"], unreachable, "iam", REGIONS[0]).create_role(
        RoleName=ROLE, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )
    status, output = run("fleet", "enable", *SCOPE, "--concurrency", "2", "--yes")
    assert status == 0, output
    assert output.count("lambdawarmer.app-") >= 20  # every plan shown (its schedule named)
    assert "20 function(s): 20 OK, 0 WARN, 0 FAIL" in output, output
    status, output = run("fleet", "enable", *SCOPE, "--concurrency", "2")
    assert status == 0, output
    assert "applied" not in output
    assert output.count("nothing to change") == 20, output

    status, output = run("fleet", "status", *SCOPE, "--json")
    assert status == 0, output
    found = rows(output)
    assert sorted((r["account"], r["region"], r["function"]) for r in found) == sorted(organization["tagged"])
    assert {(r["state"], r["n"]) for r in found} == {("OK", "2")}, output
    after = configurations(aws["endpoint"], accounts)
    assert all(RECORD_TAG in after[where]["tags"] for where in organization["tagged"])
    assert {where: after[where] for where in organization["untagged"]} == {
        where: before[where] for where in organization["untagged"]
    }

    status, output = run("fleet", "disable", *SCOPE, "--yes")
    assert status == 0, output
    after = configurations(aws["endpoint"], accounts)
    assert not any(RECORD_TAG in after[where]["tags"] for where in organization["tagged"])


def test_a_function_that_cannot_be_enabled_is_its_row_and_the_others_are_enabled(
    aws: dict[str, Any],
) -> None:
    role = _function_role(aws["iam"])
    layer = aws["lambda"].publish_layer_version(LayerName="lambdawarmer", Content={"ZipFile": code_zip()})
    create_function(aws["lambda"], role, "with-layer", TAG, Layers=[layer["LayerVersionArn"]])
    create_function(aws["lambda"], role, "without-layer", TAG)
    status, output = run("fleet", "enable", "--tag", "warm", "--concurrency", "2", "--json")
    assert status == 5, output
    states = {row["function"]: (row["state"], row["needs"]) for row in rows(output)}
    assert states["with-layer"] == ("OK", "")
    assert states["without-layer"][0] == "FAIL"
    assert "it has no lambdawarmer layer" in states["without-layer"][1]


def _count_calls(argv: list[str]) -> tuple[int, Counter[str]]:
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def counted(event_name: str, **_: Any) -> None:
        with lock:
            calls[event_name.split(".", 1)[1]] += 1

    arguments = cli.parser().parse_args(argv)
    out = io.StringIO()
    with contextlib.redirect_stderr(io.StringIO()):
        status = fleet.run(arguments, out, on_call=counted)
    assert status in (0, 6), out.getvalue()
    return len(json.loads(out.getvalue())), calls


def test_a_name_pattern_selects_alone_or_among_the_tagged(aws: dict[str, Any]) -> None:
    role = _function_role(aws["iam"])
    for name, tags in (("orders-eu", TAG), ("orders-us", {"team": "shop"}), ("billing", TAG)):
        create_function(aws["lambda"], role, name, tags)

    def selected(*argv: str) -> list[str]:
        status, output = run("fleet", "status", *argv, "--json")
        assert status in (0, 6), output
        return sorted(row["function"] for row in rows(output))

    assert selected("--name-pattern", "^orders-") == ["orders-eu", "orders-us"]
    assert selected("--tag", "warm=yes") == ["billing", "orders-eu"]
    assert selected("--tag", "warm", "--name-pattern", "^orders-") == ["orders-eu"]
    assert selected("--tag", "warm=no") == []


def test_fleet_status_reads_one_configuration_per_tagged_function_and_nothing_per_untagged_one(
    aws: dict[str, Any],
) -> None:
    role = _function_role(aws["iam"])

    def create(name: str, tags: dict[str, str]) -> None:
        create_function(aws["lambda"], role, name, tags)

    for n in range(3):
        create(f"tagged-{n}", TAG)
    argv = ["fleet", "status", "--tag", "warm=yes", "--json", "--quiet"]
    count, small = _count_calls(argv)
    assert count == 3
    for n in range(12):
        create(f"untagged-{n}", {"team": "shop"})
    count, large = _count_calls(argv)
    assert count == 3
    assert large == small, "untagged functions must cost no call"
    assert small["lambda.GetFunctionConfiguration"] == 3
    assert small["resource-groups-tagging-api.GetResources"] == 1
    assert small["lambda.ListTags"] == small["lambda.ListFunctions"] == 0
    create("tagged-3", TAG)
    count, more = _count_calls(argv)
    per_function = Counter({call: more[call] - small[call] for call in more})
    assert count == 4
    assert per_function["lambda.GetFunctionConfiguration"] == 1
    assert sum(per_function.values()) == sum(more.values()) - sum(small.values())
    assert sum(more.values()) <= sum(small.values()) * 4 / 3 + 1  # calls grow with the tagged, no faster


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_is_drawn_at_a_terminal_only() -> None:
    shown = Terminal()
    progress = Progress(quiet=False, stream=shown)
    for done in range(1, 5):
        progress.count("checking", done, 4)
    assert shown.getvalue().endswith(f"\rchecking [{'#' * 30}] 4/4")
    assert "\rchecking [" + "#" * 15 + "-" * 15 + "] 2/4" in shown.getvalue()
    progress.clear()
    assert shown.getvalue().endswith("\r" + " " * len(f"checking [{'#' * 30}] 4/4") + "\r")
    for stream, quiet in ((io.StringIO(), False), (Terminal(), True)):
        progress = Progress(quiet=quiet, stream=stream)
        progress.count("checking", 1, 4)
        progress.clear()
        assert stream.getvalue() == ""


ENABLE = ("fleet", "enable", "--tag", "k", "--concurrency", "2")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("fleet", "status"), "select the fleet with --tag KEY[=VALUE] and/or --name-pattern REGEX"),
        (("fleet", "status", "--tag", "=x"), "--tag '=x': expected KEY or KEY=VALUE"),
        (("fleet", "status", "--name-pattern", "("), "--name-pattern '(': not a regular expression"),
        (("fleet", "status", "--tag", "k", "--accounts", "12"), "--accounts: expected 12-digit account ids"),
        (("fleet", "status", "--tag", "k", "--regions", "mars-1"), "--regions: mars-1 not a region of aws"),
        (("fleet", "status", "--tga", "k"), "unknown option --tga: did you mean --tag?"),
        (
            (*ENABLE, "--trust-layer"),
            "--trust-layer checks a layer named by --manifest or --layer-parameter",
        ),
        (
            (
                "fleet",
                "enable",
                "--tag",
                "k",
                "--concurrency",
                "2",
                "--manifest",
                "m.json",
                "--layer-sha256",
                "ab",
            ),
            "--layer-sha256 'ab': expected the 64 hexadecimal digits of a sha256",
        ),
    ],
)
def test_a_fleet_asked_for_what_it_cannot_use_exits_2_saying_why(
    aws: dict[str, Any], argv: tuple[str, ...], says: str
) -> None:
    status, output = run(*argv)
    assert (status, says in output) == (2, True), output


def test_the_budget_goes_step_by_step_to_the_most_cold_starts_avoided_per_dollar() -> None:
    functions = {
        "busy": [Option(1, 100.0, 2.0), Option(2, 150.0, 4.0), Option(3, 160.0, 6.0)],
        "quiet": [Option(1, 30.0, 1.0), Option(2, 31.0, 5.0)],
        "idle": [Option(1, 0.0, 1.0)],
    }
    assert allocate(functions, 0.0) == {"busy": 0, "quiet": 0, "idle": 0}
    # busy's first (50 a dollar), quiet's first (30), busy's second (25): $5; busy's third ($2) and
    # quiet's second ($4) no longer fit
    assert allocate(functions, 6.0) == {"busy": 2, "quiet": 1, "idle": 0}
    assert allocate(functions, 100.0) == {"busy": 3, "quiet": 2, "idle": 0}  # idle avoids nothing


def test_fleet_cost_spends_the_budget_on_each_functions_own_history(aws: dict[str, Any]) -> None:
    role = _function_role(aws["iam"])
    for name in ("busy", "unmeasured"):
        create_function(aws["lambda"], role, name, TAG, Runtime="python3.11", MemorySize=1024)
    put_history(aws["endpoint"], trace_function(), now(), function="busy")
    scope = ("fleet", "cost", "--tag", "warm=yes", "--days", "1")
    status, output = run(*scope, "--budget", "1000", "--json")
    assert status == 7, output  # one function has no history: its row says so, the other is priced
    found = {row["function"]: row for row in rows(output)}
    assert found["unmeasured"]["state"] == "WARN"
    assert "not priced: CloudWatch has no Invocations" in found["unmeasured"]["needs"]
    assert int(found["busy"]["n"]) >= 1
    assert "cold starts a month for $" in found["busy"]["needs"]

    status, output = run(*scope, "--budget", "0")
    spent = re.search(r"budget \$0.00 a month: (-?)\$([\d.,]+) of it spent", output)
    assert spent is not None, output
    assert spent.group(1) == "-" or float(spent.group(2)) == 0.0, output  # within a budget of nothing
