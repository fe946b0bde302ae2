"""Which observability libraries a deployed function carries, as far as its configuration tells.

Read from the layers (the vendors' published layer names), the variables each library reads, and a
handler setting that redirects to a vendor's handler. A library bundled in the deployment package
with none of these is not seen: the package itself is not downloaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdawarmer.layer_paths import HANDLER_VARIABLE

from .layers import layer_name

if TYPE_CHECKING:
    from .deployed import Deployed


class Hints:
    """What gives one library away: parts of layer names, variable names or prefixes, handlers."""

    def __init__(
        self, layers: tuple[str, ...], variables: tuple[str, ...], handlers: tuple[str, ...] = ()
    ) -> None:
        self.layers = layers
        self.variables = variables
        self.handlers = handlers


LIBRARIES = {
    "Powertools": Hints(("awslambdapowertoolspython",), ("POWERTOOLS_",)),
    "Datadog": Hints(
        ("datadog-python", "datadog-extension"),
        ("DD_LAMBDA_HANDLER", "DD_API_KEY", "DD_SITE"),
        ("datadog_lambda.handler.handler",),
    ),
    "New Relic": Hints(
        ("newrelicpython", "newrelic-python"), ("NEW_RELIC_",), ("newrelic_lambda_wrapper.handler",)
    ),
    "Lumigo": Hints(("lumigo-python-tracer", "lumigo-tracer"), ("LUMIGO_",)),
    "Epsagon": Hints(("epsagon",), ("EPSAGON_",)),
}
"""The libraries whose cold-start flags the layer sets (lambdawarmer/observability.py)."""


def carried(deployed: Deployed) -> dict[str, str]:
    """Each library the function's configuration shows, with where it showed."""
    variables = deployed.variables
    handlers = {str(deployed.configuration.get("Handler", "")), variables.get(HANDLER_VARIABLE, "")}
    found = {}
    for library, hints in LIBRARIES.items():
        layer = next(
            (arn for arn in deployed.layers if any(part in arn.lower() for part in hints.layers)), None
        )
        variable = next((name for name in sorted(variables) if name.startswith(hints.variables)), None)
        handler = next((name for name in hints.handlers if name in handlers), None)
        if layer:
            found[library] = f"layer {layer_name(layer)}"
        elif handler:
            found[library] = f"handler {handler}"
        elif variable:
            found[library] = f"variable {variable}"
    return found
