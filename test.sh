#!/usr/bin/env bash
# Runs every check: ruff, mypy, then the whole pytest suite (extra arguments go to pytest).
# Sets up what it needs by itself (.venv from requirements-dev.txt).
set -euo pipefail
root=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/venv.sh
. "$root/scripts/venv.sh"
lambdawarmer_venv "$root"
cd "$root"
echo "== ruff"
ruff check .
ruff format --check .
echo "== mypy"
mypy
echo "== pytest"
pytest "$@"
