"""What a ping answers: the report (with, for the instance pinged, its origination), read back from JSON."""

from __future__ import annotations

import json

from ..instance import ON_DEMAND, PROVISIONED
from ..logs import bounded
from .rounds import AutoChoice, FanOutReport, TenantReport, count_field, number_field, text_field
from .subtrees import Subtree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class NotAReport(ValueError):
    """An answer that is not a lambdawarmer report (the message says what it is instead)."""


class PingFailedInside(NotAReport):
    """lambdawarmer's answer when the ping failed inside it (:func:`failure_answer`); the message says why."""


class FunctionFailed(NotAReport):
    """The invocation failed (Lambda's ``X-Amz-Function-Error``): the message is the error's type and
    message as the function answered them."""


class Origination:
    """What the instance that received a scheduled ping adds to its report: how N was chosen (from
    the event, or ``auto``) and, when N > 1, the fan-out; on a function that isolates tenants, each
    tenant's share instead (``tenants``), and why tenants the ping named were not warmed
    (``tenants_ignored``)."""

    __slots__ = ("auto", "concurrency", "fan_out", "source", "tenants", "tenants_ignored")

    def __init__(
        self,
        concurrency: int,
        source: str,
        auto: AutoChoice | None,
        fan_out: FanOutReport | None,
        tenants: dict[str, TenantReport] | None = None,
        *,
        tenants_ignored: str | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.source = source
        self.auto = auto
        self.fan_out = fan_out
        self.tenants = tenants
        self.tenants_ignored = tenants_ignored


class Report:
    """The answer to a ping: which instance answered, whether it was cold, how Lambda started it
    (``initialization``: on-demand, provisioned-concurrency, snap-start), and for the instance that
    received a scheduled ping, its :class:`Origination`. ``held_at``: when an invoked instance
    started holding (epoch ms, its clock). ``fan_out_skipped``: why it neither fanned out nor held.
    ``subtree``: a relay's of a tree round (what the invokes it sent warmed)."""

    __slots__ = (
        "cold",
        "concurrency",
        "correlation_id",
        "fan_out_skipped",
        "function",
        "held_at",
        "index",
        "initialization",
        "instance_id",
        "origination",
        "source",
        "subtree",
    )

    def __init__(
        self,
        *,
        function: str,
        instance_id: str,
        cold: bool,
        index: int,
        concurrency: int,
        correlation_id: str,
        source: str,
        initialization: str = "on-demand",
        held_at: int | None = None,
        origination: Origination | None = None,
        fan_out_skipped: str | None = None,
        subtree: Subtree | None = None,
    ) -> None:
        self.function = function
        self.instance_id = instance_id
        self.cold = cold
        self.index = index
        self.concurrency = concurrency
        self.correlation_id = correlation_id
        self.source = source
        self.initialization = initialization
        self.held_at = held_at
        self.origination = origination
        self.fan_out_skipped = fan_out_skipped
        self.subtree = subtree

    @property
    def fan_out(self) -> FanOutReport | None:
        return None if self.origination is None else self.origination.fan_out

    @property
    def tenants(self) -> dict[str, TenantReport] | None:
        return None if self.origination is None else self.origination.tenants

    @property
    def instances_warmed(self) -> int:
        """The distinct instances the ping warmed, this one included (every tenant's)."""
        if self.tenants:
            return sum(tenant.instances_warmed for tenant in self.tenants.values())
        fan_out = self.fan_out
        return 1 if fan_out is None else fan_out.instances_warmed

    @property
    def instances_cold(self) -> int:
        """How many of them the ping started cold."""
        if self.tenants:
            return sum(tenant.instances_cold for tenant in self.tenants.values())
        fan_out = self.fan_out
        return int(self.cold) if fan_out is None else fan_out.instances_cold

    @property
    def instances_provisioned(self) -> int:
        """How many of them are Provisioned Concurrency's (warm anyway: pings add nothing there)."""
        fan_out = self.fan_out
        return int(self.initialization == PROVISIONED) if fan_out is None else fan_out.instances_provisioned

    @property
    def invocations_failed(self) -> int:
        if self.tenants:
            return sum(tenant.invocations_failed for tenant in self.tenants.values())
        fan_out = self.fan_out
        return 0 if fan_out is None else len(fan_out.failures)

    @property
    def invocations_sent(self) -> int:
        fan_out = self.fan_out
        return 0 if fan_out is None else fan_out.invocations_sent

    def as_dict(self) -> dict[str, Any]:
        """The report as it goes over the wire (and into the log)."""
        data: dict[str, Any] = {
            "warmed": True,
            "function": self.function,
            "instance_id": self.instance_id,
            "cold": self.cold,
            "index": self.index,
            "concurrency": self.concurrency,
            "correlation_id": self.correlation_id,
            "source": self.source,
            "initialization": self.initialization,
        }
        if self.held_at is not None:
            data["held_at"] = self.held_at
        if self.fan_out_skipped is not None:
            data["fan_out_skipped"] = self.fan_out_skipped
        if self.subtree is not None:
            data["subtree"] = self.subtree.as_dict()
        origination = self.origination
        if origination is not None:
            data["concurrency"] = origination.concurrency
            data["concurrency_source"] = origination.source
            if origination.auto is not None:
                data["auto"] = origination.auto.as_dict()
            if origination.fan_out is not None:
                data.update(origination.fan_out.as_dict())
            if origination.tenants is not None:
                data["tenants"] = {name: tenant.as_dict() for name, tenant in origination.tenants.items()}
                data["instances_warmed"] = self.instances_warmed
                data["instances_cold"] = self.instances_cold
                data["invocations_failed"] = self.invocations_failed
            if origination.tenants_ignored is not None:
                data["tenants_ignored"] = origination.tenants_ignored
        return data

    @classmethod
    def from_dict(cls, data: object) -> Report:
        """The report ``data`` is; raises :class:`NotAReport` saying what it is instead."""
        if not isinstance(data, dict):
            raise NotAReport(f"not a JSON object: {bounded(data, 120)}")
        if data.get("warmed") is False and isinstance(data.get("error"), str):
            raise PingFailedInside(f"lambdawarmer failed inside the function: {data['error']}")
        instance_id = data.get("instance_id")
        if data.get("warmed") is not True or not isinstance(instance_id, str):
            raise NotAReport(f"not a lambdawarmer report: {bounded(data, 120)}")
        concurrency = count_field(data, "concurrency")
        origination = None
        source = text_field(data, "concurrency_source")
        if source is not None:
            auto = data.get("auto")
            tenants = data.get("tenants")
            origination = Origination(
                concurrency,
                source,
                AutoChoice.from_dict(auto, concurrency) if isinstance(auto, dict) else None,
                FanOutReport.from_dict(data),
                {
                    str(name): TenantReport.from_dict(tenant)
                    for name, tenant in tenants.items()
                    if isinstance(tenant, dict)
                }
                if isinstance(tenants, dict)
                else None,
                tenants_ignored=text_field(data, "tenants_ignored"),
            )
        return cls(
            function=text_field(data, "function") or "",
            instance_id=instance_id,
            cold=data.get("cold") is True,
            index=count_field(data, "index"),
            concurrency=concurrency,
            correlation_id=text_field(data, "correlation_id") or "",
            source=text_field(data, "source") or "",
            initialization=text_field(data, "initialization") or ON_DEMAND,
            held_at=number_field(data, "held_at"),
            origination=origination,
            fan_out_skipped=text_field(data, "fan_out_skipped"),
            subtree=Subtree.from_dict(subtree) if isinstance(subtree := data.get("subtree"), dict) else None,
        )


def failure_answer(error: BaseException) -> dict[str, object]:
    """The answer to a ping that failed inside lambdawarmer (the function itself does not fail)."""
    return {"warmed": False, "error": f"{type(error).__name__}: {error}"[:300]}


def report_from_answer(body: bytes, function_error: str | None) -> Report:
    """The report an invoke's answer carries, from its body and Lambda's ``X-Amz-Function-Error``
    (None when the function ran). Raises :class:`FunctionFailed`, :class:`PingFailedInside` or
    :class:`NotAReport` saying what came instead: the one reading of an answer, for the fan-out,
    the deploy hook and the command line."""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    shown = body[:200].decode(errors="replace")
    if function_error:
        detail = answer if isinstance(answer, dict) else {}
        kind, message = detail.get("errorType", function_error), detail.get("errorMessage", shown)
        raise FunctionFailed(f"the function failed: {kind}: {message}")
    if answer is None:
        raise NotAReport(f"not JSON: {shown}")
    return Report.from_dict(answer)
