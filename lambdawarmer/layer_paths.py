"""Where the layer's parts are in a function: the exec wrapper's path and the variables it uses."""

WRAPPER_NAME = "lambdawarmer-wrapper"
"""The exec wrapper script: at the layer's root, so Lambda unpacks it to :data:`WRAPPER_PATH`."""
WRAPPER_PATH = f"/opt/{WRAPPER_NAME}"
EXEC_WRAPPER_VARIABLE = "AWS_LAMBDA_EXEC_WRAPPER"
"""Lambda's variable naming the exec wrapper the runtime starts through."""
PRIVATE_PACKAGE = "_lambdawarmer_layer"
"""The name the layer ships this package under, which no function's own code has: the build writes
it into the wrapper's handler setting (``{PRIVATE_PACKAGE}.handler.handler``)."""
LAYER_METADATA = "lambdawarmer-layer.json"
"""What the zip says of itself, at its root: the layer's name, its version, the runtimes and
architectures it is built for (the build writes it, ``lambdawarmer publish`` reads it)."""
ARCHITECTURES = ("x86_64", "arm64")
"""The layer is Python alone: it runs on both."""
HANDLER_VARIABLE = "LAMBDAWARMER_HANDLER"
"""Where the exec wrapper keeps the user's handler name (``_HANDLER`` then names ours)."""
