#!/usr/bin/env bash
# Sets up what `./sluice.sh run` runs — llama-server and SmolLM2, tiktoken's vocabularies and the price list, the web
# app's libraries — and builds Sluice (release), without starting it. Prints, on standard output, the settings
# `sluice serve` needs to find them, one SLUICE_*=value per line: an environment file for a service
# (deploy/systemd/sluice.service; docs/reliability.md#running-as-a-service). Progress goes to standard error.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
sluice_setup_for_serving
echo "[setup] done: $PWD/.build/release/sluice" >&2
cat <<SETTINGS
SLUICE_LOCAL_MODEL=$SLUICE_LOCAL_MODEL
SLUICE_LLAMA_SERVER=$SLUICE_LLAMA_SERVER
SLUICE_TIKTOKEN_DIR=$SLUICE_TIKTOKEN_DIR
SLUICE_PRICE_TABLE=$SLUICE_PRICE_TABLE
SLUICE_WEB_ROOT=$PWD/web
SETTINGS
