"""The benchmarks' smoke test: the smallest point of every benchmark runs and writes the report.

Figures are not asserted (bench/ reports them); this only keeps the benchmark code from rotting.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_run(module: str, out: Path, timeout_s: int) -> None:
    """``python -m <module> --quick --out <out>`` from the checkout; fails with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", module, "--quick", "--out", str(out)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_quick_run_writes_the_report_and_the_plot(tmp_path: Path) -> None:
    quick_run("bench.run", tmp_path, 600)
    results = json.loads((tmp_path / "results.json").read_text())
    assert {row["implementation"] for row in results["efficacy"]} == {"layer", "seed"}
    assert set(results["cold_start_ms"]) == {"bare", "layer", "seed"}
    assert {(row["implementation"], row["tls"], row["memory_mb"]) for row in results["memory_sizes"]} == {
        ("layer", True, 128),  # over HTTPS, as Lambda's API is (plain HTTP beside it without --quick)
        ("seed", True, 128),
    }
    assert set(results["traffic"]["strategies"]) == {"auto", "fixed N=peak", "fixed N=average"}
    report = (tmp_path / "results.md").read_text()
    for heading in (
        "## 1-2. Warm-up efficacy",
        "## 3. Cold start added",
        "## 4. Per-invocation overhead",
        "## 5. Metrics cost",
        "## 6. Size and import time",
        "## 7. How many to warm",
        "## 8. By memory size",
    ):
        assert heading in report
    assert (tmp_path / "efficacy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quick_tree_run_writes_flat_against_tree(tmp_path: Path) -> None:
    """bench/tree.py's smallest point: 128 MB, N = 40, a tokenless ping (flat) and the owner's (tree)."""
    quick_run("bench.tree", tmp_path, 300)
    results = json.loads((tmp_path / "tree.json").read_text())
    assert [(row["memory_mb"], row["n"], row["shape"]) for row in results["points"]] == [
        (128, 40, "flat"),
        (128, 40, "tree"),
    ]
    report = (tmp_path / "tree.md").read_text()
    assert "| 128 MB | 40 | tokenless | flat |" in report
    (owners,) = [line for line in report.splitlines() if line.startswith("| 128 MB | 40 | with the token |")]
    assert "tree 6x2" in owners  # the shape the model chose (a loaded machine may send some flat)


def test_quick_traces_run_writes_the_report_and_the_plot(tmp_path: Path) -> None:
    """bench/traces.py on subset_100: every policy in the table, the trace cited, the plot written."""
    quick_run("bench.traces", tmp_path, 300)
    report = (tmp_path / "traces.md").read_text()
    for policy in ("no warming", "fixed N = 1", "fixed N = peak", "auto 1.2.0", "**auto** (default)"):
        assert f"| {policy} |" in report, policy
    for row in ("oracle, on the schedule", "oracle, skipping", "Provisioned Concurrency"):
        assert f"| {row} |" in report, row
    for citation in ("Serverless in the Wild", "USENIX ATC 2020", "CC BY 4.0"):
        assert citation in report, citation
    assert (tmp_path / "traces.png").stat().st_size > 10_000


def test_the_trace_samples_are_the_published_bytes() -> None:
    """bench/data/azure2019 holds the samples byte for byte (CC BY 4.0: their README carries the
    licence and the attribution); SHA256SUMS lists each file's digest."""
    import hashlib

    from bench.azure_trace import trace_dir

    folder = trace_dir()
    assert "CC BY 4.0" in (folder / "README.md").read_text()
    listed = [line.split() for line in (folder / "SHA256SUMS").read_text().splitlines() if line.strip()]
    assert len(listed) >= 6
    for digest, name in listed:
        assert hashlib.sha256((folder / name.lstrip("*")).read_bytes()).hexdigest() == digest, name


def test_the_fleet_bench_counts_one_configuration_read_per_tagged_function(tmp_path: Path) -> None:
    quick_run("bench.fleet", tmp_path, 300)
    report = json.loads((tmp_path / "fleet.json").read_text())
    assert (report["functions"], report["rows"]) == (25, report["tagged"])
    assert report["configuration_reads_per_tagged_function"] == 1.0
    assert report["calls_total"] == sum(report["calls"].values())


def test_the_steady_bench_times_five_pings_of_this_layer(tmp_path: Path) -> None:
    quick_run("bench.steady", tmp_path, 300)
    report = json.loads((tmp_path / "steady.json").read_text())
    [row] = report["rows"]
    assert row["layer"] == "lambdawarmer-layer.zip"
    assert [ping["warmed"] for ping in row["pings"]][-1] == 3
    assert all(ping["wall_ms"] > 0 and ping["hold_ms"] is not None for ping in row["pings"])
