"""No secret ever appears in what the layer logs or answers, or in what the command line prints.

Functions run in the emulator with every secret a function can hold set to a value the scan knows:
the layer's ``WARMER_TOKEN``, a decorator's own token, the access key's secret, the session token,
and (the second function) container credentials behind an authorization token. Each is driven
through what prints or answers: cold starts, the decorator stepping aside, the owner's pings and
fan-outs, pings without or with a wrong token, a forged fanned-out payload, a real request, a
credentials endpoint answering what the parser refuses, ``ping`` (table and ``--json``) and
``config``. Then everything is scanned for every secret.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from emulator import LambdaEmulator
from emulator.http import FastHandler, LoopbackEndpoint
from lambdawarmer.protocol import FANOUT_KEY
from lambdawarmer_cli import main as cli

from .conftest import layered_spec, write_function

Start = Callable[..., LambdaEmulator]
TOKEN = "layer-token-SCAN-4f9c2a7e1b"
DECORATOR_TOKEN = "decorator-token-SCAN-8d3e6b"
ACCESS_KEY = "ASIASCANEXAMPLE"
SECRET_KEY = "secret-key-SCAN-0a1b2c3d4e5f6a7b"
SESSION_TOKEN = "session-token-SCAN-9f8e7d6c"
AUTHORIZATION = "container-auth-SCAN-5e4d3c"
SECRETS = (TOKEN, DECORATOR_TOKEN, SECRET_KEY, SESSION_TOKEN, AUTHORIZATION)

DECORATED = f"""
import lambdawarmer

@lambdawarmer.warmer(token={DECORATOR_TOKEN!r}, delay=10)
def handler(event, context):
    return {{"handled": sorted(event) if isinstance(event, dict) else None}}  # its keys, never its values
"""


def scan(texts: list[str]) -> list[tuple[str, str]]:
    """(secret, where) for every secret found in ``texts``."""
    return [(secret, text[:200]) for text in texts for secret in SECRETS if secret in text]


def run_cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stderr(out), contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        cli.main(list(argv), out)
    return out.getvalue()


@pytest.fixture
def credentials_endpoint() -> LoopbackEndpoint:
    """A container credentials endpoint that checks the authorization token and answers keys the
    parser refuses (an Expiration that is neither a time nor a number)."""

    class Handler(FastHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != AUTHORIZATION:
                self.reply(403, b"{}", {})
                return
            body = {
                "AccessKeyId": ACCESS_KEY,
                "SecretAccessKey": SECRET_KEY,
                "Token": SESSION_TOKEN,
                "Expiration": {"not": "a time"},
            }
            self.reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    return LoopbackEndpoint(Handler)


def test_nothing_printed_or_answered_holds_a_secret(
    start_emulator: Start,
    tmp_path: Path,
    layer_zip: Path,
    credentials_endpoint: LoopbackEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts: list[str] = []
    code = write_function(tmp_path / "code", DECORATED)
    keys = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
    }
    signed = start_emulator(
        layered_spec(
            code, layer_zip, WARMER_TOKEN=TOKEN, WARMER_LOG_LEVEL="DEBUG", WARMER_SEND_METRIC="true", **keys
        ),
        credentials={ACCESS_KEY: SECRET_KEY, "testing": "testing"},  # the function's keys, the command line's
    )
    events = [
        {
            "warmer": True,
            "concurrency": 3,
            "token": TOKEN,
        },  # the owner's ping: a fan-out signed with the keys
        {"warmer": True, "concurrency": 3},  # no token
        {"warmer": True, "concurrency": 3, "token": DECORATOR_TOKEN},  # the wrong one
        {FANOUT_KEY: {"index": 2, "total": 3, "correlation_id": "c", "proof": TOKEN}},  # forged
        {"order": 1},
    ]
    texts += [signed.invoke(event).payload.decode() for event in events]
    fetched = start_emulator(
        layered_spec(
            code,
            layer_zip,
            WARMER_TOKEN=TOKEN,
            WARMER_LOG_LEVEL="DEBUG",
            AWS_ACCESS_KEY_ID="",
            AWS_SECRET_ACCESS_KEY="",
            AWS_SESSION_TOKEN="",
            AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{credentials_endpoint.url}/creds",
            AWS_CONTAINER_AUTHORIZATION_TOKEN=AUTHORIZATION,
        )
    )
    answer = fetched.invoke({"warmer": True, "concurrency": 2, "token": TOKEN})
    report = json.loads(answer.payload)
    assert report["invocations_failed"] == 1, report  # the credentials were refused...
    assert "neither an ISO 8601 time nor epoch seconds" in json.dumps(report)  # ...and the reason named
    texts.append(answer.payload.decode())
    texts += signed.output() + fetched.output()
    assert any("steps aside" in line for line in texts)  # the decorator's warning was scanned too

    # The command line, against the first function.
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", signed.url)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    texts.append(run_cli("ping", "orders", "--concurrency", "2", "--token-file", str(token_file)))
    texts.append(run_cli("ping", "orders", "--concurrency", "2", "--token-file", str(token_file), "--json"))
    monkeypatch.setenv("WARMER_TOKEN", TOKEN)
    texts.append(run_cli("ping", "orders", "--token-from-env"))
    texts.append(run_cli("config"))
    assert "instances warm   2 of 2" in texts[-4]
    assert scan(texts) == []
    credentials_endpoint.close()
