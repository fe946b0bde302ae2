"""Settings: precedence, defaults, and a clear error for every bad value."""

from __future__ import annotations

import pytest

from lambdawarmer import WarmerConfigError, load_config, warmer
from lambdawarmer.settings import HOOK, SETTINGS


def test_defaults_are_the_seeds() -> None:
    config = load_config(environ={})
    assert config.as_dict() == {
        "flag": "warmer",
        "concurrency": "concurrency",
        "delay": 75,
        "send_metric": False,
        "metrics_mode": "emf",
        "metrics_namespace": "LambdaWarmer",
        "max_concurrency": 100,
        "tenants": None,
        "invoke_timeout": None,
        "log_level": None,
        "exec_wrapper": None,
        "token": None,
        "top_up": True,
        "fix_cold_start_flags": True,
        "auto_window": 1440,
        "auto_headroom": 0,
        "auto_min": 1,
        "auto_max": None,
        "auto_fallback": None,
    }


def test_decorator_argument_beats_environment_beats_default() -> None:
    environ = {"WARMER_FLAG": "ping", "WARMER_DELAY": "150", "WARMER_SEND_METRIC": "yes"}
    config = load_config({"flag": "am_i_a_warmer", "delay": None}, environ)
    assert config.flag == "am_i_a_warmer"  # argument
    assert config.delay == 150  # environment (None means unset)
    assert config.send_metric is True
    assert config.concurrency == "concurrency"  # default


def test_every_setting_reads_its_own_variable() -> None:
    environ = {
        "WARMER_FLAG": "w",
        "WARMER_CONCURRENCY": "n",
        "WARMER_DELAY": "0",
        "WARMER_SEND_METRIC": "ON",
        "WARMER_METRICS_MODE": "PUT_METRIC_DATA",
        "WARMER_METRICS_NAMESPACE": "Team/Warmth",
        "WARMER_MAX_CONCURRENCY": "1000",
        "WARMER_INVOKE_TIMEOUT": "2500",
        "WARMER_LOG_LEVEL": "debug",
        "WARMER_EXEC_WRAPPER": "/opt/otel-instrument",
        "WARMER_TOKEN": "0123456789abcdef",
        "WARMER_TENANTS": "acme=3, globex=2",
        "WARMER_TOP_UP": "off",
        "WARMER_FIX_COLD_START_FLAGS": "no",
        "WARMER_AUTO_WINDOW": "30",
        "WARMER_AUTO_HEADROOM": "50",
        "WARMER_AUTO_MIN": "2",
        "WARMER_AUTO_MAX": "40",
        "WARMER_AUTO_FALLBACK": "4",
    }
    assert load_config(environ=environ).as_dict() == {
        "flag": "w",
        "concurrency": "n",
        "delay": 0,
        "send_metric": True,
        "metrics_mode": "put_metric_data",
        "metrics_namespace": "Team/Warmth",
        "max_concurrency": 1000,
        "invoke_timeout": 2500,
        "log_level": "DEBUG",
        "exec_wrapper": "/opt/otel-instrument",
        "token": "0123456789abcdef",
        "tenants": {"acme": 3, "globex": 2},
        "top_up": False,
        "fix_cold_start_flags": False,
        "auto_window": 30,
        "auto_headroom": 50,
        "auto_min": 2,
        "auto_max": 40,
        "auto_fallback": 4,
    }
    assert {setting.env for setting in SETTINGS.values() if setting.scope != HOOK} == set(environ)


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("WARMER_DELAY", "abc", "a whole number of milliseconds from 0 to 60000"),
        ("WARMER_DELAY", "-5", "a whole number of milliseconds from 0 to 60000"),
        ("WARMER_DELAY", "1.5", "a whole number of milliseconds"),
        ("WARMER_SEND_METRIC", "maybe", "true or false"),
        ("WARMER_FLAG", "", "a non-empty event field name"),
        ("WARMER_FLAG", "   ", "a non-empty event field name"),
        ("WARMER_CONCURRENCY", "5", "not a number"),
        ("WARMER_CONCURRENCY", "-1.5e3", "not a number"),
        ("WARMER_FLAG", "x" * 129, "at most 128 characters"),
        ("WARMER_METRICS_MODE", "statsd", "one of emf, put_metric_data"),
        ("WARMER_MAX_CONCURRENCY", "0", "a whole number from 1 to 1000"),
        ("WARMER_MAX_CONCURRENCY", "1000000000", "a whole number from 1 to 1000"),
        ("WARMER_INVOKE_TIMEOUT", "5", "from 100 to 900000"),
        ("WARMER_LOG_LEVEL", "LOUD", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("WARMER_METRICS_NAMESPACE", " padded ", "a CloudWatch namespace"),
        ("WARMER_EXEC_WRAPPER", "otel-instrument", "the absolute path of an executable"),
    ],
)
def test_bad_environment_value_names_variable_value_and_what_is_allowed(
    variable: str, value: str, allowed: str
) -> None:
    with pytest.raises(WarmerConfigError) as raised:
        load_config(environ={variable: value})
    message = str(raised.value)
    assert f"{variable}={value!r}" in message
    assert allowed in message


@pytest.mark.parametrize(
    ("argument", "value"),
    [("delay", "abc"), ("delay", -5), ("delay", True), ("send_metric", "maybe"), ("flag", ""), ("flag", 7)],
)
def test_bad_decorator_argument_is_named_as_an_argument(argument: str, value: object) -> None:
    with pytest.raises(WarmerConfigError, match=rf"{argument}={value!r} \(decorator argument\)"):
        warmer(**{argument: value})


def test_unknown_decorator_argument_is_refused_with_the_allowed_names() -> None:
    with pytest.raises(WarmerConfigError, match=r"unknown setting.*delya.*allowed: flag, concurrency, delay"):
        warmer(delya=5)


def test_flag_and_concurrency_fields_must_differ() -> None:
    with pytest.raises(WarmerConfigError, match="two different event fields"):
        load_config({"flag": "x", "concurrency": "x"}, {})


def test_config_is_read_only() -> None:
    config = load_config(environ={})
    with pytest.raises(AttributeError):
        config.delay = 1  # type: ignore[misc]


def test_bad_environment_fails_the_decorator_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARMER_DELAY", "soon")
    with pytest.raises(WarmerConfigError, match="WARMER_DELAY='soon'"):

        @warmer
        def handler(event: object, context: object) -> None: ...


def test_an_invoke_timeout_not_longer_than_the_delay_fails_naming_both() -> None:
    with pytest.raises(WarmerConfigError) as raised:
        load_config(environ={"WARMER_DELAY": "1500", "WARMER_INVOKE_TIMEOUT": "1000"})
    message = str(raised.value)
    assert "WARMER_INVOKE_TIMEOUT='1000'" in message
    assert "WARMER_DELAY='1500'" in message
    with pytest.raises(WarmerConfigError, match=r"invoke_timeout=200 \(decorator argument\).*WARMER_DELAY"):
        load_config({"invoke_timeout": 200}, {"WARMER_DELAY": "300"})


def test_the_read_timeout_covers_the_longest_hold_and_a_cold_init_unless_set() -> None:
    assert load_config(environ={}).read_timeout_ms == 75 + 10_000 + 10_000
    assert load_config(environ={"WARMER_DELAY": "1500"}).read_timeout_ms == 1500 + 20_000
    assert load_config(environ={"WARMER_INVOKE_TIMEOUT": "4000"}).read_timeout_ms == 4000


def test_the_exec_wrapper_is_a_layer_setting_not_a_decorator_argument() -> None:
    with pytest.raises(WarmerConfigError, match=r"unknown setting.*exec_wrapper"):
        warmer(exec_wrapper="/opt/otel-instrument")


@pytest.mark.parametrize("token", ["short", "x" * 15, " " + "x" * 20, "x" * 20 + "\n", "x" * 257])
def test_a_bad_token_is_refused_without_showing_it(token: str) -> None:
    with pytest.raises(WarmerConfigError) as raised:
        load_config(environ={"WARMER_TOKEN": token})
    message = str(raised.value)
    assert f"WARMER_TOKEN=<hidden, {len(token)} characters>" in message
    assert "16 to 256 printable characters" in message
    assert token.strip() not in message


def test_the_token_never_shows_in_the_config_repr() -> None:
    config = load_config({"token": "a-very-secret-token-value"}, {})
    assert config.token == "a-very-secret-token-value"
    assert "a-very-secret" not in repr(config)
    assert "<hidden, 25 characters>" in repr(config)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"WARMER_AUTO_MIN": "5", "WARMER_AUTO_MAX": "3"}, ("WARMER_AUTO_MIN='5'", "WARMER_AUTO_MAX='3'")),
        ({"WARMER_AUTO_MAX": "200"}, ("WARMER_AUTO_MAX='200'", "WARMER_MAX_CONCURRENCY=100 (default)")),
        (
            {"WARMER_AUTO_FALLBACK": "2", "WARMER_AUTO_MIN": "3"},
            ("WARMER_AUTO_MIN='3'", "WARMER_AUTO_FALLBACK='2'"),
        ),
    ],
)
def test_auto_bounds_out_of_order_fail_naming_both(environ: dict[str, str], named: tuple[str, str]) -> None:
    with pytest.raises(WarmerConfigError) as raised:
        load_config(environ=environ)
    assert all(part in str(raised.value) for part in named)


def test_with_a_token_no_field_may_be_named_token() -> None:
    """The scheduled ping carries the token in its ``token`` field: a flag of that name could not be sent."""
    with pytest.raises(WarmerConfigError, match="names the field a ping carries WARMER_TOKEN in"):
        load_config(environ={"WARMER_CONCURRENCY": "token", "WARMER_TOKEN": "a-long-enough-token"})
    assert load_config(environ={"WARMER_CONCURRENCY": "token"}).concurrency == "token"


def test_the_decorators_typed_signature_takes_every_argument_setting() -> None:
    """mypy --strict checks calls against the overload: it must name every setting the decorator
    takes (``@lambdawarmer.warmer(top_up=False)`` was rejected when it listed 11 of 17)."""
    import ast
    from pathlib import Path

    from lambdawarmer.settings import ARGUMENTS

    source = (Path(__file__).resolve().parent.parent / "lambdawarmer" / "decorator.py").read_text()
    overloads = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef)
        and node.name == "warmer"
        and any(isinstance(d, ast.Name) and d.id == "overload" for d in node.decorator_list)
    ]
    typed = {argument.arg for node in overloads for argument in node.args.kwonlyargs}
    assert typed == set(ARGUMENTS)


def test_the_config_object_holds_exactly_the_warmers_settings() -> None:
    """One table: WarmerConfig's slots come from SETTINGS (function and layer scopes), and its type
    annotations name the same settings, so neither can drift from the table."""
    from lambdawarmer.config import WarmerConfig
    from lambdawarmer.settings import SETTINGS, WARMER_SCOPES

    warmer_settings = [name for name, setting in SETTINGS.items() if setting.scope in WARMER_SCOPES]
    assert list(WarmerConfig.__slots__) == warmer_settings
    assert set(WarmerConfig.__annotations__) == set(warmer_settings)
    assert set(load_config(environ={}).as_dict()) == set(warmer_settings)


def test_the_deploy_hooks_settings_are_checked_by_the_same_table() -> None:
    from lambdawarmer.deploy_hook import HookError, HookSettings

    version = "arn:aws:lambda:us-east-1:123456789012:function:orders:7"
    settings = HookSettings({"WARMER_HOOK_TARGET": version, "WARMER_HOOK_ON_SHORTFALL": "FAIL"})
    assert (str(settings.target), settings.alias, settings.scheduled) == (version, "live", 1)
    assert settings.fail_on_shortfall
    with pytest.raises(HookError, match="WARMER_HOOK_TARGET is not set: expected the new version's ARN"):
        HookSettings({})
    bad = {"WARMER_HOOK_TARGET": version, "WARMER_HOOK_ALIAS": "123", "WARMER_HOOK_CONCURRENCY": "1001"}
    with pytest.raises(HookError) as raised:
        HookSettings(bad)
    assert "WARMER_HOOK_ALIAS='123': expected an alias name" in str(raised.value)
    assert "WARMER_HOOK_CONCURRENCY='1001': expected a whole number from 1 to 1000" in str(raised.value)
    # a warmer's own configuration never reads the hook's scope
    assert "hook_alias" not in load_config(environ={"WARMER_HOOK_ALIAS": "123"}).as_dict()


@pytest.mark.parametrize(
    "text",
    ["acme", "acme=0", "acme=x", "=3", "a b=2", "acme=1001", ","],
)
def test_tenants_that_cannot_be_warmed_are_named_with_what_is_allowed(text: str) -> None:
    with pytest.raises(WarmerConfigError, match=r"WARMER_TENANTS.*acme=3,globex=2"):
        load_config(environ={"WARMER_TENANTS": text})
