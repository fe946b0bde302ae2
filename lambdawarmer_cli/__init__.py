"""The ``lambdawarmer`` command line: ping deployed functions, check settings, adopt warming.

Runs where the user runs it, with boto3 and the usual AWS configuration. It imports the runtime
package (``lambdawarmer``: the settings table, the wire protocol, the same ``auto`` code), never
the other way round, and is not part of the layer.
"""
