"""Faults the Invoke API can be told to inject, for tests of what a caller does when Lambda fails."""

from __future__ import annotations

from collections.abc import Callable


class Fault:
    """Instead of a normal answer: hang ``hang_s`` seconds first, and/or answer an error status."""

    def __init__(
        self, status: int | None = None, error_type: str = "", message: str = "", hang_s: float = 0.0
    ):
        self.status = status
        self.error_type = error_type
        self.message = message
        self.hang_s = hang_s

    @classmethod
    def throttle(cls) -> Fault:
        return cls(429, "TooManyRequestsException", "Rate Exceeded.")

    @classmethod
    def deny(cls) -> Fault:
        return cls(403, "AccessDeniedException", "User is not authorized to perform: lambda:InvokeFunction")

    @classmethod
    def server_error(cls) -> Fault:
        return cls(500, "ServiceException", "An internal error occurred.")

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        return cls(hang_s=seconds)


FaultRule = Callable[[bytes], "Fault | None"]
"""Given a request's payload, the fault to inject, or None to answer normally."""
