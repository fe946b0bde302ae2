"""Keep AWS Lambda functions warm: answer warm-up pings, fan out to N environments, count cold starts.

Standard library only at import; boto3 is imported when a fan-out or the PutMetricData mode needs it.
"""

__version__ = "1.0.0"

from .config import WarmerConfig, WarmerConfigError, load_config
from .decorator import warmer

__all__ = ["WarmerConfig", "WarmerConfigError", "__version__", "load_config", "warmer"]
