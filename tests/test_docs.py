"""The documentation says what is so: it builds strict, its tables follow the code, its samples run,
its transcripts are what the commands print, and the README stays short with links that resolve."""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lambdawarmer.settings import FUNCTION, HOOK, LAYER, SETTINGS
from lambdawarmer_cli import main as cli
from lambdawarmer_cli.commands.status import NEEDS
from lambdawarmer_cli.exit_status import MEANINGS
from scripts.docs_tables import architecture_table, dotted, modules

from .conftest import make_context

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README_MAX_LINES = 150


def page(name: str) -> str:
    return (DOCS / name).read_text()


def table_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row (header and rule rows included)."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| ")
    ]


def test_the_site_builds_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").is_file()


def test_the_architecture_page_lists_every_module_as_its_docstring_says() -> None:
    assert architecture_table() in page("how-it-works/architecture.md"), (
        "docs/how-it-works/architecture.md is out of date: paste in what python scripts/docs_tables.py prints"
    )


def test_the_contributing_map_names_every_module_and_only_tests_that_exist() -> None:
    text = page("contributing.md")
    mapped = text[text.index("## Which tests cover which module") :]
    for module in modules():
        assert f"`{dotted(module)}`" in mapped, f"{dotted(module)} is not in docs/contributing.md's map"
    for named in set(re.findall(r"`(test_\w+\.py)`", mapped)):
        assert (ROOT / "tests" / named).is_file(), named


def test_the_iam_page_names_every_permission_status_may_need() -> None:
    """The command line's paragraph of docs/reference/iam.md, against what status's checks name when
    a read is denied (``status.NEEDS``): ``svc:Action`` or, after the service's first, ``Action``."""
    paragraph = next(
        item for item in page("reference/iam.md").split("\n- ") if item.startswith("What the command line")
    )
    needed = {action.strip() for actions in NEEDS.values() for action in actions.split(",")}
    missing = sorted(
        action
        for action in needed
        if f"`{action}`" not in paragraph
        and not (f"`{action.split(':')[0]}:" in paragraph and f"`{action.split(':')[1]}`" in paragraph)
    )
    assert not missing, f"docs/reference/iam.md does not name what status reads with: {missing}"


def test_the_settings_table_is_the_code_s() -> None:
    rows = {row[1].strip("`"): row for row in table_rows(page("reference/settings.md")) if len(row) >= 3}
    for name, setting in SETTINGS.items():
        row = rows.get(setting.env)
        assert row is not None, f"{setting.env} is not in docs/reference/settings.md"
        default = row[2]
        if setting.required:
            assert default == "required", (setting.env, default)
        elif setting.default is None:
            assert default.startswith("unset"), (setting.env, default)
        else:
            shown = (
                str(setting.default).lower() if isinstance(setting.default, bool) else str(setting.default)
            )
            assert default == f"`{shown}`", (setting.env, default)
        first = {FUNCTION: f"`{name}`", LAYER: "(layer only)", HOOK: "(deploy hook)"}[setting.scope]
        assert row[0] == first, (setting.env, row[0])


def test_the_exit_status_table_is_the_code_s() -> None:
    rows = table_rows(page("reference/cli.md"))
    codes = [int(row[0]) for row in rows if row and row[0].isdigit()]
    assert codes == sorted(MEANINGS), codes


def test_every_report_field_is_documented() -> None:
    """Every key an ``as_dict`` of the protocol writes is named in the report's table."""
    tree = ast.parse((ROOT / "lambdawarmer" / "protocol" / "reports.py").read_text())
    keys = {
        key.value
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef) and function.name == "as_dict"
        for node in ast.walk(function)
        if isinstance(node, ast.Dict)
        for key in node.keys
        if isinstance(key, ast.Constant) and isinstance(key.value, str)
    }
    from lambdawarmer.protocol import ROUND_FIELDS

    text = page("reference/protocol.md")
    missing = sorted(key for key in keys | set(ROUND_FIELDS) if f"`{key}`" not in text)
    assert not missing, f"report fields not in docs/reference/protocol.md: {missing}"


def test_every_python_sample_is_a_file_that_runs() -> None:
    """Each ```python block of the docs is a file in docs/samples/, byte for byte; each runs here."""
    samples = {path.read_text(): path for path in (DOCS / "samples").glob("*.py")}
    for markdown in DOCS.rglob("*.md"):
        for block in re.findall(r"```python\n(.*?)```", markdown.read_text(), re.S):
            assert block in samples, (
                f"a python block of {markdown.relative_to(ROOT)} is not a docs/samples file"
            )
    for path in samples.values():
        spec = importlib.util.spec_from_file_location(f"sample_{path.stem}", path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        report = module.handler({"warmer": True, "concurrency": 1}, make_context())
        assert report["warmed"] is True
        assert module.handler({"order": 1}, make_context()) is None  # the handler's own answer
        assert module.other_handler({"am_i_a_warmer": True}, make_context())["warmed"] is True


def normalised(line: str) -> str:
    """A printed line as a pattern: figures and digests may differ from run to run, the rest may not."""
    pieces = []
    for token in re.split(r"(\b[0-9a-f]{12}\b|\d+(?:\.\d+)?)", line.rstrip()):
        if re.fullmatch(r"[0-9a-f]{12}", token):
            pieces.append("[0-9a-f]{12}")
        elif re.fullmatch(r"\d+(?:\.\d+)?", token):
            pieces.append(r"[\d.]+")
        else:
            pieces.append(re.escape(token))
    return "".join(pieces)


TRANSCRIPTS = sorted(
    path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md") if "```console" in path.read_text()
)
"""The pages with command-line sessions (``console`` blocks): every one is run in the lab."""


def sessions(text: str) -> list[list[tuple[str, list[str]]]]:
    """Each console block as its commands, each with the lines it printed."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        steps: list[tuple[str, list[str]]] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
        found.append(steps)
    return found


def test_the_sessions_shown_are_the_ones_run() -> None:
    assert {"getting-started/try-locally.md", "getting-started/enable.md", "reference/cli.md"} <= set(
        TRANSCRIPTS
    )


@pytest.mark.parametrize("name", TRANSCRIPTS)
def test_the_adoption_transcripts_are_what_the_commands_print(
    name: str, layer_zip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command of the page's sessions, run as written in a fresh lab (from a folder whose
    ``dist/`` holds the layer ``./build.sh`` makes): each exits 0 and prints what the page shows,
    whole: every line, in order, and no other (figures and digests aside)."""
    from layer.lab import example_lab

    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "lambdawarmer-layer.zip").write_bytes(layer_zip.read_bytes())
    monkeypatch.chdir(tmp_path)
    found = sessions(page(name))
    assert found, f"{name} shows no session"
    for steps in found:
        lab, environment = example_lab(layer_zip, ROOT / "example")
        with lab:
            for variable, value in environment.items():
                monkeypatch.setenv(variable, value)
            for command, expected in steps:
                words = command.split()
                assert words[0] == "lambdawarmer", command
                out = io.StringIO()
                with contextlib.redirect_stderr(out):
                    status = cli.main(words[1:], out)
                printed = [seen.rstrip() for seen in out.getvalue().splitlines()]
                assert status == 0, (command, out.getvalue())
                assert len(printed) == len(expected), (command, "printed:", *printed)
                for line, seen in zip(expected, printed):
                    assert re.fullmatch(normalised(line), seen), (command, line, seen)


def test_the_readme_is_short_and_its_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= README_MAX_LINES
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), f"README links to {target}, which is not there"


def nav_pages() -> list[str]:
    """The pages of the site's navigation (mkdocs.yml), in order."""
    return re.findall(r":\s+(\S+\.md)$", (ROOT / "mkdocs.yml").read_text(), re.M)


def test_the_site_holds_every_page_the_readme_names_and_starts_where_it_does() -> None:
    """What the README links to in docs/ is in the site's navigation; its getting-started section
    starts with trying it locally, as the README's first way in does; the troubleshooting page too."""
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"\]\(docs/([^)#]+\.md)", readme))
    pages = nav_pages()
    assert named - {"index.md"} <= set(pages), named - set(pages)
    assert all((DOCS / name).is_file() for name in pages)
    getting_started = [name for name in pages if name.startswith("getting-started/")]
    assert getting_started[0] == "getting-started/try-locally.md", getting_started
    assert "guides/troubleshooting.md" in pages


def test_the_troubleshooting_page_answers_each_problem_with_a_command_that_runs() -> None:
    text = page("guides/troubleshooting.md")
    problems = re.findall(r"^## (.+)$", text, re.M)
    assert problems == [
        "My function still cold-starts",
        "status says the timeout does not fit",
        "ping exits 4",
        "AccessDenied",
        "Warming stopped after a deploy",
    ]
    for section in text.split("\n## ")[1:]:
        commands = re.findall(r"^lambdawarmer (.+)$", section, re.M)
        assert commands, section.splitlines()[0]
        for command in commands:
            cli.parser().parse_args(command.split())  # argparse exits on what it cannot take


def test_the_readme_and_the_home_page_give_the_same_ways_in() -> None:
    readme, home = (ROOT / "README.md").read_text(), page("index.md")
    assert "## Three ways in" in readme
    assert "Three ways in" in home
    assert not re.search(r"(Two|Four|Five) ways in", readme + home)


def test_the_lab_command_refuses_what_it_cannot_run(layer_zip: Path) -> None:
    for argv, says in (
        (["--layer", "README.md"], "not a zip file"),
        (["--layer", str(layer_zip), "--code", "/no/such"], "no such folder"),  # dist/ may not be built
    ):
        result = subprocess.run(
            [sys.executable, "-m", "layer.lab", *argv], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert (result.returncode, says in result.stderr) == (2, True), result.stderr
