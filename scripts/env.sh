# Sourced by the other scripts: finds Swift and installs the Debian packages the build and tests need.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
  export PATH="/opt/swift/usr/bin:$PATH"
fi
if ! command -v swift >/dev/null 2>&1; then
  echo "Swift 6 is required (https://www.swift.org/install/linux/); 'swift' was not found." >&2
  exit 1
fi

# Debian packages: cmake and g++ build llama-server; curl and python3 drive setup and tests; GRDB (the SQLite
# store) builds against the system's SQLite.
sluice_need_packages=()
for tool in cmake:cmake g++:g++ curl:curl python3:python3; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || sluice_need_packages+=("${tool##*:}")
done
[ -f /usr/include/sqlite3.h ] || sluice_need_packages+=(libsqlite3-dev)
if [ "${#sluice_need_packages[@]}" -gt 0 ]; then
  echo "[setup] installing ${sluice_need_packages[*]} (apt-get)" >&2
  if [ "$(id -u)" = 0 ]; then sluice_sudo=""; else sluice_sudo="sudo"; fi
  $sluice_sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sluice_sudo apt-get install -y -qq "${sluice_need_packages[@]}" >&2
fi

# The browser and client tests: Debian's Chromium and its driver (and systemd's systemd-analyze, which checks the
# service unit in deploy/systemd); Selenium, pytest and the official openai and anthropic SDKs (the gateway's
# clients in the tests) from PyPI.
sluice_setup_browser_tests() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "[setup] installing ${missing[*]} (apt-get)" >&2
    if [ "$(id -u)" = 0 ]; then sluice_sudo=""; else sluice_sudo="sudo"; fi
    $sluice_sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sluice_sudo apt-get install -y -qq "${missing[@]}" >&2
  fi
  if ! python3 -c "import selenium, pytest, openai, anthropic" >/dev/null 2>&1; then
    echo "[setup] installing selenium, pytest and the openai and anthropic SDKs (pip)" >&2
    python3 -m pip install -q --disable-pip-version-check selenium pytest openai anthropic >&2
  fi
}

# The local model: llama-server and SmolLM2, built/downloaded once into the cache outside the clone.
sluice_setup_local_model() {
  eval "$(scripts/setup-local-model.sh | grep -E '^(LLAMA_SERVER|SLUICE_LOCAL_MODEL)=')"
  export LLAMA_SERVER SLUICE_LOCAL_MODEL
  export SLUICE_LLAMA_SERVER="$LLAMA_SERVER"
}

# tiktoken's vocabularies and litellm's price table, extracted once from PyPI's litellm wheel.
sluice_setup_tokenizer_data() {
  eval "$(scripts/setup-tokenizer-data.sh | grep -E '^(SLUICE_TIKTOKEN_DIR|SLUICE_PRICE_TABLE)=')"
  export SLUICE_TIKTOKEN_DIR SLUICE_PRICE_TABLE
}

# The tokenizer reference: tiktoken itself (PyPI), run on the test corpus with the same vocabularies.
sluice_write_tokenizer_reference() { # output file
  if ! python3 -c "import tiktoken" >/dev/null 2>&1; then
    echo "[setup] installing tiktoken (pip), the reference for Sluice's tokenizer" >&2
    python3 -m pip install -q --disable-pip-version-check tiktoken >&2
  fi
  TIKTOKEN_CACHE_DIR="$SLUICE_TIKTOKEN_DIR" python3 Tests/tokenizer/reference.py "$1"
}

# The browser libraries (markdown-it, highlight.js, DOMPurify, Chart.js) from Debian packages into web/vendor.
sluice_setup_web_vendor() {
  scripts/setup-web-vendor.sh
}

# Builds the release binary (.build/release/sluice), showing progress on stderr.
sluice_build_release() {
  echo "[setup] building Sluice (release; the first build takes several minutes)" >&2
  # The filter may find nothing to show (an up-to-date build prints neither "Compiling" nor "Build complete", only
  # "Build of product … complete!"); with pipefail grep's "no match" would end the script silently, so it is not
  # an error. A failed build still is: its own status carries the pipeline's.
  swift build -c release --product sluice 2>&1 | { grep --line-buffered -E "error|warning: unre|Compiling|complete" || true; } | awk '{ if ($0 ~ /Compiling/) { n++; if (n % 50 == 0) printf "[setup] compiled %d files\n", n; fflush() } else { print; fflush() } }' >&2
}

# Everything `sluice serve` needs on the local model, set up and built (run.sh starts it; setup.sh prints where it
# is, for a service): one list, so that the two never differ. Progress goes to stderr.
sluice_setup_for_serving() {
  sluice_setup_local_model >&2
  sluice_setup_tokenizer_data >&2
  sluice_setup_web_vendor >&2
  sluice_build_release
}
