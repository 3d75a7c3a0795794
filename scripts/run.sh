#!/usr/bin/env bash
# Sets up and starts Sluice with embedded defaults: SQLite in ./data, the local SmolLM2 model on a supervised
# llama-server. Extra arguments go to 'sluice serve' (e.g. --port 9000). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
sluice_setup_for_serving
exec .build/release/sluice serve --local-model "$SLUICE_LOCAL_MODEL" --llama-server "$LLAMA_SERVER" "$@"
