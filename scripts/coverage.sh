#!/usr/bin/env bash
# Runs the tests with coverage and prints line coverage per target (from llvm-cov).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
sluice_setup_local_model
swift test --enable-code-coverage "$@" >&2
profile=$(swift test --show-codecov-path | sed 's/\.json$/.profdata/')
[ -f "$profile" ] || profile="$(dirname "$(swift test --show-codecov-path)")/default.profdata"
binary=".build/debug/sluicePackageTests.xctest"
llvm_cov=$(dirname "$(command -v swift)")/llvm-cov; [ -x "$llvm_cov" ] || llvm_cov=$(command -v llvm-cov)
"$llvm_cov" report "$binary" -instr-profile="$profile" -ignore-filename-regex='(\.build|Tests)/' \
  | python3 scripts/coverage_by_target.py
