#!/usr/bin/env bash
# Prints PROMTOOL=<path>: Prometheus's promtool, taken from Debian's `prometheus` package (downloaded once with
# apt-get download, no root needed, unpacked with dpkg-deb into the Sluice cache; the server is not installed).
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then echo "PROMTOOL=$(command -v promtool)"; exit 0; fi
cache="${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}/promtool"
if [ ! -x "$cache/root/usr/bin/promtool" ]; then
  mkdir -p "$cache"
  if ! ls "$cache"/prometheus_*.deb >/dev/null 2>&1; then
    echo "[setup] downloading promtool (Debian package prometheus)" >&2
    if ! (cd "$cache" && apt-get download prometheus >/dev/null 2>&1); then
      if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2; else sudo apt-get update -qq >&2; fi
      (cd "$cache" && apt-get download prometheus >&2)
    fi
  fi
  dpkg-deb -x "$(ls "$cache"/prometheus_*.deb | head -1)" "$cache/root"
fi
echo "PROMTOOL=$cache/root/usr/bin/promtool"
