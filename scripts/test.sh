#!/usr/bin/env bash
# Sets up everything the tests need (llama-server, SmolLM2) and runs the whole suite: unit, SQLite store,
# server over loopback against the simulator, and the real local model.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
sluice_setup_local_model
echo "[test] building (debug, with tests)" >&2
swift build --build-tests 2>&1 | grep -E "error:|Build complete|Compiling Sluice" | sed 's/^/[build] /' >&2
swift test --skip-build "$@"
