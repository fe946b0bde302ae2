"""The Azure Functions Trace 2019 samples in ``bench/data/azure2019``, read as model workloads.

The data is Microsoft's, under CC BY 4.0 (github.com/Azure/AzurePublicDataset). Every use cites:
M. Shahrad, R. Fonseca, Í. Goiri, G. Chaudhry, P. Batum, J. Cooke, E. Laureano, C. Tresness,
M. Russinovich, R. Bianchini. "Serverless in the Wild: Characterizing and Optimizing the Serverless
Workload at a Large Cloud Provider". USENIX ATC 2020.

The samples live in the repository (``bench/data/azure2019``, byte for byte with their README: the
licence, the attribution and where each file came from; ``SHA256SUMS`` checks them), so the bench
and its tests work from any clone; ``LAMBDAWARMER_TRACES`` reads another copy.

- ``primary`` (500 functions x 480 minutes): counts, durations and memory of the same functions.
- ``day`` (200 functions x 1,440 minutes): counts only. Its durations and memory rows belong to other
  functions (the trace's README), so each function takes the durations and memory of a primary
  function drawn by a seeded pick from its hash.
"""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

from lambdawarmer_model.traffic import Durations, Workload

CITATION = (
    "M. Shahrad, R. Fonseca, Í. Goiri, G. Chaudhry, P. Batum, J. Cooke, E. Laureano, C. Tresness, "
    'M. Russinovich, R. Bianchini. "Serverless in the Wild: Characterizing and Optimizing the Serverless '
    'Workload at a Large Cloud Provider". USENIX ATC 2020. Data: Azure Functions Trace 2019, Microsoft, '
    "CC BY 4.0 (https://github.com/Azure/AzurePublicDataset)."
)
PRIMARY = "invitro-dirigent-500fn-8h"
DAY = "invitro-loader-200fn-24h-lowconf"
QUANTILES = (("0", 0.0), ("1", 0.01), ("25", 0.25), ("50", 0.5), ("75", 0.75), ("99", 0.99), ("100", 1.0))
LAMBDA_SIZES_MB = (128, 256, 512, 1024, 1769, 2048, 3008, 4096, 10_240)
"""The configured memory a function is given: the first size at least its allocated memory."""


class TraceMissing(FileNotFoundError):
    """The trace is not where it is read from."""


def trace_dir() -> Path:
    """Where the samples lie; :class:`TraceMissing` names where it looked."""
    default = Path(__file__).resolve().parent / "data" / "azure2019"
    path = Path(os.environ.get("LAMBDAWARMER_TRACES", default))
    if not (path / PRIMARY / "invocations.csv").is_file():
        raise TraceMissing(f"the Azure Functions 2019 trace is not at {path} (set LAMBDAWARMER_TRACES)")
    return path


def lambda_memory_mb(allocated_mb: float) -> int:
    """The Lambda memory size a function allocating ``allocated_mb`` would be configured with."""
    return next((size for size in LAMBDA_SIZES_MB if size >= allocated_mb), LAMBDA_SIZES_MB[-1])


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def _durations(row: dict[str, str]) -> Durations:
    points = tuple((quantile, float(row[f"percentile_Average_{name}"])) for name, quantile in QUANTILES)
    return Durations(points, float(row["Average"]))


def _counts(row: dict[str, str], columns: list[str]) -> list[int]:
    return [int(float(row[column] or 0)) for column in columns]


def primary(subset: str | None = None) -> list[Workload]:
    """Set 1's functions (``subset``: ``subset_100`` or ``subset_250``; None: all 500), in file order."""
    folder = trace_dir() / PRIMARY
    keep = None if subset is None else set((folder / f"{subset}.txt").read_text().split())
    durations = {
        (r["HashOwner"], r["HashApp"], r["HashFunction"]): r for r in _rows(folder / "durations.csv")
    }
    memory = {(r["HashOwner"], r["HashApp"], r["HashFunction"]): r for r in _rows(folder / "memory.csv")}
    workloads = []
    for row in _rows(folder / "invocations.csv"):
        if keep is not None and row["HashFunction"] not in keep:
            continue
        key = (row["HashOwner"], row["HashApp"], row["HashFunction"])
        columns = [column for column in row if column.isdigit()]
        workloads.append(
            Workload(
                row["HashFunction"][:12],
                _counts(row, columns),
                _durations(durations[key]),
                lambda_memory_mb(float(memory[key]["AverageAllocatedMb"])),
            )
        )
    return workloads


def day() -> list[Workload]:
    """Set 2's functions over 24 hours, each with a primary function's durations and memory."""
    donors = primary()
    workloads = []
    for row in _rows(trace_dir() / DAY / "invocations.csv"):
        columns = [column for column in row if column.startswith("minute_")]
        donor = random.Random(row["HashFunction"]).choice(donors)
        workloads.append(
            Workload(row["HashFunction"][:12], _counts(row, columns), donor.durations, donor.memory_mb)
        )
    return workloads
