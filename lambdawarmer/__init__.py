"""Keep AWS Lambda functions warm: answer warm-up pings, fan out to N environments, count cold starts.

The runtime package: what the layer ships, whole. Standard library only, and never boto3: its own
AWS client (the aws package) is loaded by the first fan-out or auto read, or at init in the
PutMetricData mode.
"""

from .config import WarmerConfig, WarmerConfigError, load_config
from .version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .decorator import warmer

__all__ = ["WarmerConfig", "WarmerConfigError", "__version__", "load_config", "warmer"]


if not TYPE_CHECKING:  # for mypy, `warmer` is the import above: a misspelt name stays an error

    def __getattr__(name: str) -> object:
        """``warmer``, from its module when first used: the layer's handler imports this package and
        never uses the decorator (loading it at init was 0.65 M of the 11.2 M instructions the layer
        added, callgrind, python3.11)."""
        if name == "warmer":
            from .decorator import warmer

            globals()[name] = warmer
            return warmer
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
