"""``@lambdawarmer.warmer``: the decorator, with lambda-warmer-py's arguments and defaults."""

from __future__ import annotations

from .config import load_config
from .instance import layer_warms_this_process
from .logs import logger
from .settings import ARGUMENTS, SETTINGS
from .warmup import Warmer

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, overload

    from .config import WarmerConfig

    Handler = TypeVar("Handler", bound=Callable[..., Any])
else:

    def overload(function):  # typing.overload without importing typing (milliseconds of cold start)
        return function


@overload
def warmer(func: Handler) -> Handler: ...


@overload
def warmer(  # noqa: F811 (ruff does not see through the overload shim)
    func: None = None,
    *,
    flag: str | None = None,
    concurrency: str | None = None,
    delay: int | None = None,
    send_metric: bool | None = None,
    metrics_mode: str | None = None,
    metrics_namespace: str | None = None,
    max_concurrency: int | None = None,
    invoke_timeout: int | None = None,
    log_level: str | None = None,
    token: str | None = None,
    tenants: dict[str, int] | str | None = None,
    top_up: bool | None = None,
    fix_cold_start_flags: bool | None = None,
    auto_window: int | None = None,
    auto_headroom: int | None = None,
    auto_min: int | None = None,
    auto_max: int | None = None,
    auto_fallback: int | None = None,
) -> Callable[[Handler], Handler]: ...


def warmer(func: Handler | None = None, **settings: Any) -> Handler | Callable[[Handler], Handler]:  # noqa: F811
    """Answer warm-up pings before ``func`` runs; use as ``@warmer`` or ``@warmer(...)``.

    An argument left at ``None`` comes from its ``WARMER_*`` environment variable, else from its
    default: ``flag='warmer'``, ``concurrency='concurrency'`` (names of event fields), ``delay=75``
    (ms), ``send_metric=False``; and every other setting but ``exec_wrapper`` (the layer's), by its
    name (docs/reference/settings.md has the table; a test holds this signature to it). The
    settings are validated here, at import: a bad or unknown one raises
    :class:`lambdawarmer.WarmerConfigError`.

    Under the lambdawarmer layer the decorator steps aside (the handler comes back as it is): the
    layer already answers pings and records metrics before it, and one warmer acts per invocation.
    """
    if func is not None and not callable(func):
        raise TypeError(f"@warmer takes the handler function or keyword settings only, not {func!r}")
    config = load_config(settings)
    if layer_warms_this_process():
        _explain_stepping_aside(settings, config)
        return func if func is not None else _unchanged
    engine = Warmer(config)
    return engine.wrap if func is None else engine.wrap(func)


def _unchanged(func: Handler) -> Handler:
    return func


def _explain_stepping_aside(arguments: dict[str, Any], mine: WarmerConfig) -> None:
    """Say which of the decorator's arguments the layer's settings overrule, and how to keep them."""
    layer = load_config()
    overruled = [
        f"{name}={mine.shown(name)} (the layer has {layer.shown(name)}; set "
        f"{SETTINGS[name].env} on the function to keep it)"
        for name in ARGUMENTS
        if arguments.get(name) is not None and getattr(mine, name) != getattr(layer, name)
    ]
    if overruled:
        logger.warning(
            "lambdawarmer: @warmer steps aside under the lambdawarmer layer, which warms this function "
            "with its own settings; these arguments are not used: %s",
            "; ".join(overruled),
        )
