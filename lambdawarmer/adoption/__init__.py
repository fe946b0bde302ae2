"""The commands that change or inspect deployed functions: ``enable``, ``disable``, ``status``, ``cost``.

They run where the user runs the ``lambdawarmer`` command, with boto3 and the usual AWS
configuration. Not part of the layer: the layer build takes the package's top-level modules only.
"""
