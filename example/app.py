"""The example function: a stand-in for real work, which says what it handled.

Event options (for trying the layer out): ``sleep_ms`` holds the request that long; ``fail`` raises
a ValueError with that message.
"""

from __future__ import annotations

import time
from typing import Any


def handler(event: Any, context: Any) -> dict[str, Any]:
    print(f"handling request {context.aws_request_id}")
    if isinstance(event, dict):
        if event.get("sleep_ms"):
            time.sleep(event["sleep_ms"] / 1000)
        if event.get("fail"):
            raise ValueError(event["fail"])
    return {"handled": event, "request_id": context.aws_request_id}
