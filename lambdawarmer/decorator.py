"""``@lambdawarmer.warmer``: the decorator, with lambda-warmer-py's arguments and defaults."""

from __future__ import annotations

from .config import load_config
from .warmup import Warmer

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, overload

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
) -> Callable[[Handler], Handler]: ...


def warmer(func: Handler | None = None, **settings: Any) -> Handler | Callable[[Handler], Handler]:  # noqa: F811
    """Answer warm-up pings before ``func`` runs; use as ``@warmer`` or ``@warmer(...)``.

    An argument left at ``None`` comes from its ``WARMER_*`` environment variable, else from its
    default: ``flag='warmer'``, ``concurrency='concurrency'`` (names of event fields), ``delay=75``
    (ms), ``send_metric=False``; also ``metrics_mode``, ``metrics_namespace``, ``max_concurrency``,
    ``invoke_timeout`` and ``log_level`` (the README has the table). The settings are validated
    here, at import: a bad or unknown one raises :class:`lambdawarmer.WarmerConfigError`.
    """
    if func is not None and not callable(func):
        raise TypeError(f"@warmer takes the handler function or keyword settings only, not {func!r}")
    engine = Warmer(load_config(settings))
    return engine.wrap if func is None else engine.wrap(func)
