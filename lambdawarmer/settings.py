"""Every setting, the one definition: its name, variable, default, check and scope, and the checks.

A check takes the value as given (a decorator argument, or a variable's text) and returns it parsed,
or raises ``ValueError`` saying what is allowed. config.py resolves them; the decorator's arguments,
``lambdawarmer config``, the deploy hook, the docs' table and the command line's defaults read this."""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .function_ref import FunctionRef


# Patterns as text, not compiled at import: re compiles one when it is first used (and caches it).
# Compiling these three at import was 1.6 M of the 11.4 M instructions the layer added at init
# (callgrind, python3.11), for settings most functions never set.
_NUMERIC = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_ALIAS = r"[A-Za-z0-9_-]{1,128}"
METRICS_MODES = ("emf", "put_metric_data")
SHORTFALL_MODES = ("succeed", "fail")
"""What the deploy hook reports when fewer than N are warm: ``Succeeded`` (logged), or ``Failed``."""
MAX_FIELD_NAME_LENGTH = 128
CONCURRENCY_LIMIT = 1000
MIN_TOKEN_LENGTH = 16
MAX_TOKEN_LENGTH = 256
TOKEN_FIELD = "token"
"""The field of a scheduled ping that carries the token: defined here, where the field names are
checked against it; protocol.py sends and reads it."""


_TENANT_ID = r"[^\s,=]{1,256}"
TENANTS_FIELD = "tenants"
"""The field of a scheduled ping that names the tenants to warm and how many each."""


def parse_tenants(value: object) -> dict[str, int]:
    """Tenants and how many environments each (tenant isolation): ``{"acme": 3}`` or the variable's
    ``acme=3,globex=2``; raises ``ValueError`` saying what is allowed."""
    allowed = (
        "tenants and how many environments each: acme=3,globex=2 (a tenant id of 1 to 256 characters, "
        f"no spaces, commas or '='; a whole number from 1 to {CONCURRENCY_LIMIT} each)"
    )
    if isinstance(value, str):
        pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
        if not pairs or any(len(pair) != 2 for pair in pairs):
            raise ValueError(allowed)
        value = {tenant.strip(): count.strip() for tenant, count in pairs}
    if not isinstance(value, dict) or not value:
        raise ValueError(allowed)
    tenants = {}
    for tenant, count in value.items():
        number = int(count) if isinstance(count, str) and count.isdigit() else count
        whole = isinstance(number, int) and not isinstance(number, bool)
        if not (
            isinstance(tenant, str)
            and re.fullmatch(_TENANT_ID, tenant)
            and whole
            and 1 <= number <= CONCURRENCY_LIMIT
        ):
            raise ValueError(allowed)
        tenants[tenant] = number
    return tenants


def mask(value: object) -> str | None:
    """A secret setting as it may be shown: never its value, only that it is set and its length."""
    return None if value is None else f"<hidden, {len(str(value))} characters>"


def _field_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a non-empty event field name")
    if len(value) > MAX_FIELD_NAME_LENGTH:
        raise ValueError(f"an event field name of at most {MAX_FIELD_NAME_LENGTH} characters")
    if re.fullmatch(_NUMERIC, value.strip()):
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


def _version_arn(value: object) -> FunctionRef:
    from .function_ref import parse_function_ref  # only the deploy hook has a target: not at a warmer's init

    found = None
    if isinstance(value, str):
        try:
            found = parse_function_ref(value)
        except ValueError:
            found = None
    if found is None or not found.qualifier:
        raise ValueError(
            "the new version's ARN, arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION "
            "(SAM: !Ref MyFunction.Version)"
        )
    return found


def _alias_name(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(_ALIAS, value) and not value.isdigit():
        return value
    raise ValueError("an alias name: 1 to 128 letters, digits, - and _, not all digits")


FUNCTION, LAYER, HOOK = "function", "layer", "hook"
"""Where a setting applies: the warmer (a decorator argument and a variable), the layer's wrapper
only (a variable), or the deploy hook's own function (a variable)."""


class Setting:
    """One setting: its variable, default, check (raising ``ValueError`` naming what is allowed) and scope."""

    __slots__ = ("default", "env", "parse", "required", "scope", "secret")

    def __init__(
        self,
        env: str,
        default: object,
        parse: Callable[[object], object],
        *,
        scope: str = FUNCTION,
        secret: bool = False,
        required: bool = False,
    ) -> None:
        self.env = env
        self.default = default
        self.parse = parse
        self.scope = scope
        self.secret = secret  # True: never shown, not even in an error
        self.required = required  # True: no default; resolving it unset is an error


SETTINGS: dict[str, Setting] = {
    "flag": Setting("WARMER_FLAG", "warmer", _field_name),
    "concurrency": Setting("WARMER_CONCURRENCY", "concurrency", _field_name),
    "delay": Setting("WARMER_DELAY", 75, _whole_number(0, 60_000, "milliseconds")),
    "send_metric": Setting("WARMER_SEND_METRIC", False, _boolean),
    "metrics_mode": Setting("WARMER_METRICS_MODE", "emf", _one_of(METRICS_MODES, str.lower)),
    "metrics_namespace": Setting("WARMER_METRICS_NAMESPACE", "LambdaWarmer", _namespace),
    "max_concurrency": Setting("WARMER_MAX_CONCURRENCY", 100, _whole_number(1, CONCURRENCY_LIMIT, "")),
    "invoke_timeout": Setting("WARMER_INVOKE_TIMEOUT", None, _whole_number(100, 900_000, "milliseconds")),
    "log_level": Setting("WARMER_LOG_LEVEL", None, _one_of(_LOG_LEVELS, str.upper)),
    "exec_wrapper": Setting("WARMER_EXEC_WRAPPER", None, _executable_path, scope=LAYER),
    "token": Setting("WARMER_TOKEN", None, _token, secret=True),
    "tenants": Setting("WARMER_TENANTS", None, parse_tenants),
    "top_up": Setting("WARMER_TOP_UP", True, _boolean),
    "fix_cold_start_flags": Setting("WARMER_FIX_COLD_START_FLAGS", True, _boolean),
    "auto_window": Setting("WARMER_AUTO_WINDOW", 1440, _whole_number(5, 1440, "minutes")),
    "auto_headroom": Setting("WARMER_AUTO_HEADROOM", 0, _whole_number(0, 1000, "percent")),
    "auto_min": Setting("WARMER_AUTO_MIN", 1, _whole_number(1, CONCURRENCY_LIMIT, "")),
    "auto_max": Setting("WARMER_AUTO_MAX", None, _whole_number(1, CONCURRENCY_LIMIT, "")),
    "auto_fallback": Setting("WARMER_AUTO_FALLBACK", None, _whole_number(1, CONCURRENCY_LIMIT, "")),
    "hook_target": Setting("WARMER_HOOK_TARGET", None, _version_arn, scope=HOOK, required=True),
    "hook_alias": Setting("WARMER_HOOK_ALIAS", "live", _alias_name, scope=HOOK),
    "hook_concurrency": Setting(
        "WARMER_HOOK_CONCURRENCY", 1, _whole_number(1, CONCURRENCY_LIMIT, ""), scope=HOOK
    ),
    "hook_on_shortfall": Setting(
        "WARMER_HOOK_ON_SHORTFALL", "succeed", _one_of(SHORTFALL_MODES, str.lower), scope=HOOK
    ),
}
"""Every setting, the one definition: its name (the decorator argument's), environment variable,
default, parser and scope. A default of ``None`` means "derived" (the invoke timeout from the hold,
the log level from the function's) or, for the hook's target, "required"."""


ARGUMENTS = tuple(name for name, setting in SETTINGS.items() if setting.scope == FUNCTION)
"""The settings the decorator takes as arguments."""


WARMER_SCOPES = (FUNCTION, LAYER)
"""The scopes a warmer's configuration (:class:`WarmerConfig`) holds."""
