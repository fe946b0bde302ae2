"""``python -m lambdawarmer``: the command-line tool (see lambdawarmer.cli)."""

import sys

from .cli import main

sys.exit(main())
