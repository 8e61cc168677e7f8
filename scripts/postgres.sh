#!/usr/bin/env bash
# A throwaway PostgreSQL server for the database tests (tests/test_db_postgres.py, .ci/run).
#
#   scripts/postgres.sh start DIR [PORT]   # initdb DIR/data, start it on 127.0.0.1:PORT
#   scripts/postgres.sh stop DIR           # stop it (fast shutdown); DIR is left for the caller
#
# start prints the server's SQLAlchemy URL on stdout (and writes it to DIR/url):
#   postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
# PORT defaults to a free port the kernel gives. The server listens on 127.0.0.1 only, with
# its Unix socket in DIR (nothing in /var/run), trust authentication for the local user
# postgres, and no fsync (a test server: a crash of the machine may lose it, never data of
# a test, which it does not outlive). initdb refuses to run as root: as root the server is
# run as the user `postgres` (runuser), and DIR is given to that user. The binaries are
# initdb, pg_ctl and postgres on PATH, or in $PG_BIN.
set -euo pipefail

usage() { echo "usage: $0 start DIR [PORT] | stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1 dir=$2
bin=${PG_BIN:-}
if [ -z "$bin" ]; then
  bin=$(dirname "$(command -v initdb || echo /usr/local/bin/initdb)")
fi
for tool in initdb pg_ctl postgres; do
  [ -x "$bin/$tool" ] || { echo "postgres.sh: $tool not found (PATH or \$PG_BIN)" >&2; exit 2; }
done

as_owner() {  # run a server tool as the data directory's owner (postgres when we are root)
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
  start)
    port=${3:-}
    if [ -z "$port" ]; then
      port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir"
      runuser -u postgres -- test -w "$dir" \
        || { echo "postgres.sh: the user postgres cannot reach $dir (a parent is private): use a directory under /tmp" >&2; exit 2; }
    fi
    if [ ! -s "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir'"
    opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    url="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    echo "$url" >"$dir/url"
    echo "$url"
    ;;
  stop)
    dir=$(cd "$dir" && pwd)
    if [ -s "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
    ;;
  *) usage ;;
esac
