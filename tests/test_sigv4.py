"""lambdawarmer's Signature Version 4 is botocore's, byte for byte, and services that check it agree."""

from __future__ import annotations

import datetime
from unittest import mock
from urllib.parse import quote

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.signatures import SignatureError, check_signature
from lambdawarmer.aws.sigv4 import authorization

HOST = "lambda.eu-west-1.amazonaws.com"
# Every character a function name, an ARN, a qualifier or a query value can bring, and more.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=40)
SEGMENT = st.one_of(
    TEXT.filter(bool),
    st.sampled_from(
        ["arn:aws:lambda:eu-west-1:123456789012:function:orders:live", "$LATEST", ".", "..", "a b"]
    ),
)
HEADER_NAME = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20).filter(
    lambda name: name not in ("host", "x-amz-date", "x-amz-security-token", "authorization")
)
WORD = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=8)
HEADER_VALUE = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    # Runs of spaces inside and around a value: the signature folds them.
    st.tuples(st.lists(WORD, min_size=1, max_size=4), st.sampled_from([" ", "  ", "   "])).map(
        lambda words_gap: words_gap[1] + words_gap[1].join(words_gap[0]) + words_gap[1]
    ),
)


def botocore_authorization(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    credentials: Credentials,
    when: datetime.datetime,
) -> tuple[str, dict[str, str]]:
    """botocore's Authorization header for the request, and every header it sends."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4Auth(credentials, "lambda", "eu-west-1").add_auth(request)
    return request.headers["Authorization"], dict(request.headers.items())


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "post"]),
    segments=st.lists(SEGMENT, min_size=1, max_size=4),
    trailing_slash=st.booleans(),
    query=st.lists(st.tuples(TEXT, TEXT), max_size=4),
    body=st.binary(max_size=300),
    headers=st.dictionaries(HEADER_NAME, HEADER_VALUE, max_size=4),
    token=st.one_of(st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1)),
    secret=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
    when=st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31)),
)
def test_signatures_are_botocores(
    method: str,
    segments: list[str],
    trailing_slash: bool,
    query: list[tuple[str, str]],
    body: bytes,
    headers: dict[str, str],
    token: str | None,
    secret: str,
    when: datetime.datetime,
) -> None:
    """Paths encoded as the client sends them (reserved characters, ARNs with qualifiers, dot
    segments), any query, body, extra headers with odd spacing, with and without a session token."""
    path = (
        "/" + "/".join(quote(segment, safe="-_.~") for segment in segments) + ("/" if trailing_slash else "")
    )
    query_string = "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}" for name, value in query
    )
    credentials = Credentials("AKIDEXAMPLE", secret, token)
    url = f"https://{HOST}{path}" + (f"?{query_string}" if query_string else "")
    expected, sent = botocore_authorization(method, url, dict(headers), body, credentials, when)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    ours = {"host": HOST, "x-amz-date": amz_date, **headers}
    if token:
        ours["x-amz-security-token"] = token
    assert sent["X-Amz-Date"] == amz_date
    assert (
        authorization(
            method=method,
            path=path,
            query=query_string,
            headers=ours,
            body=body,
            access_key="AKIDEXAMPLE",
            secret_key=secret,
            region="eu-west-1",
            service="lambda",
            amz_date=amz_date,
        )
        == expected
    )


def test_the_aws_documentation_example() -> None:
    """The GET example of the SigV4 documentation (IAM ListUsers), as botocore's tests use it."""
    headers = {
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        "host": "iam.amazonaws.com",
        "x-amz-date": "20150830T123600Z",
    }
    signed = authorization(
        method="GET",
        path="/",
        query="Action=ListUsers&Version=2010-05-08",
        headers=headers,
        body=b"",
        access_key="AKIDEXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        service="iam",
        amz_date="20150830T123600Z",
    )
    assert signed == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    )


def signed_request(
    secret: str = "emulator", service: str = "lambda", region: str = "us-east-1"
) -> dict[str, str]:
    amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = {"host": "127.0.0.1:9001", "x-amz-date": amz_date}
    headers["Authorization"] = authorization(
        method="POST",
        path="/2015-03-31/functions/orders/invocations",
        query="Qualifier=live",
        headers=headers,
        body=b"{}",
        access_key="emulator",
        secret_key=secret,
        region=region,
        service=service,
        amz_date=amz_date,
    )
    return headers


def check(headers: dict[str, str], body: bytes = b"{}") -> str:
    return check_signature(
        "POST",
        "/2015-03-31/functions/orders/invocations?Qualifier=live",
        headers,
        body,
        secrets={"emulator": "emulator"},
        service="lambda",
        region="us-east-1",
    )


def test_the_emulators_check_accepts_a_good_signature_and_names_what_is_wrong_with_a_bad_one() -> None:
    assert check(signed_request()) == "emulator"
    refusals = {
        "wrong secret": (signed_request(secret="wrong"), b"{}"),
        "changed body": (signed_request(), b'{"warmer": true}'),
        "other service": (signed_request(service="monitoring"), b"{}"),
        "other region": (signed_request(region="eu-west-1"), b"{}"),
        "no signature": ({"host": "127.0.0.1:9001"}, b"{}"),
        "unknown key": (
            {
                **signed_request(),
                "Authorization": signed_request()["Authorization"].replace(
                    "Credential=emulator", "Credential=someone"
                ),
            },
            b"{}",
        ),
    }
    types = {}
    for case, (headers, body) in refusals.items():
        with pytest.raises(SignatureError) as refused:
            check(headers, body)
        types[case] = refused.value.error_type
    assert types == {
        "wrong secret": "InvalidSignatureException",
        "changed body": "InvalidSignatureException",
        "other service": "InvalidSignatureException",
        "other region": "InvalidSignatureException",
        "no signature": "MissingAuthenticationTokenException",
        "unknown key": "UnrecognizedClientException",
    }


def test_an_old_signature_is_refused() -> None:
    headers = signed_request()
    old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=6)).strftime(
        "%Y%m%dT%H%M%SZ"
    )
    headers["x-amz-date"] = old
    with pytest.raises(SignatureError, match="Signature expired"):
        check(headers)
