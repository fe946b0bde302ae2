"""Function references: the one reader of every form Lambda takes, and of the invocation's own."""

from __future__ import annotations

import pytest

from lambdawarmer.function_ref import FunctionRef, parse_function_ref

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"


@pytest.mark.parametrize(
    ("text", "function", "qualifier"),
    [
        ("orders", "orders", None),
        ("orders:live", "orders", "live"),
        ("orders:$LATEST", "orders", "$LATEST"),
        ("123456789012:function:orders", "123456789012:function:orders", None),
        ("123456789012:function:orders:7", "123456789012:function:orders", "7"),
        (ARN, ARN, None),
        (f"{ARN}:live", ARN, "live"),
        (
            "arn:aws-cn:lambda:cn-north-1:1:function:f:blue",
            "arn:aws-cn:lambda:cn-north-1:1:function:f",
            "blue",
        ),
    ],
)
def test_every_form_lambda_takes(text: str, function: str, qualifier: str | None) -> None:
    ref = parse_function_ref(text)
    assert (ref.function, ref.qualifier, ref.name) == (
        function,
        qualifier,
        "orders" if "orders" in text else "f",
    )
    assert str(ref) == text


@pytest.mark.parametrize("text", ["", "a:b:c", "a:b:c:d:e", "orders:", ":live", "arn:aws:s3:::bucket"])
def test_what_is_no_reference_is_refused_naming_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match="expected NAME, NAME:QUALIFIER"):
        parse_function_ref(text)


@pytest.mark.parametrize(
    ("text", "name", "qualifier", "account"),
    [
        ("function:orders", "orders", None, None),
        ("function:orders:live", "orders", "live", None),
        ("999999999999:function:orders", "orders", None, "999999999999"),
        ("123:function:orders:live", "orders", "live", "123"),
    ],
)
def test_a_partial_arn_names_its_function_and_its_account(
    text: str, name: str, qualifier: str | None, account: str | None
) -> None:
    """As Lambda reads them: ``function:NAME`` is NAME (not a function called "function"), and a
    partial ARN's account is checked like a full one's."""
    ref = parse_function_ref(text)
    assert (ref.name, ref.qualifier, ref.account) == (name, qualifier, account)


def test_a_qualifier_in_the_name_wins_over_one_given_apart() -> None:
    assert parse_function_ref("orders:live").qualified("7") == FunctionRef("orders", "live")
    assert parse_function_ref("orders").qualified("7") == FunctionRef("orders", "7")
    assert parse_function_ref(ARN).account == "123456789012"
    assert parse_function_ref("orders").account is None
