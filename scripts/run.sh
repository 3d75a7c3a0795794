#!/usr/bin/env bash
# Sets up and starts Sluice with embedded defaults: SQLite in ./data, the local SmolLM2 model on a supervised
# llama-server. Extra arguments go to 'sluice serve' (e.g. --port 9000). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
sluice_setup_local_model
sluice_setup_tokenizer_data
sluice_setup_web_vendor
echo "[setup] building Sluice (release; the first build takes several minutes)" >&2
# The filter may find nothing to show (an up-to-date build prints neither "Compiling" nor "Build complete", only
# "Build of product … complete!"); with pipefail grep's "no match" would end the script silently, so it is not
# an error. A failed build still is: its own status carries the pipeline's.
swift build -c release --product sluice 2>&1 | { grep --line-buffered -E "error|warning: unre|Compiling|complete" || true; } | awk '{ if ($0 ~ /Compiling/) { n++; if (n % 50 == 0) printf "[setup] compiled %d files\n", n; fflush() } else { print; fflush() } }' >&2
exec .build/release/sluice serve --local-model "$SLUICE_LOCAL_MODEL" --llama-server "$LLAMA_SERVER" "$@"
