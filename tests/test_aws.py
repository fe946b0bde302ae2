"""The layer's own AWS client: endpoints as boto3 resolves them, credentials as Lambda gives them,
kept-alive connections, and real services (moto with request authentication on) accepting its calls."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.loaders import Loader

from emulator.http import FastHandler, LoopbackEndpoint
from emulator.signatures import check_signature
from lambdawarmer.aws import (
    CLOUDWATCH,
    CODEDEPLOY,
    LAMBDA,
    AwsClient,
    AwsError,
    CredentialSource,
    Service,
    cloudwatch_call,
    endpoint_url,
)


def partition_regions() -> list[str]:
    """Every region botocore knows, in every partition, and one unknown to it per partition."""
    partitions = Loader().load_data("partitions")["partitions"]
    known = [region for partition in partitions for region in partition["regions"] if "global" not in region]
    return [*known, "us-east-9", "cn-west-7", "us-gov-south-3", "eusc-de-west-2", "xx-moon-1"]


@pytest.mark.parametrize("fips", [False, True])
@pytest.mark.parametrize("dual_stack", [False, True])
@pytest.mark.parametrize(
    "service", [LAMBDA, CLOUDWATCH, CODEDEPLOY], ids=["lambda", "cloudwatch", "codedeploy"]
)
def test_endpoints_are_boto3s_in_every_region_and_partition(
    monkeypatch: pytest.MonkeyPatch, service: Service, fips: bool, dual_stack: bool
) -> None:
    for name in (
        "AWS_ENDPOINT_URL",
        *(f"AWS_ENDPOINT_URL_{s.env_name}" for s in (LAMBDA, CLOUDWATCH, CODEDEPLOY)),
    ):
        monkeypatch.delenv(name, raising=False)
    environ = {
        "AWS_USE_FIPS_ENDPOINT": str(fips).lower(),
        "AWS_USE_DUALSTACK_ENDPOINT": str(dual_stack).lower(),
    }
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", environ["AWS_USE_FIPS_ENDPOINT"])
    monkeypatch.setenv("AWS_USE_DUALSTACK_ENDPOINT", environ["AWS_USE_DUALSTACK_ENDPOINT"])
    session = boto3.session.Session()
    boto3_name = {LAMBDA: "lambda", CLOUDWATCH: "cloudwatch", CODEDEPLOY: "codedeploy"}[service]
    differ, refused = {}, []
    for region in partition_regions():
        if dual_stack and region.startswith(("us-iso-", "us-isob-", "eu-isoe-", "us-isof-")):
            # botocore's dual-stack endpoints there differ by service, or do not exist: refused, clearly.
            with pytest.raises(AwsError, match="EndpointVariantError: no dual-stack endpoint is known"):
                endpoint_url(service, region, environ)
            refused.append(region)
            continue
        theirs = session.client(boto3_name, region_name=region).meta.endpoint_url
        ours = endpoint_url(service, region, environ)
        if ours != theirs:
            differ[region] = (ours, theirs)
    assert differ == {}
    assert len(refused) == (7 if dual_stack else 0)


def test_configured_endpoints_win_as_in_boto3() -> None:
    environ = {"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:2"}
    assert endpoint_url(LAMBDA, "eu-west-1", environ) == "http://127.0.0.1:2"
    assert endpoint_url(CLOUDWATCH, "eu-west-1", environ) == "http://127.0.0.1:1"
    ignored = {**environ, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert endpoint_url(LAMBDA, "eu-west-1", ignored) == "https://lambda.eu-west-1.amazonaws.com"


def test_a_missing_or_malformed_region_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(AwsError, match="NoRegionError"):
        AwsClient(LAMBDA, 1000, 1)
    monkeypatch.setenv("AWS_REGION", "us east 1")
    with pytest.raises(AwsError, match="InvalidRegionError"):
        AwsClient(LAMBDA, 1000, 1)


# -- credentials -------------------------------------------------------------------------------


class CredentialsEndpoint:
    """Lambda's container credentials endpoint on 127.0.0.1: answers with keys that expire in
    ``lifetime_s``, each fetch with new ones; records the Authorization header of each request."""

    def __init__(self, lifetime_s: float) -> None:
        self.lifetime_s = lifetime_s
        self.tokens: list[str | None] = []
        endpoint = self

        class Handler(FastHandler):
            def do_GET(self) -> None:
                endpoint.tokens.append(self.headers.get("Authorization"))
                expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + endpoint.lifetime_s))
                number = len(endpoint.tokens)
                body = {
                    "AccessKeyId": f"ASIA{number}",
                    "SecretAccessKey": f"secret{number}",
                    "Token": f"token{number}",
                    "Expiration": expires,
                }
                self.reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

        self.server = LoopbackEndpoint(Handler)
        self.url = f"{self.server.url}/2018-06-01/credentials"


@pytest.fixture
def container_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[CredentialsEndpoint]:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    endpoint = CredentialsEndpoint(lifetime_s=3600)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url)
    yield endpoint
    endpoint.server.close()


def test_the_environments_keys_come_first(
    container_credentials: CredentialsEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")
    credentials = CredentialSource().get()
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        "AKIDENV",
        "secret",
        "token",
    )
    assert container_credentials.tokens == []


def test_container_credentials_are_fetched_with_the_token_and_kept_until_near_expiry(
    container_credentials: CredentialsEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "the-token")
    source = CredentialSource()
    first = source.get()
    assert (first.access_key, first.secret_key, first.token) == ("ASIA1", "secret1", "token1")
    assert source.get() is first  # an hour left: kept
    assert container_credentials.tokens == ["the-token"]
    container_credentials.lifetime_s = 10 * 60  # the next ones expire within 15 minutes
    source._fetched = None
    assert source.get().access_key == "ASIA2"
    assert source.get().access_key == "ASIA3"  # fetched again: they expire too soon to keep


def test_the_token_file_wins_over_the_token(
    container_credentials: CredentialsEndpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file\n")
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-the-variable")
    CredentialSource().get()
    assert container_credentials.tokens == ["from-the-file"]


def test_credentials_from_another_host_or_nowhere_are_refused_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    with pytest.raises(AwsError, match="NoCredentialsError"):
        CredentialSource().get()
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/credentials")
    with pytest.raises(AwsError, match=r"Unsupported host '192\.0\.2\.1'"):
        CredentialSource().get()
    # A name that only looks like a loopback address is not one (plain http to it is refused).
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1.example.com/credentials")
    with pytest.raises(AwsError, match=r"Unsupported host '127\.0\.0\.1\.example\.com'"):
        CredentialSource().get()


def test_an_endpoint_that_never_answers_costs_the_timeout_only(
    blackhole_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"http://127.0.0.1:{blackhole_port}/creds")
    started = time.monotonic()
    with pytest.raises(AwsError, match="CredentialRetrievalError"):
        CredentialSource().get(timeout_s=0.3)
    assert time.monotonic() - started < 5  # the 0.3 s bound, with room for a loaded machine


def test_an_endpoint_that_refuses_connections_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"http://127.0.0.1:{port}/creds")
    with pytest.raises(AwsError, match="CredentialRetrievalError: container credentials endpoint"):
        CredentialSource().get(timeout_s=1)


def test_a_call_signs_with_container_credentials(
    container_credentials: CredentialsEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SnapStart's way: no keys in the environment, only the endpoint. The service checks the
    signature (botocore's signer) with the endpoint's first key and sees its session token."""
    checked: list[tuple[str, str | None]] = []

    class Handler(FastHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            key = check_signature(
                "POST", self.path, dict(self.headers.items()), body,
                secrets={"ASIA1": "secret1"}, service="monitoring", region="us-east-1",
            )  # fmt: skip
            checked.append((key, self.headers.get("x-amz-security-token")))
            self.reply(200, b"{}", {"Content-Type": "application/json"})

    service = LoopbackEndpoint(Handler)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", service.url)
    cloudwatch_call(AwsClient(CLOUDWATCH, 2000, 1), "PutMetricData", {"Namespace": "n", "MetricData": []})
    service.close()
    assert checked == [("ASIA1", "token1")]


# -- connections -------------------------------------------------------------------------------


class CountingApi:
    """A JSON endpoint on 127.0.0.1 recording the client port of each request; it can close idle
    connections (as a service does while a function is frozen)."""

    def __init__(self) -> None:
        self.ports: list[int] = []
        self.sockets: list[socket.socket] = []
        api = self

        class Handler(FastHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                api.ports.append(self.client_address[1])
                if self.connection not in api.sockets:
                    api.sockets.append(self.connection)
                self.reply(200, b"{}", {"Content-Type": "application/json"})

        self.endpoint = LoopbackEndpoint(Handler)

    def close_idle_connections(self) -> None:
        for connection in self.sockets:
            connection.shutdown(socket.SHUT_RDWR)
        self.sockets.clear()


def test_connections_are_kept_alive_and_one_the_service_closed_is_replaced_not_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = CountingApi()
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", api.endpoint.url)
    client = AwsClient(CLOUDWATCH, 2000, 4)
    for _ in range(3):
        cloudwatch_call(client, "PutMetricData", {"Namespace": "n", "MetricData": []})
    assert len(set(api.ports)) == 1
    api.close_idle_connections()
    time.sleep(0.1)  # the close reaches the idle socket, as it would while the environment is frozen
    cloudwatch_call(client, "PutMetricData", {"Namespace": "n", "MetricData": []})
    assert len(api.ports) == 4
    assert len(set(api.ports)) == 2
    api.endpoint.close()


def test_a_connection_closed_in_the_very_moment_of_reuse_is_replaced_not_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The close arrives after the idle check (the race): the request never reached the service,
    so it goes again on a new connection."""
    api = CountingApi()
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", api.endpoint.url)
    client = AwsClient(CLOUDWATCH, 2000, 4)
    cloudwatch_call(client, "PutMetricData", {"Namespace": "n", "MetricData": []})
    idle = client._idle[0].connection
    original_request = idle.request

    def close_first(*arguments: Any, **keywords: Any) -> None:
        api.close_idle_connections()
        time.sleep(0.05)
        original_request(*arguments, **keywords)

    idle.request = close_first  # type: ignore[method-assign]
    cloudwatch_call(client, "PutMetricData", {"Namespace": "n", "MetricData": []})
    assert len(api.ports) == 2
    assert len(set(api.ports)) == 2
    api.endpoint.close()


def test_a_connection_idle_past_what_networks_keep_is_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    api = CountingApi()
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", api.endpoint.url)
    client = AwsClient(CLOUDWATCH, 2000, 4)
    cloudwatch_call(client, "PutMetricData", {"Namespace": "n", "MetricData": []})
    client._idle[0].since -= 341
    cloudwatch_call(client, "PutMetricData", {"Namespace": "n", "MetricData": []})
    assert len(set(api.ports)) == 2
    api.endpoint.close()


@pytest.fixture
def blackhole_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield server.getsockname()[1]
    server.close()


def test_a_service_that_never_answers_costs_the_callers_time_only(
    blackhole_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://127.0.0.1:{blackhole_port}")
    client = AwsClient(LAMBDA, 20_000, 1)
    started = time.monotonic()
    with pytest.raises(AwsError) as timed_out:
        client.call("POST", "/2015-03-31/functions/orders/invocations", body=b"{}", timeout_s=0.3)
    assert timed_out.value.code == "ReadTimeoutError"
    assert time.monotonic() - started < 5  # the 0.3 s bound, with room for a loaded machine


def test_https_with_a_ca_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TLS as against AWS: the certificate is checked (here against AWS_CA_BUNDLE), connections kept."""
    import ssl

    key, certificate = tmp_path / "key.pem", tmp_path / "cert.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(certificate)],
        capture_output=True, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"openssl could not make a certificate: {made.stderr.decode()[-200:]}")
    api = CountingApi()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    api.endpoint.server.socket = context.wrap_socket(api.endpoint.server.socket, server_side=True)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", f"https://127.0.0.1:{api.endpoint.port}")
    monkeypatch.setattr("lambdawarmer.aws.connections._tls", [])
    with pytest.raises(AwsError, match=r"SSLError: SSL validation failed .*CERTIFICATE_VERIFY_FAILED"):
        cloudwatch_call(AwsClient(CLOUDWATCH, 2000, 1), "PutMetricData", {"Namespace": "n", "MetricData": []})
    monkeypatch.setattr("lambdawarmer.aws.connections._tls", [])
    monkeypatch.setenv("AWS_CA_BUNDLE", str(certificate))
    client = AwsClient(CLOUDWATCH, 2000, 1)
    for _ in range(2):
        cloudwatch_call(client, "PutMetricData", {"Namespace": "n", "MetricData": []})
    assert len(api.ports) == 2
    assert len(set(api.ports)) == 1
    api.endpoint.close()


# -- real services checking the signature ------------------------------------------------------


class MotoWithAuth:
    """moto's server in its own process with IAM request authentication on: an IAM user's key may
    call CloudWatch; any other key or a wrong secret is refused."""

    def __init__(self, url: str, access_key: str, secret_key: str) -> None:
        self.url = url
        self.access_key = access_key
        self.secret_key = secret_key


@pytest.fixture(scope="module")
def moto_with_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoWithAuth]:
    # The first three calls (the user, its key, its policy) are let through; every later one is checked.
    environment = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    # The server binds a port of its own choosing and says which: a port probed free beforehand can
    # be taken meanwhile by another test's server (one without authentication, which accepted a
    # wrong secret once in a loaded run).
    log = tmp_path_factory.mktemp("moto_with_auth") / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", "0"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        started = None
        for _ in range(600):
            started = re.search(rb"Running on (http://127\.0\.0\.1:\d+)", log.read_bytes())
            if started or server.poll() is not None:
                break
            time.sleep(0.05)
        assert started, f"moto_server did not start: {log.read_text()[-500:]}"
        url = started.group(1).decode()
        iam = boto3.client(
            "iam",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="admin",
            aws_secret_access_key="admin",
        )
        iam.create_user(UserName="function")
        key = iam.create_access_key(UserName="function")["AccessKey"]
        # moto names CloudWatch's actions by its endpoint prefix (monitoring:); IAM by cloudwatch:.
        actions = [f"{prefix}:{action}" for prefix in ("cloudwatch", "monitoring")
                   for action in ("GetMetricData", "PutMetricData")]  # fmt: skip
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
        iam.put_user_policy(UserName="function", PolicyName="metrics", PolicyDocument=json.dumps(policy))
        yield MotoWithAuth(url, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        server.terminate()
        server.wait(10)


def test_moto_with_request_authentication_accepts_the_calls_and_refuses_a_wrong_secret(
    moto_with_auth: MotoWithAuth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", moto_with_auth.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_with_auth.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_with_auth.secret_key)
    client = AwsClient(CLOUDWATCH, 5000, 1)
    now = int(time.time())
    datum = {"MetricName": "ColdStart", "Dimensions": [{"Name": "FunctionName", "Value": "orders"}],
             "Value": 1.0, "Unit": "Count", "Timestamp": now - 60}  # fmt: skip
    cloudwatch_call(client, "PutMetricData", {"Namespace": "LambdaWarmer", "MetricData": [datum]})
    metric = {"Namespace": "LambdaWarmer", "MetricName": "ColdStart", "Dimensions": datum["Dimensions"]}
    answer = cloudwatch_call(
        client,
        "GetMetricData",
        {"MetricDataQueries": [{"Id": "cold", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}}],
         "StartTime": now - 600, "EndTime": now + 60},
    )  # fmt: skip
    assert answer["MetricDataResults"][0]["Values"] == [1.0]
    secret = moto_with_auth.secret_key
    wrong = secret[:-1] + ("x" if secret[-1] != "x" else "y")  # one secret in ~64 ends in x already
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", wrong)
    with pytest.raises(AwsError) as refused:
        cloudwatch_call(
            AwsClient(CLOUDWATCH, 5000, 1), "PutMetricData", {"Namespace": "x", "MetricData": [datum]}
        )
    assert refused.value.code == "SignatureDoesNotMatch"
    assert refused.value.status == 403


def test_the_emulator_refuses_a_bad_signature_as_lambda_does(start_emulator: Any, tmp_path: Path) -> None:
    from emulator import FunctionSpec

    from .conftest import write_function

    code = write_function(tmp_path / "fn", "def handler(event, context):\n    return 'ran'\n")
    emulator = start_emulator(FunctionSpec(name="orders", code=code, handler="app.handler"))
    client = boto3.client(
        "lambda", endpoint_url=emulator.url, region_name="us-east-1",
        aws_access_key_id="emulator", aws_secret_access_key="not-the-secret",
    )  # fmt: skip
    with pytest.raises(client.exceptions.ClientError) as refused:
        client.invoke(FunctionName="orders", Payload=b"{}")
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert emulator.invocations == []
    assert emulator.refused_requests == ["InvalidSignatureException"]


def test_a_busy_client_is_safe_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    api = CountingApi()
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", api.endpoint.url)
    client = AwsClient(CLOUDWATCH, 5000, 8)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                cloudwatch_call(client, "PutMetricData", {"Namespace": "n", "MetricData": []})
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(api.ports) == 80
    assert len(client._idle) <= 8
    api.endpoint.close()
