"""CloudFormation templates as the tests read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def cloudformation(path: Path) -> dict[str, Any]:
    """The template at ``path`` as plain JSON data, its short intrinsic functions (``!Sub``...) in
    their long form, as cfn-lint reads them. cfn-lint is loaded here, on first use: imported by the
    test modules, it took 0.66 s of every worker's collection."""
    from cfnlint.decode.cfn_yaml import load

    return json.loads(json.dumps(load(str(path))))  # type: ignore[no-any-return]
