#!/usr/bin/env bash
# Sets up everything the tests need (llama-server, SmolLM2) and runs the whole suite: unit, SQLite store,
# server over loopback against the simulator, the real local model, and the web app in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
sluice_setup_local_model
sluice_setup_browser_tests
sluice_setup_tokenizer_data
sluice_setup_web_vendor
eval "$(scripts/setup-promtool.sh)"
export PROMTOOL
mkdir -p .build
export SLUICE_TOKENIZER_REFERENCE="$PWD/.build/tokenizer-reference.jsonl"
sluice_write_tokenizer_reference "$SLUICE_TOKENIZER_REFERENCE"
echo "[test] building (debug, with tests)" >&2
swift build --build-tests 2>&1 | grep --line-buffered -E "error:|Build complete|Compiling Sluice" | sed 's/^/[build] /' >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test --skip-build "$@" 2>&1 | tee "$log"
swift_status=${PIPESTATUS[0]}
echo "[test] browser tests (headless Chromium, pytest)" >&2
python3 -m pytest -q Tests/e2e 2>&1 | tee -a "$log"
ui_status=${PIPESTATUS[0]}
set -e
# One plain closing line for the whole run, counted from swift-testing's and pytest's own summaries.
swift_total=$(grep -E "^. Test run with [0-9]+ tests?" "$log" | tail -1 | sed -E 's/.*Test run with ([0-9]+) tests?.*/\1/')
ui_passed=$(grep -E "^[0-9]+ passed" "$log" | tail -1 | sed -E 's/^([0-9]+) passed.*/\1/')
if [ "$swift_status" = 0 ] && [ "$ui_status" = 0 ]; then
  echo "tests: $(( ${swift_total:-0} + ${ui_passed:-0} )) passed, 0 failed"
  exit 0
fi
echo "[test] FAILED: swift test exited $swift_status, browser tests exited $ui_status" >&2
exit 1
