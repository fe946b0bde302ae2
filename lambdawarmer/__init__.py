"""Keep AWS Lambda functions warm: answer warm-up pings, fan out to N environments, count cold starts.

Standard library only at import; boto3 is imported when a fan-out or the PutMetricData mode needs it.
"""

from .config import WarmerConfig, WarmerConfigError, load_config
from .decorator import warmer
from .version import __version__

__all__ = ["WarmerConfig", "WarmerConfigError", "__version__", "load_config", "warmer"]
