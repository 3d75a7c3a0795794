#!/usr/bin/env bash
# Sets up everything the tests need (llama-server, SmolLM2, a throwaway PostgreSQL) and runs the whole suite:
# unit, the store suite on SQLite and PostgreSQL, server over loopback against the simulator (two instances on
# one PostgreSQL among them), the real local model, and the web app in headless Chromium.
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
# A throwaway PostgreSQL (Debian's package) on a free loopback port, stopped and removed when the tests end.
pg_dir=$(mktemp -d /tmp/sluice-test-pg.XXXXXX)
log=$(mktemp)
# Every test's temporary files (SQLite databases, browser profiles) go in one folder, removed with the rest: a run
# makes about 150 databases, and left in /tmp they added up to 300 MB over a day of runs.
# It is world-writable and sticky, as /tmp is: tests start PostgreSQL servers as the `postgres` user inside it.
run_tmp=$(mktemp -d /tmp/sluice-test-run.XXXXXX)
chmod 1777 "$run_tmp"
# Processes the run left behind: a test process that crashes (or is stopped by the timeout below) leaves its
# children — llama-server, a simulator — running under init. Everything the run started, however deep, carries
# the run's TMPDIR in its environment; nothing else does.
stop_leftovers() {
  local environ pid pids=() names=()
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    if { tr '\0' '\n' < "$environ"; } 2>/dev/null | grep -qxF "TMPDIR=$run_tmp"; then
      pids+=("$pid")
      names+=("$(cat "/proc/$pid/comm" 2>/dev/null)")
    fi
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  echo "[test] stopping ${#pids[@]} process(es) the tests left running: ${names[*]}" >&2
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && break; done || return 0
    sleep 0.2
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}
trap 'stop_leftovers; scripts/test-postgres.sh stop "$pg_dir"; rm -rf "$pg_dir" "$log" "$run_tmp"' EXIT
echo "[test] starting a throwaway PostgreSQL" >&2
eval "export $(scripts/test-postgres.sh start "$pg_dir")"
export SLUICE_REQUIRE_POSTGRES=1
echo "[test] building (debug, with tests)" >&2
TMPDIR="$run_tmp" swift build --build-tests 2>&1 | { grep --line-buffered -E "error:|Build complete|Compiling Sluice" || true; } | sed 's/^/[build] /' >&2
set +e
# Line-buffered, so that the log shows each test as it starts and ends even when the output is a pipe; a run that
# has not ended in 15 minutes (it takes about one) is stopped, whole process group, and the tests it was still in
# are named. At most 16 tests run at once (SLUICE_TEST_WIDTH): with all 400-odd started together, every test's
# servers shared two cores for the first minute, a request could wait over 5 s and timeouts under test (0.3–1.5 s)
# went off early; 16 at once also finished sooner (92 s against 105–111 s; 8 at once: 103 s).
TMPDIR="$run_tmp" timeout -k 10 900 stdbuf -oL -eL swift test --skip-build \
  --experimental-maximum-parallelization-width "${SLUICE_TEST_WIDTH:-16}" "$@" 2>&1 | tee "$log"
swift_status=${PIPESTATUS[0]}
if [ "$swift_status" = 124 ] || [ "$swift_status" = 137 ]; then
  echo "[test] swift test did not end within 15 minutes; tests started and never ended:" >&2
  python3 scripts/unfinished-tests.py < "$log" >&2
fi
echo "[test] browser tests (headless Chromium, pytest)" >&2
TMPDIR="$run_tmp" python3 -m pytest -q Tests/e2e 2>&1 | tee -a "$log"
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
