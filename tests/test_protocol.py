"""The warm-up protocol through the decorator: what is a ping, what reaches the handler untouched."""

from __future__ import annotations

import json
import logging
import sys
import threading
import traceback
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lambdawarmer
from lambdawarmer import warmer
from lambdawarmer.instance import ENVIRONMENT, ExecutionEnvironment
from lambdawarmer.protocol import FANOUT_KEY, PingFormat, fanout_payload

from .conftest import make_context

NOT_PINGS = [
    [1, 2, 3],
    ["warmer"],
    "warmer",
    "",
    0,
    42,
    3.5,
    None,
    True,
    {},
    {"warmer": "true"},
    {"warmer": 1},
    {"warmer": False},
    {"warmer": None},
    {"warmer": {"nested": True}},
    {"Warmer": True},
    {"concurrency": 5},
    {"source": "aws.events", "detail-type": "Scheduled Event"},
    {FANOUT_KEY: True},
    {FANOUT_KEY: "x"},
]


class Recorder:
    """A handler that remembers what it was called with."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.result = object()

    def __call__(self, event: Any, context: Any) -> Any:
        self.calls.append(event)
        return self.result


@pytest.mark.parametrize("event", NOT_PINGS, ids=repr)
def test_anything_but_a_ping_reaches_the_handler_untouched(event: Any) -> None:
    handler = Recorder()
    result = warmer(handler)(event, make_context())
    assert handler.calls == [event]
    assert handler.calls[0] is event
    assert result is handler.result


def test_handler_exception_comes_back_untouched() -> None:
    error = KeyError("missing")

    def failing(event: Any, context: Any) -> None:
        raise error

    with pytest.raises(KeyError) as raised:
        warmer(failing)({"id": 1}, make_context())
    assert raised.value is error
    frames = [frame.name for frame in traceback.extract_tb(raised.value.__traceback__)]
    assert frames[-1] == "failing"


def test_decorator_keeps_name_docstring_and_both_forms_work() -> None:
    def orders_handler(event: Any, context: Any) -> str:
        """Handles orders."""
        return "done"

    for wrapped in (warmer(orders_handler), warmer()(orders_handler), warmer(delay=10)(orders_handler)):
        assert wrapped.__name__ == "orders_handler"
        assert wrapped.__doc__ == "Handles orders."
        assert wrapped.__wrapped__ is orders_handler  # type: ignore[attr-defined]
        assert wrapped({}, make_context()) == "done"


def test_decorator_refuses_a_positional_non_callable() -> None:
    with pytest.raises(TypeError, match="keyword settings only"):
        warmer("warmer")  # type: ignore[call-overload]


def test_ping_does_not_call_the_handler_and_returns_the_report() -> None:
    handler = Recorder()
    report = warmer(handler)({"warmer": True, "concurrency": 1}, make_context(request_id="abc"))
    assert handler.calls == []
    assert report == {
        "warmed": True,
        "function": "orders",
        "instance_id": ENVIRONMENT.instance_id,
        "cold": True,
        "index": 1,
        "concurrency": 1,
        "correlation_id": "abc",
        "source": "schedule",
        "initialization": "on-demand",
        "concurrency_source": "event",
    }
    json.dumps(report)  # the runtime must be able to serialise it


def test_cold_is_true_once_per_environment_whoever_comes_first() -> None:
    wrapped = warmer(Recorder())
    assert wrapped({"warmer": True}, make_context())["cold"] is True
    assert wrapped({"warmer": True}, make_context())["cold"] is False
    ENVIRONMENT.reset()
    wrapped({"real": 1}, make_context())
    assert wrapped({"warmer": True}, make_context())["cold"] is False


def test_cold_is_claimed_by_exactly_one_of_many_threads() -> None:
    environment = ExecutionEnvironment()
    barrier = threading.Barrier(16)
    results: list[bool] = []

    def claim() -> None:
        barrier.wait()
        results.append(environment.claim_cold())

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 15 + [True]


def test_reset_gives_a_new_identity_and_a_cold_first_invocation() -> None:
    wrapped = warmer(Recorder())
    first = wrapped({"warmer": True}, make_context())
    ENVIRONMENT.reset()
    second = wrapped({"warmer": True}, make_context())
    assert second["instance_id"] != first["instance_id"]
    assert second["cold"] is True


def test_snapstart_registers_reset_after_restore(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """With SnapStart, lambdawarmer registers ENVIRONMENT.reset with snapshot_restore_py."""
    (tmp_path / "snapshot_restore_py.py").write_text(
        "hooks = []\ndef register_after_restore(func, *args, **kwargs):\n    hooks.append(func)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    from lambdawarmer import instance

    instance._register_snapstart_hook()
    hooks = sys.modules["snapshot_restore_py"].hooks
    assert hooks == [instance.ENVIRONMENT.reset]
    before = instance.ENVIRONMENT.instance_id
    hooks[0]()
    assert instance.ENVIRONMENT.instance_id != before
    assert instance.ENVIRONMENT.claim_cold() is True
    monkeypatch.delitem(sys.modules, "snapshot_restore_py")


@pytest.mark.parametrize(
    "event",
    [
        {
            "warmer": True,
            "__WARMER_INVOCATION__": 2,
            "__WARMER_CONCURRENCY__": 3,
            "__WARMER_CORRELATIONID__": "js",
        },
        {
            "warmer": True,
            "__WARMER_INVOCATION__": 2,
            "__WARMER_CONCURRENCY__": 3,
            "__WARMER_CORRELATION_ID__": "js",
        },
    ],
    ids=["lambda-warmer-js", "lambda-warmer-py"],
)
def test_other_warmers_fanned_out_payloads_are_answered_without_fanning_out(event: dict[str, Any]) -> None:
    handler = Recorder()
    report = warmer(delay=0)(handler)(dict(event, concurrency=50), make_context())
    assert handler.calls == []
    assert (report["source"], report["index"], report["concurrency"], report["correlation_id"]) == (
        "lambda-warmer",
        2,
        3,
        "js",
    )
    assert "invocations_sent" not in report


def test_serverless_plugin_warmup_ping_is_answered() -> None:
    handler = Recorder()
    report = warmer(delay=0)(handler)({"source": "serverless-plugin-warmup"}, make_context())
    assert handler.calls == []
    assert report["source"] == "serverless-plugin-warmup"
    assert "invocations_sent" not in report


@pytest.mark.parametrize("value", [0, -3, "5", 2.5, True, None, [3], {"n": 3}])
def test_invalid_concurrency_counts_as_one_with_a_warning(
    value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    report = warmer(Recorder())({"warmer": True, "concurrency": value}, make_context())
    assert report["concurrency"] == 1
    assert "invocations_sent" not in report
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "is not a positive whole number nor 'auto'; warming 1 instance" in message for message in warnings
    )


def test_custom_field_names_are_used() -> None:
    handler = Recorder()
    wrapped = warmer(flag="am_i_a_warmer", concurrency="how_many_lambdas")(handler)
    assert wrapped({"am_i_a_warmer": True, "how_many_lambdas": 1}, make_context())["warmed"] is True
    wrapped({"warmer": True}, make_context())
    assert handler.calls == [{"warmer": True}]


def test_fanned_out_payload_shape() -> None:
    assert json.loads(fanout_payload(3, 7, "corr", 140)) == {
        FANOUT_KEY: {"index": 3, "total": 7, "correlation_id": "corr", "hold_ms": 140}
    }


RESERVED = [
    FANOUT_KEY,
    "__WARMER_INVOCATION__",
    "__WARMER_CONCURRENCY__",
    "__WARMER_CORRELATIONID__",
    "source",
]


@pytest.mark.parametrize("reserved", RESERVED)
@pytest.mark.parametrize("role", ["flag", "concurrency"])
def test_colliding_field_names_still_fan_out_once_and_payloads_never_again(role: str, reserved: str) -> None:
    flag, concurrency = (reserved, "concurrency") if role == "flag" else ("warmer", reserved)
    detector = PingFormat(flag, concurrency, 100)
    scheduled = detector.detect({flag: True, concurrency: 4})
    assert scheduled is not None
    assert scheduled.fans_out
    assert scheduled.total == 4
    fanned_out = detector.detect(json.loads(fanout_payload(2, 4, "c", 75)))
    assert fanned_out is not None
    assert not fanned_out.fans_out
    assert (fanned_out.kind, fanned_out.index, fanned_out.total) == ("fanout", 2, 4)


def test_crafted_fanned_out_payloads_never_fan_out() -> None:
    detector = PingFormat("warmer", "concurrency", 100)
    crafted = [
        {FANOUT_KEY: {"index": 1, "total": 10**9}, "warmer": True, "concurrency": 50},
        {FANOUT_KEY: {}, "warmer": True, "concurrency": 50},
        {FANOUT_KEY: {"index": "1", "total": [1]}},
        {"warmer": True, "concurrency": 50, "__WARMER_INVOCATION__": 1},
        {"warmer": True, "concurrency": 50, "__WARMER_INVOCATION__": None},
    ]
    for event in crafted:
        ping = detector.detect(event)
        assert ping is not None
        assert not ping.fans_out, event
        assert 0 <= ping.total <= 1000


def test_event_values_in_logs_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    huge = "x" * 100_000
    wrapped = warmer(Recorder())
    wrapped({"warmer": True, "concurrency": huge}, make_context())
    wrapped({FANOUT_KEY: {"index": 2, "total": 3, "correlation_id": huge}}, make_context())
    assert caplog.records
    assert all(len(record.getMessage()) < 1000 for record in caplog.records)


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def ping_log_lines(root_level: int, **settings: Any) -> list[logging.LogRecord]:
    """The lambdawarmer records of a real event and a fanned-out ping, the root logger at ``root_level``."""
    root, collected = logging.getLogger(), ListHandler()
    level = root.level
    root.setLevel(root_level)
    root.addHandler(collected)
    try:
        wrapped = warmer(delay=0, **settings)(Recorder())
        wrapped({"real": 1}, make_context())
        wrapped({FANOUT_KEY: {"index": 2, "total": 3, "correlation_id": "c"}}, make_context(request_id="r2"))
    finally:
        root.removeHandler(collected)
        root.setLevel(level)
    return [record for record in collected.records if record.name == "lambdawarmer"]


def test_the_ping_line_follows_the_functions_own_level_by_default() -> None:
    """Nothing set: the logger follows the root logger (WARNING in the runtime's Text format)."""
    assert ping_log_lines(logging.WARNING) == []
    assert len(ping_log_lines(logging.INFO)) == 1


def test_lambdas_log_level_is_the_functions_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "WARN")
    assert ping_log_lines(logging.DEBUG) == []


def test_the_level_is_set_once_per_process(caplog: pytest.LogCaptureFixture) -> None:
    warmer(log_level="DEBUG")(Recorder())
    warmer(log_level="ERROR")(Recorder())
    assert logging.getLogger("lambdawarmer").level == logging.DEBUG
    assert "log level ERROR ignored" in caplog.text


def test_one_json_log_line_per_ping_at_info() -> None:
    """WARMER_LOG_LEVEL=INFO shows the line even where the runtime leaves the root logger at WARNING."""
    root, collected = logging.getLogger(), ListHandler()
    level = root.level
    root.setLevel(logging.WARNING)
    root.addHandler(collected)
    try:
        wrapped = warmer(delay=0, log_level="INFO")(Recorder())
        wrapped({"real": 1}, make_context())
        wrapped({FANOUT_KEY: {"index": 2, "total": 3, "correlation_id": "c"}}, make_context(request_id="r2"))
    finally:
        root.removeHandler(collected)
        root.setLevel(level)
    lines = [json.loads(r.getMessage()) for r in collected.records if r.name == "lambdawarmer"]
    assert len(lines) == 1
    line = lines[0]
    assert line["action"] == "warmer"
    assert (line["function"], line["instance_id"], line["correlation_id"]) == (
        "orders",
        ENVIRONMENT.instance_id,
        "c",
    )
    assert (line["index"], line["concurrency"], line["cold"]) == (2, 3, False)
    assert line["last_accessed"].endswith("Z")
    assert 0 <= line["seconds_since_last_request"] < 5
    assert line["lambdawarmer"] == lambdawarmer.__version__


def test_log_level_setting_quiets_the_ping_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    warmer(log_level="WARNING", delay=0)(Recorder())({"warmer": True}, make_context())
    assert not [r for r in caplog.records if r.name == "lambdawarmer"]
    assert ping_log_lines(logging.DEBUG) == []


def test_receivers_hold_for_the_delay_and_the_originator_does_not() -> None:
    import time

    wrapped = warmer(delay=1000)(Recorder())
    started = time.monotonic()
    wrapped({FANOUT_KEY: {"index": 2, "total": 2, "correlation_id": "c"}}, make_context())
    held = time.monotonic() - started
    started = time.monotonic()
    wrapped({"warmer": True, "concurrency": 1}, make_context())
    assert held >= 1.0
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(("hold", "expected_s"), [(300, 0.3), (0, 0.0), (-5, 0.0), ("300", 0.0)])
def test_receivers_hold_as_long_as_the_originator_asks_within_bounds(hold: Any, expected_s: float) -> None:
    import time

    wrapped = warmer(delay=0)(Recorder())
    started = time.monotonic()
    report = wrapped({FANOUT_KEY: {"index": 2, "total": 2, "hold_ms": hold}}, make_context())
    held = time.monotonic() - started
    assert report["warmed"] is True
    assert expected_s <= held < expected_s + 0.5  # out-of-range holds fall back to the delay (0 here)


def test_a_huge_hold_is_cut_to_the_remaining_time() -> None:
    import time

    wrapped = warmer(delay=0)(Recorder())
    started = time.monotonic()
    payload = {FANOUT_KEY: {"index": 2, "total": 2, "hold_ms": 10**9}}
    assert wrapped(payload, make_context(remaining_ms=1500))["warmed"] is True
    # held 1500 ms less the 500 ms margin, answered before the function's deadline however busy the machine
    assert 0.9 <= time.monotonic() - started < 1.5


def test_hold_never_outlasts_the_functions_remaining_time() -> None:
    import time

    wrapped = warmer(delay=60_000)(Recorder())
    started = time.monotonic()
    wrapped({FANOUT_KEY: {"index": 2, "total": 2, "correlation_id": "c"}}, make_context(remaining_ms=700))
    assert time.monotonic() - started < 0.7


@settings(max_examples=300, deadline=None)
@given(
    event=st.dictionaries(
        st.text(max_size=12),
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=30)
        | st.dictionaries(st.text(), st.integers()),
        max_size=6,
    ),
    flag=st.sampled_from(["warmer", "am_i_a_warmer"]),
)
def test_an_event_without_the_trigger_fields_is_never_a_ping(event: dict[str, Any], flag: str) -> None:
    """The wrapper skips detect for such events: detect must agree that none of them is a ping."""
    detector = PingFormat(flag, "concurrency", 100)
    for field in detector.trigger_fields:
        event.pop(field, None)
    assert detector.detect(event) is None


# -- the wire format: one builder and one reader each way ------------------------------------------

FIELD_NAMES = st.from_regex(r"[a-z_]{1,20}", fullmatch=True).filter(
    lambda name: name not in ("source", "token")
)


@settings(max_examples=200, deadline=None)
@given(
    flag=FIELD_NAMES,
    field=FIELD_NAMES,
    concurrency=st.one_of(st.integers(1, 1000), st.just("auto")),
    token=st.one_of(st.none(), st.text(min_size=16, max_size=40).filter(lambda t: t.isprintable())),
)
def test_the_scheduled_ping_built_for_any_settings_is_the_ping_they_detect(
    flag: str, field: str, concurrency: int | str, token: str | None
) -> None:
    if flag == field:
        return
    pings = PingFormat(flag, field, 1000, token)
    ping = pings.detect(pings.scheduled_ping(concurrency))
    assert ping is not None
    assert (ping.kind, ping.auto, ping.total) == (
        "schedule",
        concurrency == "auto",
        0 if concurrency == "auto" else concurrency,
    )
    # ... and the default ping is not theirs (unless their fields are the defaults)
    if flag != "warmer":
        assert pings.explain({"warmer": True, "concurrency": 3}) == (None, pings.explain({})[1])


def test_explain_says_why_without_logging(caplog: pytest.LogCaptureFixture) -> None:
    pings = PingFormat("am_i_a_warmer", "how_many_lambdas", 100, "t" * 20)
    ping, refused = pings.explain({"am_i_a_warmer": True, "how_many_lambdas": 4})
    assert ping is not None
    assert ping.total == 4
    assert refused is not None
    assert "without the right 'token' field" in refused
    ping, refused = pings.explain(pings.scheduled_ping(4))
    assert (ping is not None and ping.total, refused) == (4, None)
    assert pings.explain(["not", "an", "object"]) == (None, pings.explain({})[1])
    assert [r for r in caplog.records if r.name == "lambdawarmer"] == []


def test_a_report_reads_back_as_it_was_sent(invoke_api: Any) -> None:
    """The originator's report (rounds, failures, auto) through as_dict and from_dict, unchanged."""
    from lambdawarmer.protocol import Report

    from .test_fanout import distinct_instances

    invoke_api(distinct_instances)
    sent = warmer(Recorder())({"warmer": True, "concurrency": 4}, make_context())
    report = Report.from_dict(json.loads(json.dumps(sent)))
    assert report.as_dict() == sent
    assert (report.instances_warmed, report.fan_out and len(report.fan_out.rounds)) == (4, 1)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (None, "not a JSON object"),
        ({"plain": True}, "not a lambdawarmer report"),
        ({"warmed": True}, "not a lambdawarmer report"),
        ({"warmed": False, "error": "RuntimeError: boom"}, "failed inside the function: RuntimeError: boom"),
    ],
)
def test_what_is_not_a_report_is_named(answer: object, says: str) -> None:
    from lambdawarmer.protocol import NotAReport, Report

    with pytest.raises(NotAReport, match=says):
        Report.from_dict(answer)


# -- observability libraries' flags (the real packages: tests/test_observability.py) ---------------


def test_marking_warm_never_imports_and_only_flips_a_cold_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in modules of the same names: a cold flag is flipped, a warm or missing one left alone."""
    import types

    from lambdawarmer.observability import mark_warm

    logger_module = types.ModuleType("aws_lambda_powertools.logging.logger")
    logger_module.is_cold_start = True  # type: ignore[attr-defined]
    tracer_module = types.ModuleType("aws_lambda_powertools.tracing.tracer")
    tracer_module.is_cold_start = False  # type: ignore[attr-defined]  # already warm: left alone
    renamed = types.ModuleType("epsagon.constants")  # a version without the flag
    for module in (logger_module, tracer_module, renamed):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    before = set(sys.modules)
    assert mark_warm() == ["Powertools Logger"]
    assert set(sys.modules) == before
    assert (logger_module.is_cold_start, tracer_module.is_cold_start) == (False, False)
    assert not hasattr(renamed, "COLD_START")


def test_a_warmed_environments_first_request_is_warm_and_a_true_cold_start_is_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    told: list[str] = []
    monkeypatch.setattr("lambdawarmer.observability.mark_warm", lambda: told.append("told") or ["Lumigo"])
    environment = ExecutionEnvironment()
    engine = lambdawarmer.warmup.Warmer(lambdawarmer.load_config(), environment)
    wrapped = engine.wrap(lambda event, context: "done")
    wrapped({"warmer": True}, make_context())
    assert wrapped({}, make_context()) == "done"
    assert wrapped({}, make_context()) == "done"
    assert told == ["told"]  # the first request after the ping only
    cold_one = lambdawarmer.warmup.Warmer(lambdawarmer.load_config(), ExecutionEnvironment()).wrap(
        lambda event, context: "done"
    )
    cold_one({}, make_context())
    assert told == ["told"]  # a true cold start: nothing told
    off = lambdawarmer.warmup.Warmer(
        lambdawarmer.load_config({"fix_cold_start_flags": False}), ExecutionEnvironment()
    ).wrap(lambda event, context: "done")
    off({"warmer": True}, make_context())
    off({}, make_context())
    assert told == ["told"]


def test_a_round_record_is_written_and_read_by_its_one_list_of_fields() -> None:
    from lambdawarmer.protocol import ROUND_FIELDS, RoundReport

    values = {
        "hold_ms": 212,
        "send_spread_ms": 137.5,
        "arrival_spread_ms": 90,
        "warm_arrival_spread_ms": None,
        "tls_handshakes": 9,
        "invocations_sent": 9,
        "invocations_failed": 1,
        "invocations_not_sent": 0,
        "not_sent_reason": None,
        "instances_warmed": 9,
        "tree": None,
    }
    assert tuple(values) == ROUND_FIELDS
    assert RoundReport.from_dict(RoundReport(**values).as_dict()).as_dict() == values
    # read back from hostile JSON: each field by its type, never a wrong one
    read = RoundReport.from_dict({"hold_ms": "212", "send_spread_ms": True, "not_sent_reason": 5})
    assert (read.hold_ms, read.send_spread_ms, read.not_sent_reason) == (0, None, None)
    with pytest.raises(TypeError, match=r"missing \['arrival_spread_ms'"):
        RoundReport(**{name: value for name, value in values.items() if name != "arrival_spread_ms"})
    with pytest.raises(TypeError, match=r"unknown \['held_ms'\]"):
        RoundReport(**values, held_ms=1)
