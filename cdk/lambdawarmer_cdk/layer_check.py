"""The deploy-time check of the layer's content: a CloudFormation custom resource whose function (this
module's source, inline) reads the layer version's ``CodeSha256`` (GetLayerVersion) and fails the
deploy unless it is the sha256 the user gave, so that what an ARN or an SSM parameter names is attached
only when it is the release's zip. Standard library and boto3 only (the Lambda runtime's)."""

from __future__ import annotations

import base64
import json
import urllib.request
from typing import Any


def handler(event: dict[str, Any], context: Any) -> None:
    """Answer CloudFormation: SUCCESS when the layer's content is the expected one (or on Delete)."""
    status, reason = "SUCCESS", "the layer's content is the expected one"
    properties = event.get("ResourceProperties", {})
    arn, expected = properties.get("LayerArn", ""), str(properties.get("Sha256", "")).lower()
    if event.get("RequestType") != "Delete":
        try:
            import boto3

            layer, _, version = arn.rpartition(":")
            content = boto3.client("lambda").get_layer_version(LayerName=layer, VersionNumber=int(version))[
                "Content"
            ]
            found = base64.b64decode(content["CodeSha256"]).hex()
            if found != expected:
                status = "FAILED"
                reason = f"{arn} holds content of sha256 {found}, not {expected} (layer_sha256): not attached"
        except Exception as error:  # the deploy fails, saying why
            status, reason = "FAILED", f"{arn} could not be checked: {type(error).__name__}: {error}"
    body = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": event.get("PhysicalResourceId") or f"layer-check:{arn}",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {},
    }
    data = json.dumps(body).encode()
    request = urllib.request.Request(event["ResponseURL"], data=data, method="PUT")
    request.add_header("Content-Type", "")
    with urllib.request.urlopen(request, timeout=10):
        pass
