"""The handler the layer's exec wrapper points the runtime at: the user's handler, warmed.

The wrapper moves the function's handler setting (``_HANDLER``) to ``LAMBDAWARMER_HANDLER`` and
sets ``_HANDLER=lambdawarmer.handler.handler``. At import (the init phase) this module checks the
``WARMER_*`` settings, loads the user's handler with the runtime's own rules and errors, and wraps it.
"""

from __future__ import annotations

import os

from .config import load_config
from .loader import MALFORMED_HANDLER_NAME, load_handler, runtime_fault
from .warmup import Warmer

HANDLER_ENV = "LAMBDAWARMER_HANDLER"
"""Where the exec wrapper keeps the user's handler name."""

_config = load_config()
if HANDLER_ENV not in os.environ:
    raise runtime_fault(
        MALFORMED_HANDLER_NAME,
        f"{HANDLER_ENV} is not set: lambdawarmer.handler.handler runs the handler named there; set "
        "AWS_LAMBDA_EXEC_WRAPPER=/opt/lambdawarmer-wrapper (it sets it), or set it to your handler",
    )
handler = Warmer(_config).wrap(load_handler(os.environ[HANDLER_ENV]))
