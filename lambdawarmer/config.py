"""Settings: decorator arguments first, then ``WARMER_*`` environment variables, then defaults.

Every value is validated once, when the warmer is built (at import, in the init phase); a bad
value raises :class:`WarmerConfigError` naming the setting, the value and what is allowed.
"""

from __future__ import annotations

import os

from .settings import ARGUMENTS, HOOK, SETTINGS, TOKEN_FIELD, WARMER_SCOPES, Setting, mask
from .timing import INIT_ALLOWANCE_MS, longest_hold_ms

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


class WarmerConfigError(ValueError):
    """A setting has a value that is not allowed."""


class WarmerConfig:
    """The validated settings of one warmer. Build it with :func:`load_config`."""

    __slots__ = tuple(name for name, setting in SETTINGS.items() if setting.scope != HOOK)
    # Each slot's type, for type checkers; a test holds these names to the table's.

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
    tenants: dict[str, int] | None
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
        longest hold (the delay plus 10 s: :func:`~.timing.longest_hold_ms`) plus a cold
        instance's init. The round as a whole is also bounded by the function's remaining time."""
        if self.invoke_timeout is not None:
            return self.invoke_timeout
        return longest_hold_ms(self.delay) + INIT_ALLOWANCE_MS

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
        return {name: getattr(self, name) for name in self.__slots__}

    def shown(self, name: str) -> str:
        """Setting ``name`` as it may be printed: its repr, or, for a secret, only its length."""
        value = getattr(self, name)
        return str(mask(value)) if SETTINGS[name].secret and value is not None else repr(value)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name!r}: {self.shown(name)}" for name in self.__slots__)
        return f"WarmerConfig({{{shown}}})"


class Resolution:
    """Every setting's value and where it came from, and every error found on the way."""

    __slots__ = ("errors", "shown", "sources", "values")

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.sources: dict[str, str] = {}
        self.shown: dict[str, str] = {}  # each setting given, as the user wrote it: WARMER_DELAY='75'
        self.errors: list[str] = []


def resolve_settings(
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
    scopes: tuple[str, ...] = WARMER_SCOPES,
) -> Resolution:
    """Resolve every setting of ``scopes``: ``overrides`` (decorator arguments, ``None`` meaning unset),
    then ``environ`` (``os.environ`` by default), then the default; collect every error, not just the
    first."""
    overrides = overrides or {}
    environ = os.environ if environ is None else environ
    resolution = Resolution()
    unknown = sorted(set(overrides) - set(ARGUMENTS))
    if unknown:
        resolution.errors.append(f"unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(ARGUMENTS)}")
    for name, setting in SETTINGS.items():
        if setting.scope not in scopes:
            continue
        if overrides.get(name) is not None:
            raw, source = overrides[name], "argument"
            shown = f"{name}={mask(raw) if setting.secret else repr(raw)} (decorator argument)"
        elif setting.env in environ:
            raw, source = environ[setting.env], setting.env
            shown = f"{setting.env}={mask(raw) if setting.secret else repr(raw)}"
        else:
            resolution.values[name], resolution.sources[name] = setting.default, "default"
            if setting.required:
                resolution.errors.append(f"{setting.env} is not set: expected {_allowed(setting)}")
            continue
        resolution.shown[name] = shown
        try:
            resolution.values[name], resolution.sources[name] = setting.parse(raw), source
        except ValueError as allowed:
            resolution.errors.append(f"invalid setting {shown}: expected {allowed}")
    _check_combinations(resolution)
    return resolution


def _allowed(setting: Setting) -> str:
    """What ``setting`` allows, in its check's words."""
    try:
        setting.parse(None)
    except ValueError as allowed:
        return str(allowed)
    return "a value"


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
