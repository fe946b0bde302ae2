"""The handler the layer's exec wrapper points the runtime at: the user's handler, warmed.

The wrapper moves the function's handler setting (``_HANDLER``) to ``LAMBDAWARMER_HANDLER`` and
points ``_HANDLER`` at this module's ``handler``, under the layer's private package name (so a
``lambdawarmer`` in the function's own code cannot shadow it). At import (the init phase) this
module checks the ``WARMER_*`` settings, marks the process as warmed by the layer (a
``@lambdawarmer.warmer`` inside then steps aside: one warmer per invocation, the outermost), loads
the user's handler with the runtime's own rules and errors, and wraps it.
"""

from __future__ import annotations

import os
import sys

from .config import load_config
from .instance import mark_layer_warmer
from .layer_paths import EXEC_WRAPPER_VARIABLE, HANDLER_VARIABLE, WRAPPER_PATH
from .loader import MALFORMED_HANDLER_NAME, load_handler, runtime_fault
from .warmup import Warmer

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _warmed_user_handler() -> Callable[..., Any]:
    config = load_config()
    if HANDLER_VARIABLE not in os.environ:
        raise runtime_fault(
            MALFORMED_HANDLER_NAME,
            f"{HANDLER_VARIABLE} is not set: {__name__}.handler runs the handler named there; set "
            f"{EXEC_WRAPPER_VARIABLE}={WRAPPER_PATH} (it sets it), or set it to your handler",
        )
    mark_layer_warmer()
    engine = Warmer(config)
    name = os.environ[HANDLER_VARIABLE]
    user_handler = load_handler(name)
    if sys.modules.get("lambdawarmer", sys.modules[__package__]) is not sys.modules[__package__]:
        # Another `lambdawarmer` was imported (lambda-warmer-py?): only then is the check worth its import.
        from .other_warmers import warn_if_lambda_warmer_py

        warn_if_lambda_warmer_py(name, user_handler)
    return engine.wrap(user_handler)


handler = _warmed_user_handler()
