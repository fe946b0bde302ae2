"""Keep AWS Lambda functions warm: answer warm-up pings, fan out to N environments, count cold starts.

The runtime package: what the layer ships, whole. Standard library only, and never boto3: its own
AWS client (the aws package) is loaded by the first fan-out or auto read, or at init in the
PutMetricData mode.
"""

from .config import WarmerConfig, WarmerConfigError, load_config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .decorator import warmer
    from .version import __version__

__all__ = ["WarmerConfig", "WarmerConfigError", "__version__", "load_config", "warmer"]


if not TYPE_CHECKING:  # for mypy, the names are the imports above: a misspelt name stays an error
    _LAZY = {"warmer": "decorator", "__version__": "version"}

    def __getattr__(name: str) -> object:
        """``warmer`` and ``__version__``, each from its module when first used: the layer's handler
        imports this package and needs neither at init (the decorator was 0.65 M of the 11.2 M
        instructions the layer added, callgrind, python3.11; the version module, which only a ping's
        log line reads, 0.35 M of 9.6 M)."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
