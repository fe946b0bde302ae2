"""What an attacker or an unlucky day can hand the layer: each is refused cheaply, named, never shown.

Events no one planned for (a nested correlation id, a 6 MB concurrency, an EventBridge envelope
with another warmer's ``source``), a container credentials endpoint answering what the parser
refuses, credentials about to expire under a fan-out, a layer that overrides one of our files, a
``.env`` file with a password on a malformed line, and the decorator stepping aside under the
layer with both tokens set.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.http import FastHandler, LoopbackEndpoint
from lambdawarmer import load_config, warmer
from lambdawarmer.aws import AwsError, CredentialSource
from lambdawarmer.instance import LAYER_WARMER_ENV
from lambdawarmer.logs import bounded
from lambdawarmer.protocol import FANOUT_KEY, PLUGIN_SOURCE, PingFormat, fanout_payload
from lambdawarmer_cli import main as cli

from .conftest import make_context

TOKEN = "the-layers-own-token-0123456789"
DECORATOR_TOKEN = "the-decorators-token-9876543210"
SECRET_KEY = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE-session-token"


def handler(event: Any, context: Any) -> dict[str, Any]:
    return {"handled": True}


def pings(token: str | None = TOKEN) -> PingFormat:
    return PingFormat.of(load_config({"token": token}, environ={}))


# -- events ------------------------------------------------------------------------------------------


def test_a_deeply_nested_correlation_id_goes_to_the_handler_in_token_mode() -> None:
    nested: Any = "x"
    for _ in range(100_000):
        nested = [nested]
    event = {FANOUT_KEY: {"index": 2, "total": 3, "correlation_id": nested, "proof": "0" * 64}}
    assert pings().detect(event) is None
    assert warmer(token=TOKEN)(handler)(event, make_context()) == {"handled": True}


def test_a_true_fanned_out_payload_still_proves_itself() -> None:
    payload = json.loads(fanout_payload(2, 3, "abc", 75, TOKEN))
    found = pings().detect(payload)
    assert found is not None
    assert (found.index, found.total, found.correlation_id) == (2, 3, "abc")
    assert pings("another-token-of-24-chars").detect(payload) is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (list(range(700_000)), "a JSON array of 700000 items"),
        ({str(n): n for n in range(1000)}, "a JSON object of 1000 items"),
        (10**5000, "a whole number of 16610 bits"),
        ("x" * 10_000_000, "'" + "x" * 60),
    ],
    ids=["list", "object", "huge-int", "long-string"],
)
def test_a_refused_value_is_named_by_its_kind_and_size_never_formatted_whole(
    value: object, shown: str
) -> None:
    assert bounded(value).startswith(shown)
    assert len(bounded(value)) <= 64


def test_an_enormous_concurrency_is_refused_without_formatting_it(caplog: pytest.LogCaptureFixture) -> None:
    """Without the token, a 6 MB ping-shaped event goes to the handler; the warning names no value."""
    event = {"warmer": True, "concurrency": list(range(700_000))}
    assert warmer(token=TOKEN)(handler)(event, make_context()) == {"handled": True}
    assert all(len(record.getMessage()) < 300 for record in caplog.records)
    found = pings(None).detect(event)
    assert found is not None
    assert "a JSON array of 700000 items" in str(found.warning)


def test_an_eventbridge_envelope_is_never_a_ping() -> None:
    envelope = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Scheduled Event",
        "source": PLUGIN_SOURCE,
        "account": "123456789012",
        "time": "2026-12-04T14:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }
    assert pings(None).detect(envelope) is None
    assert warmer(handler)(envelope, make_context()) == {"handled": True}
    assert pings(None).detect({"source": PLUGIN_SOURCE}) is not None  # the plugin's own ping still is


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
PING_SHAPED = st.fixed_dictionaries(
    {},
    optional={
        "warmer": JSON | st.just(True),
        "concurrency": JSON,
        "token": JSON | st.just(TOKEN),
        "source": JSON | st.just(PLUGIN_SOURCE),
        FANOUT_KEY: st.dictionaries(
            st.sampled_from(["index", "total", "hold_ms", "correlation_id", "proof"]), JSON, max_size=5
        ),
        "detail-type": JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(event=PING_SHAPED, token=st.sampled_from([None, TOKEN]))
def test_detect_never_raises(event: dict[str, object], token: str | None) -> None:
    found = pings(token).detect(event)
    assert found is None or found.kind in ("schedule", "fanout", "lambda-warmer", PLUGIN_SOURCE)


# -- what is logged ----------------------------------------------------------------------------------


def test_stepping_aside_under_the_layer_never_shows_either_token(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import os

    monkeypatch.setenv(LAYER_WARMER_ENV, str(os.getpid()))
    monkeypatch.setenv("WARMER_TOKEN", TOKEN)
    with caplog.at_level(logging.WARNING):
        warmer(token=DECORATOR_TOKEN)(handler)
    text = caplog.text
    assert "steps aside" in text
    assert "token=<hidden, 31 characters> (the layer has <hidden, 31 characters>" in text
    assert TOKEN not in text
    assert DECORATOR_TOKEN not in text


def test_config_never_echoes_a_malformed_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("WARMER_DELAY=75\npostgres://app:S3cr3t@db\n")
    status = cli.main(["config", "--env-file", str(env_file)])
    printed = capsys.readouterr()
    assert status == 2
    assert f"{env_file}:2: expected NAME=value" in printed.err
    assert "S3cr3t" not in printed.out + printed.err


# -- container credentials ---------------------------------------------------------------------------


class CredentialsEndpoint:
    """A container credentials endpoint on 127.0.0.1 answering ``body`` and counting the requests."""

    def __init__(self, body: dict[str, object]) -> None:
        self.body = body
        self.requests = 0
        endpoint = self

        class Handler(FastHandler):
            def do_GET(self) -> None:
                endpoint.requests += 1
                time.sleep(0.05)  # as a real fetch takes a while: callers overlap
                self.reply(200, json.dumps(endpoint.body).encode(), {"Content-Type": "application/json"})

        self.server = LoopbackEndpoint(Handler)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def container_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[CredentialsEndpoint]:
    endpoint = CredentialsEndpoint({})
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{endpoint.server.url}/creds")
    yield endpoint
    endpoint.close()


def keys(expiration: object) -> dict[str, object]:
    return {
        "AccessKeyId": "ASIAEXAMPLE",
        "SecretAccessKey": SECRET_KEY,
        "Token": SESSION_TOKEN,
        "Expiration": expiration,
    }


def test_a_credentials_answer_the_parser_refuses_is_named_never_shown(
    container_credentials: CredentialsEndpoint,
) -> None:
    container_credentials.body = keys({"when": "soon"})
    with pytest.raises(AwsError) as refused:
        CredentialSource().get()
    message = str(refused.value)
    assert "its Expiration is neither an ISO 8601 time nor epoch seconds" in message
    assert SECRET_KEY not in message
    assert SESSION_TOKEN not in message


def test_a_numeric_expiration_is_taken_as_botocore_takes_it(
    container_credentials: CredentialsEndpoint,
) -> None:
    container_credentials.body = keys(time.time() + 3600)
    found = CredentialSource().get()
    assert (found.secret_key, found.token) == (SECRET_KEY, SESSION_TOKEN)
    assert found.expires_at is not None


def test_credentials_near_expiry_are_fetched_once_for_a_whole_fan_out(
    container_credentials: CredentialsEndpoint,
) -> None:
    """Within the 15 minutes before expiry, 49 concurrent invokes sign with the valid ones while one
    caller fetches new ones: one fetch, not 49 in a row."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 300))
    container_credentials.body = keys(stamp)
    source = CredentialSource()
    source.get()
    assert container_credentials.requests == 1
    threads = [threading.Thread(target=source.get) for _ in range(49)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert container_credentials.requests == 2


# -- the layer's files -------------------------------------------------------------------------------


def test_a_later_layer_overriding_one_of_our_files_has_its_source_used(
    layer_zip: Path, tmp_path: Path
) -> None:
    """Layers unpack over each other in /opt: a file another layer replaces must not run our bytecode."""
    import zipfile

    opt = tmp_path / "opt"
    with zipfile.ZipFile(layer_zip) as archive:
        archive.extractall(opt)
    version = opt / "python" / "_lambdawarmer_layer" / "version.py"
    tag = f"cpython-{sys.version_info[0]}{sys.version_info[1]}"
    assert (version.parent / "__pycache__" / f"version.{tag}.pyc").is_file()  # the layer's bytecode
    version.write_text('__version__ = "overridden by a later layer"\n')
    probe = "import _lambdawarmer_layer.version as v; print(v.__version__)"
    seen = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(opt / "python"), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert seen.stdout.strip() == "overridden by a later layer"
