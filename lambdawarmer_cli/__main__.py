"""``python -m lambdawarmer_cli``: the ``lambdawarmer`` command."""

import sys

from .main import main

sys.exit(main())
