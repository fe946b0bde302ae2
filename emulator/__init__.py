"""A local Lambda emulator for one function: real awslambdaric processes behind the Invoke API.

A development and test tool of this repository; never part of the layer.
"""

from .environment import Environment, Invocation
from .faults import Fault
from .function import FunctionSpec
from .interpreters import RuntimeUnavailable
from .runtimes import available_runtimes, runtime_python
from .service import LambdaEmulator

__all__ = [
    "Environment",
    "Fault",
    "FunctionSpec",
    "Invocation",
    "LambdaEmulator",
    "RuntimeUnavailable",
    "available_runtimes",
    "runtime_python",
]
