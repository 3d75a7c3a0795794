#!/usr/bin/env bash
# Installs the LiteLLM proxy that `sluice bench load` compares against into a virtualenv in the cache outside the
# clone, so that its many dependencies never change the system Python's packages (installed there, it upgraded
# botocore under Debian's awscli). Prints LITELLM=<path to its executable>, or nothing when it cannot be
# installed (the bench then skips LiteLLM). Idempotent: a second run returns at once.
set -uo pipefail
cache="${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
version="${LITELLM_BENCH_VERSION:-1.108.7}"
venv="$cache/litellm-$version-venv"
if [ ! -x "$venv/bin/litellm" ]; then
  echo "[setup] installing litellm[proxy] $version into $venv (pip, in a virtualenv), the peer the load bench compares against" >&2
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >&2 2>/dev/null; then
    echo "[setup] installing python3-venv (apt-get)" >&2
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
  fi
  if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check "litellm[proxy]==$version" >&2; then
    echo "[setup] litellm not installed; the bench skips it" >&2
    rm -rf "$venv"
    exit 0
  fi
fi
echo "LITELLM=$venv/bin/litellm"
