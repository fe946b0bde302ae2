"""Keep AWS Lambda functions warm: answer warm-up pings, fan out to N environments, count cold starts.

The runtime package: what the layer ships, whole. Standard library only, and never boto3: its own
AWS client (the aws package) is loaded by the first fan-out or auto read, or at init in the
PutMetricData mode.
"""

from .config import WarmerConfig, WarmerConfigError, load_config
from .decorator import warmer
from .version import __version__

__all__ = ["WarmerConfig", "WarmerConfigError", "__version__", "load_config", "warmer"]
