"""The order the suite runs in (a pytest hook, imported by conftest.py): its longest tests first,
so that the test workers finish together, and those needing what ``./test.sh`` installs in the
background (tests/installs.py) last, so that they find it done instead of waiting for it.

Only the order changes: every test runs, each as it would alone.
"""

from __future__ import annotations

import pytest

LONG_FIRST = (
    "tests/test_terraform.py::test_two_instances_apply",
    "tests/test_terraform.py::test_a_layer_whose_content",
    "tests/test_bench.py::test_quick_run_writes",
    "tests/test_tree.py::test_a_tree_warms_n_distinct",
    "tests/test_bench.py::test_quick_tree_run",
    "tests/test_calibration.py::test_the_model_gives",
    "tests/test_terraform.py::test_the_plan_is_what_enable_makes",
    "tests/test_adoption_safety.py::test_fifty_functions",
    "tests/test_adoption_safety.py::test_any_sequence",
    "tests/test_runtime_matrix.py::test_with_one_python_the_suite_collects",
    "tests/test_fleet.py::test_fleet_enable_warms_the_20_tagged",
    "tests/test_rounds.py::test_jittered_invokes",
    "tests/test_cdk.py::test_the_example_app_synthesises",
    "tests/test_terraform.py::test_bad_input",
    "tests/test_bench.py::test_quick_traces_run",
    "tests/test_token.py::test_without_a_token_a_crafted_long_hold",
    "tests/test_reliability.py::test_sustained_load",
    "tests/test_layer_build.py::test_the_package_metadata",
    "tests/test_publish.py::test_enable_attaches_a_layer_named_by_manifest",
    "tests/test_terraform.py::test_the_module_is_formatted",
)
"""The beginnings of the node ids of the tests that take 10 s or more (a fresh clone's
``--durations``), longest first."""

INSTALLED_FOR = ("tests/test_observability.py::", "sam_cli")
"""Tests (a module, or a fixture they take) that use what tests/installs.py installs."""


def _rank(item: pytest.Item) -> tuple[int, int]:
    for position, start in enumerate(LONG_FIRST):
        if item.nodeid.startswith(start):
            return 0, position
    fixtures = getattr(item, "fixturenames", ())
    if any(item.nodeid.startswith(name) or name in fixtures for name in INSTALLED_FOR):
        return 2, 0
    return 1, 0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: the rest keep the order they were collected in
