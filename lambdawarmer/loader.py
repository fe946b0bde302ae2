"""Loading the user's handler by name, with the Lambda Python runtime's own rules and errors.

The errors are awslambdaric's ``FaultException`` with the same types and messages the runtime gives
without the layer, so an init failure reads exactly as it would (and names the user's module, not
ours). Outside a Lambda runtime, where awslambdaric is absent, :class:`HandlerLoadError` carries the
same fields.
"""

from __future__ import annotations

import importlib
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"


class HandlerLoadError(Exception):
    """The user's handler could not be loaded (used where awslambdaric is not installed)."""

    def __init__(self, exception_type: str, msg: str, trace: list[str] | None = None) -> None:
        super().__init__(msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


def runtime_fault(exception_type: str, msg: str, trace: list[str] | None = None) -> Exception:
    """The exception the runtime reports as an init error of type ``exception_type``."""
    try:
        from awslambdaric.lambda_runtime_exception import FaultException
    except ImportError:
        return HandlerLoadError(exception_type, msg, trace)
    return FaultException(exception_type, msg, trace)  # type: ignore[no-any-return]


def load_handler(name: str) -> Callable[..., Any]:
    """The function ``name`` points at: ``module.function``, ``pkg.mod.function`` or ``dir/mod.function``."""
    try:
        module_name, function_name = name.rsplit(".", 1)
    except ValueError as error:
        raise runtime_fault(MALFORMED_HANDLER_NAME, f"Bad handler '{name}': {error}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise runtime_fault(
            BUILT_IN_MODULE_CONFLICT, f"Cannot use built-in module {module_name} as a handler module"
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise runtime_fault(
            IMPORT_MODULE_ERROR, f"Unable to import module '{module_name}': {error}"
        ) from None
    except SyntaxError as error:
        trace = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise runtime_fault(
            USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{module_name}': {error}", trace
        ) from None
    try:
        return getattr(module, function_name)  # type: ignore[no-any-return]
    except AttributeError:
        raise runtime_fault(
            HANDLER_NOT_FOUND, f"Handler '{function_name}' missing on module '{module_name}'"
        ) from None
