#!/usr/bin/env bash
# Puts the browser libraries into web/vendor/ (git-ignored; served at /vendor/): markdown-it, highlight.js,
# DOMPurify, Chart.js, qrcode-generator (the two-step set-up's QR code) and KaTeX (with its fonts), from Debian's packages. Installed packages under /usr/share are
# used as they are; otherwise the .deb files are downloaded once (apt-get download, no root needed) into the
# Sluice cache and unpacked with dpkg-deb. No third-party code is kept in git.
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=web/vendor
cache="${SLUICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}/web-vendor"

# package | file inside the package | name under web/vendor
wanted=(
  "libjs-markdown-it|usr/share/javascript/markdown-it/markdown-it.js|markdown-it.js"
  "libjs-highlight.js|usr/share/javascript/highlight.js/highlight.min.js|highlight.min.js"
  "libjs-highlight.js|usr/share/javascript/highlight.js/styles/github.css|highlight-light.css"
  "libjs-highlight.js|usr/share/javascript/highlight.js/styles/atom-one-dark.css|highlight-dark.css"
  "node-dompurify|usr/share/nodejs/dompurify/dist/purify.min.js|purify.min.js"
  "libjs-chart.js|usr/share/javascript/chart.js/chart.min.js|chart.min.js"
  "node-qrcode-generator|usr/share/nodejs/qrcode-generator/qrcode.js|qrcode.js"
  "libjs-katex|usr/share/javascript/katex/katex.min.js|katex/katex.min.js"
  "libjs-katex|usr/share/javascript/katex/katex.min.css|katex/katex.min.css"
  "fonts-katex|usr/share/fonts/truetype/katex/KaTeX_Main-Regular.woff2|katex/fonts/KaTeX_Main-Regular.woff2"
)
# KaTeX's stylesheet finds its fonts in fonts/ beside it; browsers take the first format it lists, WOFF2.
katex_fonts=usr/share/fonts/truetype/katex

missing=0
for entry in "${wanted[@]}"; do
  IFS='|' read -r _ _ name <<< "$entry"
  [ -s "$vendor/$name" ] || missing=1
done
[ "$missing" = 0 ] && exit 0

mkdir -p "$vendor" "$cache"
for entry in "${wanted[@]}"; do
  IFS='|' read -r package path name <<< "$entry"
  mkdir -p "$(dirname "$vendor/$name")"
  if [ -s "/$path" ]; then
    cp "/$path" "$vendor/$name"
    continue
  fi
  if [ ! -s "$cache/root/$path" ]; then
    if ! ls "$cache/$package"_*.deb >/dev/null 2>&1; then
      echo "[setup] downloading $package (Debian package)" >&2
      if ! (cd "$cache" && apt-get download "$package" >/dev/null 2>&1); then
        # No package lists yet on a fresh machine: fetch them once, then try again.
        if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2; else sudo apt-get update -qq >&2; fi
        (cd "$cache" && apt-get download "$package" >&2)
      fi
    fi
    dpkg-deb -x "$(ls "$cache/$package"_*.deb | head -1)" "$cache/root"
  fi
  cp "$cache/root/$path" "$vendor/$name"
done
if [ -s "/$katex_fonts/KaTeX_Main-Regular.woff2" ]; then fonts="/$katex_fonts"; else fonts="$cache/root/$katex_fonts"; fi
cp "$fonts"/*.woff2 "$vendor/katex/fonts/"
echo "[setup] browser libraries in $vendor: $(ls "$vendor" | tr '\n' ' ')" >&2
