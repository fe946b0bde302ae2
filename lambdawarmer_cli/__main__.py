"""``python -m lambdawarmer_cli``: the ``lambdawarmer`` command."""

from .main import console

console()
