#!/usr/bin/env bash
# Regenerates bench/results.md and bench/efficacy.png: lambdawarmer and lambda-warmer-py 0.6.0 side
# by side (about 10 minutes). Sets up what it needs by itself. Arguments go to bench/run.py
# (--quick for the smallest point of each).
# --traces instead: bench/traces.md and bench/traces.png, the warming policies on the Azure Functions
# trace and the model's calibration against the emulator (arguments after it go to bench/traces.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/venv.sh
. "$root/scripts/venv.sh"
lambdawarmer_venv "$root"
cd "$root"
if [ "${1:-}" = "--traces" ]; then
    shift
    exec python -m bench.traces "$@"
fi
python -m bench.run "$@"
