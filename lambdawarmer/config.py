"""Settings: decorator arguments first, then ``WARMER_*`` environment variables, then defaults.

Every value is validated once, when the warmer is built (at import, in the init phase); a bad
value raises :class:`WarmerConfigError` naming the setting, the value and what is allowed.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_NUMERIC = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
METRICS_MODES = ("emf", "put_metric_data")
MAX_FIELD_NAME_LENGTH = 128
CONCURRENCY_LIMIT = 1000
MIN_TOKEN_LENGTH = 16
MAX_TOKEN_LENGTH = 256
TOKEN_FIELD = "token"
"""The field of a scheduled ping that carries the token: defined here, where the field names are
checked against it; protocol.py sends and reads it."""
MAX_EXTRA_HOLD_MS = 10_000
"""The most a fanned-out instance holds beyond the configured delay, whatever its payload asks."""
INIT_ALLOWANCE_MS = 10_000
"""Lambda's limit on an environment's init phase: a cold fanned-out instance may take this long to start."""


class WarmerConfigError(ValueError):
    """A setting has a value that is not allowed."""


class WarmerConfig:
    """The validated settings of one warmer. Build it with :func:`load_config`."""

    __slots__ = (
        "auto_fallback",
        "auto_headroom",
        "auto_max",
        "auto_min",
        "auto_window",
        "concurrency",
        "delay",
        "exec_wrapper",
        "fix_cold_start_flags",
        "flag",
        "invoke_timeout",
        "log_level",
        "max_concurrency",
        "metrics_mode",
        "metrics_namespace",
        "send_metric",
        "token",
        "top_up",
    )

    flag: str
    concurrency: str
    delay: int
    send_metric: bool
    metrics_mode: str
    metrics_namespace: str
    max_concurrency: int
    invoke_timeout: int | None
    log_level: str | None
    exec_wrapper: str | None
    token: str | None
    top_up: bool
    fix_cold_start_flags: bool
    auto_window: int
    auto_headroom: int
    auto_min: int
    auto_max: int | None
    auto_fallback: int | None

    def __init__(self, values: Mapping[str, object]) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("WarmerConfig is read-only")

    @property
    def read_timeout_ms(self) -> int:
        """How long a fanned-out invoke may wait for its answer: ``invoke_timeout`` when set, else the
        longest hold (the delay plus the send spread, at most :data:`MAX_EXTRA_HOLD_MS`) plus a cold
        instance's init. The round as a whole is also bounded by the function's remaining time."""
        if self.invoke_timeout is not None:
            return self.invoke_timeout
        return self.delay + MAX_EXTRA_HOLD_MS + INIT_ALLOWANCE_MS

    @property
    def auto_fallback_instances(self) -> int:
        """The N ``"concurrency": "auto"`` falls back to without data: ``auto_fallback``, else the floor."""
        return self.auto_min if self.auto_fallback is None else self.auto_fallback

    @property
    def auto_ceiling(self) -> int:
        """The most ``"concurrency": "auto"`` may choose: ``auto_max``, else the cap."""
        return self.max_concurrency if self.auto_max is None else self.auto_max

    def as_dict(self) -> dict[str, object]:
        """The settings as a plain dict."""
        return {name: getattr(self, name) for name in SETTINGS}

    def shown(self, name: str) -> str:
        """Setting ``name`` as it may be printed: its repr, or, for a secret, only its length."""
        value = getattr(self, name)
        return str(mask(value)) if SETTINGS[name].secret and value is not None else repr(value)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name!r}: {self.shown(name)}" for name in SETTINGS)
        return f"WarmerConfig({{{shown}}})"


def mask(value: object) -> str | None:
    """A secret setting as it may be shown: never its value, only that it is set and its length."""
    return None if value is None else f"<hidden, {len(str(value))} characters>"


def _field_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a non-empty event field name")
    if len(value) > MAX_FIELD_NAME_LENGTH:
        raise ValueError(f"an event field name of at most {MAX_FIELD_NAME_LENGTH} characters")
    if _NUMERIC.fullmatch(value.strip()):
        raise ValueError(
            "the name of an event field, not a number (the number of environments to warm goes in "
            "the warm-up event itself)"
        )
    return value


def _whole_number(low: int, high: int, unit: str) -> Callable[[object], int]:
    allowed = (
        f"a whole number of {unit} from {low} to {high}" if unit else f"a whole number from {low} to {high}"
    )

    def parse(value: object) -> int:
        if isinstance(value, bool):
            raise ValueError(allowed)
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,12}\s*", value):
            value = int(value)
        if not isinstance(value, int) or not low <= value <= high:
            raise ValueError(allowed)
        return value

    return parse


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError("true or false (also 1/0, yes/no, on/off)")


def _one_of(choices: tuple[str, ...], normalise: Callable[[str], str]) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if isinstance(value, str) and normalise(value.strip()) in choices:
            return normalise(value.strip())
        raise ValueError("one of " + ", ".join(choices))

    return parse


def _executable_path(value: object) -> str:
    if isinstance(value, str) and value.startswith("/") and value.isprintable() and " " not in value:
        return value
    raise ValueError("the absolute path of an executable, e.g. /opt/otel-instrument")


def _token(value: object) -> str:
    if (
        isinstance(value, str)
        and MIN_TOKEN_LENGTH <= len(value) <= MAX_TOKEN_LENGTH
        and value.isprintable()
        and value.strip() == value
    ):
        return value
    raise ValueError(
        f"a secret of {MIN_TOKEN_LENGTH} to {MAX_TOKEN_LENGTH} printable characters, no spaces at the ends "
        "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
    )


def _namespace(value: object) -> str:
    if isinstance(value, str) and 1 <= len(value) <= 255 and value.isprintable() and value.strip() == value:
        return value
    raise ValueError("a CloudWatch namespace of 1 to 255 printable characters")


class _Setting:
    __slots__ = ("argument", "default", "env", "parse", "secret")

    def __init__(
        self,
        env: str,
        default: object,
        parse: Callable[[object], object],
        *,
        argument: bool = True,
        secret: bool = False,
    ) -> None:
        self.env = env
        self.default = default
        self.parse = parse
        self.argument = argument  # False: a layer setting, read by the exec wrapper, not a decorator argument
        self.secret = secret  # True: never shown, not even in an error


SETTINGS: dict[str, _Setting] = {
    "flag": _Setting("WARMER_FLAG", "warmer", _field_name),
    "concurrency": _Setting("WARMER_CONCURRENCY", "concurrency", _field_name),
    "delay": _Setting("WARMER_DELAY", 75, _whole_number(0, 60_000, "milliseconds")),
    "send_metric": _Setting("WARMER_SEND_METRIC", False, _boolean),
    "metrics_mode": _Setting("WARMER_METRICS_MODE", "emf", _one_of(METRICS_MODES, str.lower)),
    "metrics_namespace": _Setting("WARMER_METRICS_NAMESPACE", "LambdaWarmer", _namespace),
    "max_concurrency": _Setting("WARMER_MAX_CONCURRENCY", 100, _whole_number(1, CONCURRENCY_LIMIT, "")),
    "invoke_timeout": _Setting("WARMER_INVOKE_TIMEOUT", None, _whole_number(100, 900_000, "milliseconds")),
    "log_level": _Setting("WARMER_LOG_LEVEL", None, _one_of(_LOG_LEVELS, str.upper)),
    "exec_wrapper": _Setting("WARMER_EXEC_WRAPPER", None, _executable_path, argument=False),
    "token": _Setting("WARMER_TOKEN", None, _token, secret=True),
    "top_up": _Setting("WARMER_TOP_UP", True, _boolean),
    "fix_cold_start_flags": _Setting("WARMER_FIX_COLD_START_FLAGS", True, _boolean),
    "auto_window": _Setting("WARMER_AUTO_WINDOW", 1440, _whole_number(5, 1440, "minutes")),
    "auto_headroom": _Setting("WARMER_AUTO_HEADROOM", 0, _whole_number(0, 1000, "percent")),
    "auto_min": _Setting("WARMER_AUTO_MIN", 1, _whole_number(1, CONCURRENCY_LIMIT, "")),
    "auto_max": _Setting("WARMER_AUTO_MAX", None, _whole_number(1, CONCURRENCY_LIMIT, "")),
    "auto_fallback": _Setting("WARMER_AUTO_FALLBACK", None, _whole_number(1, CONCURRENCY_LIMIT, "")),
}
"""Every setting: its decorator argument name, environment variable, default and parser. A default of
``None`` means "derived": the invoke timeout from the hold, the log level from the function's."""

ARGUMENTS = tuple(name for name, setting in SETTINGS.items() if setting.argument)
"""The settings the decorator takes as arguments."""


class Resolution:
    """Every setting's value and where it came from, and every error found on the way."""

    __slots__ = ("errors", "shown", "sources", "values")

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.sources: dict[str, str] = {}
        self.shown: dict[str, str] = {}  # each setting given, as the user wrote it: WARMER_DELAY='75'
        self.errors: list[str] = []


def resolve_settings(
    overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
) -> Resolution:
    """Resolve every setting: ``overrides`` (decorator arguments, ``None`` meaning unset), then
    ``environ`` (``os.environ`` by default), then the default; collect every error, not just the first.
    """
    overrides = overrides or {}
    environ = os.environ if environ is None else environ
    resolution = Resolution()
    unknown = sorted(set(overrides) - set(ARGUMENTS))
    if unknown:
        resolution.errors.append(f"unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(ARGUMENTS)}")
    for name, setting in SETTINGS.items():
        if overrides.get(name) is not None:
            raw, source = overrides[name], "argument"
            shown = f"{name}={mask(raw) if setting.secret else repr(raw)} (decorator argument)"
        elif setting.env in environ:
            raw, source = environ[setting.env], setting.env
            shown = f"{setting.env}={mask(raw) if setting.secret else repr(raw)}"
        else:
            resolution.values[name], resolution.sources[name] = setting.default, "default"
            continue
        resolution.shown[name] = shown
        try:
            resolution.values[name], resolution.sources[name] = setting.parse(raw), source
        except ValueError as allowed:
            resolution.errors.append(f"invalid setting {shown}: expected {allowed}")
    _check_combinations(resolution)
    return resolution


def _check_auto_bounds(resolution: Resolution) -> None:
    """The bounds of ``"concurrency": "auto"``: floor <= fallback <= ceiling <= cap."""
    order = ("auto_min", "auto_fallback", "auto_max", "max_concurrency")
    given = [(name, value) for name in order if isinstance(value := resolution.values.get(name), int)]
    for (low_name, low), (high_name, high) in zip(given, given[1:]):
        if low > high:
            resolution.errors.append(
                f"invalid settings: {_shown(resolution, low_name)} is above {_shown(resolution, high_name)}; "
                "auto concurrency needs WARMER_AUTO_MIN <= WARMER_AUTO_FALLBACK <= WARMER_AUTO_MAX <= "
                "WARMER_MAX_CONCURRENCY"
            )


def _shown(resolution: Resolution, name: str) -> str:
    """A setting as the user gave it, or its default."""
    if name in resolution.shown:
        return resolution.shown[name]
    return f"{SETTINGS[name].env}={resolution.values.get(name)} (default)"


def _check_combinations(resolution: Resolution) -> None:
    """Settings each allowed alone that can never work together."""
    values = resolution.values
    flag, concurrency = resolution.values.get("flag"), resolution.values.get("concurrency")
    if flag is not None and flag == concurrency:
        resolution.errors.append(
            f"invalid settings: the flag and concurrency fields are both {flag!r}; "
            "they must name two different event fields"
        )
    if values.get("token") is not None:
        taken = [name for name in ("flag", "concurrency") if values.get(name) == TOKEN_FIELD]
        if taken:
            resolution.errors.append(
                f"invalid settings: {_shown(resolution, taken[0])} names the field a ping carries "
                f"WARMER_TOKEN in ({TOKEN_FIELD!r}); with a token set, choose another field name"
            )
    _check_auto_bounds(resolution)
    timeout, delay = values.get("invoke_timeout"), values.get("delay")
    if isinstance(timeout, int) and isinstance(delay, int) and timeout <= delay:
        resolution.errors.append(
            f"invalid settings: {resolution.shown['invoke_timeout']} is not longer than "
            f"{_shown(resolution, 'delay')}: "
            "every fanned-out instance holds at least the delay before it answers, so every invoke "
            "would time out; raise the invoke timeout above the delay plus a cold instance's init "
            "(Lambda allows 10 s), or leave it unset (default: the hold plus 10 s)"
        )


def load_config(
    overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
) -> WarmerConfig:
    """The validated settings (see :func:`resolve_settings` for the precedence).

    Raises :class:`WarmerConfigError` naming every unknown argument and every value not allowed.
    """
    resolution = resolve_settings(overrides, environ)
    if resolution.errors:
        raise WarmerConfigError("; ".join(resolution.errors))
    return WarmerConfig(resolution.values)
