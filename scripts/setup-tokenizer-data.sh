#!/usr/bin/env bash
# Extracts tiktoken's vocabularies (cl100k_base, o200k_base) and litellm's public price table from
# PyPI's litellm wheel into a cache outside the clone. Idempotent: a second run returns at once.
# Prints SLUICE_TIKTOKEN_DIR=<folder> and SLUICE_PRICE_TABLE=<file> on stdout.
set -euo pipefail

cache="${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
litellm_version="${LITELLM_VERSION:-1.91.5}"
folder="$cache/tiktoken"
prices="$cache/litellm-$litellm_version/model_prices_and_context_window_backup.json"
vocabularies=(9b5ad71b2ce5302211f9c61530b329a4922fc6a4 fb374d419588a4632f3f557e76b4b70aebbca790)

missing=0
for file in "${vocabularies[@]}"; do [ -s "$folder/$file" ] || missing=1; done
[ -s "$prices" ] || missing=1
if [ "$missing" = 1 ]; then
  work="$cache/dl-litellm"; rm -rf "$work"; mkdir -p "$work" "$folder" "$(dirname "$prices")"
  echo "[setup] downloading litellm $litellm_version from PyPI for tiktoken's vocabularies and the price table" >&2
  wheel=$(python3 "$(dirname "$0")/pypi-fetch.py" litellm "$litellm_version" bdist_wheel "$work")
  python3 - "$wheel" "$folder" "$prices" "${vocabularies[@]}" <<'PY'
import os, sys, zipfile
wheel, folder, prices, *vocabularies = sys.argv[1:]
archive = zipfile.ZipFile(wheel)
def extract(member, target):
    with open(target + ".part", "wb") as out:
        out.write(archive.read(member))
    os.replace(target + ".part", target)
for name in vocabularies:
    extract("litellm/litellm_core_utils/tokenizers/" + name, os.path.join(folder, name))
extract("litellm/model_prices_and_context_window_backup.json", prices)
PY
  rm -rf "$work"
fi

echo "SLUICE_TIKTOKEN_DIR=$folder"
echo "SLUICE_PRICE_TABLE=$prices"
