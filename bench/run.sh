#!/usr/bin/env bash
# Regenerates bench/results.md and bench/efficacy.png: lambdawarmer and lambda-warmer-py 0.6.0 side
# by side (about 10 minutes). Sets up what it needs by itself. Arguments go to bench/run.py
# (--quick for the smallest point of each).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/venv.sh
. "$root/scripts/venv.sh"
lambdawarmer_venv "$root"
cd "$root"
python -m bench.run "$@"
