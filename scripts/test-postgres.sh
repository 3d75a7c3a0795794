#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests, from Debian's `postgresql` package (installed when missing):
#   scripts/test-postgres.sh start DIR   initdb in DIR, start on a free loopback port, print SLUICE_TEST_POSTGRES_URL=…
#   scripts/test-postgres.sh stop DIR    stop it (the caller removes DIR)
#   scripts/test-postgres.sh again DIR   start a stopped one again, on the same port (a database that comes back)
# As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail
action="${1:?start|stop}"
dir="${2:?data directory}"

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "[setup] installing postgresql (apt-get) for the PostgreSQL store tests" >&2
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U sluice -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    echo "$port" > "$dir/port"
    "$0" again "$dir"
    echo "SLUICE_TEST_POSTGRES_URL=postgres://sluice@127.0.0.1:$port/postgres?sslmode=disable"
    ;;
  again)
    port=$(cat "$dir/port")
    # Tests only: no fsync, room for many pools (every store test and instance has its own).
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop|again DIR" >&2; exit 2 ;;
esac
