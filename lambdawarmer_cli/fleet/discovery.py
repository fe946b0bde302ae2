"""Which functions a fleet command works on: those a tag or a name pattern selects.

A tag (``KEY`` or ``KEY=VALUE``) is looked up by the Resource Groups Tagging API's GetResources, a
page of up to 100 a call; a name pattern alone, by ListFunctions pages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..exit_status import UsageError

if TYPE_CHECKING:
    from ..clients import Clients

RESOURCES_PER_PAGE = 100


@dataclass(frozen=True)
class Selector:
    """``--tag KEY[=VALUE]`` (a key alone: any value) and ``--name-pattern REGEX`` (searched in the
    name; ``^...$`` for the whole name)."""

    key: str | None
    value: str | None
    pattern: re.Pattern[str] | None

    @classmethod
    def parse(cls, tag: str | None, name_pattern: str | None) -> Selector:
        """Raises :class:`UsageError` for an empty key, a pattern that does not compile, or neither."""
        if tag is None and name_pattern is None:
            raise UsageError("select the fleet with --tag KEY[=VALUE] and/or --name-pattern REGEX")
        key, value = (None, None)
        if tag is not None:
            key, equals, value_text = tag.partition("=")
            value = value_text if equals else None
            if not key:
                raise UsageError(f"--tag {tag!r}: expected KEY or KEY=VALUE")
        try:
            pattern = re.compile(name_pattern) if name_pattern is not None else None
        except re.error as error:
            raise UsageError(f"--name-pattern {name_pattern!r}: not a regular expression ({error})") from None
        return cls(key, value, pattern)

    def named(self, name: str) -> bool:
        return self.pattern is None or self.pattern.search(name) is not None


@dataclass(frozen=True)
class Found:
    """A function discovered: its unqualified ARN, and its tags (None: not read yet)."""

    arn: str
    tags: dict[str, str] | None = field(compare=False)

    @property
    def name(self) -> str:
        return self.arn.split(":")[6]


def discover(clients: Clients, selector: Selector) -> list[Found]:
    """The functions ``selector`` names in the clients' account and region, by name."""
    found: list[Found] = []
    if selector.key is not None:
        tag_filter: dict[str, object] = {"Key": selector.key}
        if selector.value is not None:
            tag_filter["Values"] = [selector.value]
        pages = clients.resourcegroupstaggingapi.get_paginator("get_resources").paginate(
            ResourceTypeFilters=["lambda:function"],
            TagFilters=[tag_filter],
            ResourcesPerPage=RESOURCES_PER_PAGE,
        )
        for page in pages:
            for resource in page["ResourceTagMappingList"]:
                tags = {tag["Key"]: tag["Value"] for tag in resource.get("Tags", [])}
                found.append(Found(resource["ResourceARN"], tags))
    else:
        for page in clients.lambda_.get_paginator("list_functions").paginate():
            found += [Found(function["FunctionArn"], None) for function in page["Functions"]]
    return sorted((f for f in found if selector.named(f.name)), key=lambda f: f.name)
