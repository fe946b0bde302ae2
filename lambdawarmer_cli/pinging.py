"""Sending a function the scheduled warm-up ping and judging its report: for ``ping`` and ``enable``.

The ping is built and the report read by the wire protocol of the runtime package
(``lambdawarmer.protocol``), the same code the layer answers with. ``enable`` sends its first ping
through :func:`ping_as_scheduled`, the one its schedule will send.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING, Any

from lambdawarmer.layer_paths import EXEC_WRAPPER_VARIABLE, WRAPPER_PATH
from lambdawarmer.protocol import (
    AUTO,
    FunctionFailed,
    NotAReport,
    PingFailedInside,
    PingFormat,
    report_from_answer,
)
from lambdawarmer.settings import CONCURRENCY_LIMIT, SETTINGS, TOKEN_FIELD, mask

from .clients import SETUP_ERRORS, error_code, error_reason, not_reached
from .exit_status import AWS_FAILED, NOT_ALL_WARM, NOT_LAMBDAWARMER, OK

if TYPE_CHECKING:
    from lambdawarmer.function_ref import FunctionRef
    from lambdawarmer.protocol import Report

    from .clients import Clients
    from .deployed import Deployed

DEFAULT_TIMEOUT_S = 120.0


NOT_SENT_HINTS = {
    "AccessDeniedException": "access denied: these credentials may not call lambda:InvokeFunction on it",
    "TooManyRequestsException": "throttled: the function or the account is at its concurrency limit",
}


class PingResult:
    """What one ping gave: the report, or why there is none, and the exit status it means."""

    __slots__ = ("answer", "elapsed_s", "message", "report", "requested", "status", "target")

    def __init__(self, target: FunctionRef, requested: int) -> None:
        self.target = target
        self.requested = requested
        self.answer: object = None
        """The function's answer as it came (``--json`` prints it)."""
        self.report: Report | None = None
        self.message = ""
        self.status = OK
        self.elapsed_s = 0.0

    @property
    def warm(self) -> int:
        return self.report.instances_warmed if self.report else 0

    @property
    def cold(self) -> int:
        return self.report.instances_cold if self.report else 0


def concurrency_argument(text: str) -> int | str:
    """``--concurrency``: N from 1 to the protocol's limit, or ``auto``."""
    if text == AUTO:
        return text
    if not text.isdigit() or not 1 <= int(text) <= CONCURRENCY_LIMIT:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 1 to {CONCURRENCY_LIMIT}, or {AUTO!r}; got {text!r}"
        )
    return int(text)


def ping(
    client: Any,
    target: FunctionRef,
    event: dict[str, object],
    concurrency: int | str,
    tenants: dict[str, int] | None = None,
    *,
    token_chosen: bool = False,
) -> PingResult:
    """Send ``event``, the scheduled ping asking for ``concurrency`` (or ``tenants``, for each of
    them as many: the invoke then names the first), to ``target`` synchronously, and judge the answer
    (read as the fan-out reads its own: :func:`report_from_answer`). ``token_chosen``: the caller
    chose the token (or none), not read from the function: an answer that is no report then points
    at the token first."""
    requested = sum(tenants.values()) if tenants else 0 if concurrency == AUTO else int(concurrency)
    result = PingResult(target, requested)
    call: dict[str, Any] = {"FunctionName": target.function, "Payload": json.dumps(event).encode()}
    if target.qualifier:
        call["Qualifier"] = target.qualifier
    if tenants:
        call["TenantId"] = next(iter(tenants))
    started = time.monotonic()
    try:
        response = client.invoke(**call)
        body = _without_token(response["Payload"].read(), event.get(TOKEN_FIELD))
    except Exception as error:
        result.elapsed_s = time.monotonic() - started
        result.status, result.message = AWS_FAILED, _not_sent(error, target, client.meta.region_name)
        return result
    result.elapsed_s = time.monotonic() - started
    try:
        report = report_from_answer(body, response.get("FunctionError"))
    except (FunctionFailed, PingFailedInside) as error:
        result.status, result.message = NOT_LAMBDAWARMER, str(error)
        return result
    except NotAReport:
        result.status = NOT_LAMBDAWARMER
        result.message = (token_hint(event) if token_chosen else "") + (
            f"the answer is not a lambdawarmer report: is the layer attached with {EXEC_WRAPPER_VARIABLE}="
            f"{WRAPPER_PATH} (or the handler decorated), and do --flag/--concurrency-field match its "
            f"settings? It said: {body[:120].decode(errors='replace')}"
        )
        return result
    result.answer = json.loads(body)
    result.report = report
    if result.requested == 0:
        result.requested = report.concurrency
    if result.warm < result.requested:
        result.status = NOT_ALL_WARM
        result.message = _shortfall(report, result.requested)
    return result


def token_hint(event: dict[str, object]) -> str:
    """The likely cause of an answer that is no report from a function with the layer: a ping
    without the function's token is handed to its handler, as any request is."""
    variable = SETTINGS["token"].env
    said = (
        "the ping carried no token" if not event.get(TOKEN_FIELD) else f"the token sent is not its {variable}"
    )
    return (
        f"its handler got the ping, most likely because {said} (a function with a {variable}, as enable "
        f"sets one, answers only pings carrying it): send the function's token with --token-from-env "
        f"({variable} in this shell) or --token-file FILE. Otherwise, "
    )


def _not_sent(error: BaseException, target: FunctionRef, region: str | None) -> str:
    """Why a ping got no answer: what the call's error means, and the error itself."""
    code = error_code(error)
    if code == "ResourceNotFoundException":
        return not_reached(error, target, region)
    if code in SETUP_ERRORS:
        return f"not sent: {error_reason(error)}"
    return f"{NOT_SENT_HINTS.get(code, 'the ping was not answered')} ({error_reason(error)})"


def _without_token(body: bytes, token: object) -> bytes:
    """The answer with the token sent replaced wherever it appears (a handler that took the ping for
    an event may echo it), so that nothing printed or returned shows it."""
    if not isinstance(token, str) or not token:
        return body
    return body.replace(token.encode(), str(mask(token)).encode())


def ping_as_scheduled(
    clients: Clients, deployed: Deployed, concurrency: int | str, tenants: dict[str, int] | None = None
) -> PingResult:
    """The ping the function's schedule sends (the field names and token of the version its
    qualifier serves; through the first of ``tenants``, when named), sent once now."""
    event = PingFormat.of(deployed.settings(deployed.served_variables)).scheduled_ping(concurrency, tenants)
    return ping(clients.invoke_client(DEFAULT_TIMEOUT_S), deployed.ref, event, concurrency, tenants)


def _shortfall(report: Report, requested: int) -> str:
    if report.fan_out_skipped:
        return report.fan_out_skipped
    if report.concurrency < requested:
        return f"the function capped the ping at {report.concurrency} (its WARMER_MAX_CONCURRENCY)"
    if report.invocations_failed:
        return f"{report.invocations_failed} fanned-out invoke(s) failed"
    return "fewer distinct instances answered than were asked for (some were reused)"


def summary_line(result: PingResult) -> str:
    """One line per function, for pings of several."""
    if result.report is None:
        return f"{result.target}  FAILED  {result.message}"
    verdict = "OK" if result.status == OK else f"NOT ALL WARM ({result.message})"
    return (
        f"{result.target}  {result.warm}/{result.requested} warm  {result.cold} cold  "
        f"{result.report.invocations_failed} failed  {result.elapsed_s:.2f} s  {verdict}"
    )
