# Sourced by scripts/test and scripts/bench: installs PostgreSQL from Debian's packages when it
# is missing and starts a throwaway server on a free loopback port, stopped on exit.
# Afterwards ALLOT_TEST_POSTGRES_DSN names its admin database.

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

# apt_install PKG… installs Debian packages, refreshing the package lists only if needed.
apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null ||
    { as_root apt-get update -q >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

start_postgres() {
  ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || apt_install postgresql
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  PGDIR=$(mktemp -d /tmp/allot-pg.XXXXXX)
  PGPORT=${PGPORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PGDIR"; fi
  trap stop_postgres EXIT
  echo "starting PostgreSQL ($PGBIN) on 127.0.0.1:$PGPORT"
  _pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
  _pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 30 start \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -c unix_socket_directories=$PGDIR -c max_connections=300 -c fsync=on -c synchronous_commit=on" >/dev/null
  export ALLOT_TEST_POSTGRES_DSN="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"
}

stop_postgres() {
  _pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PGDIR"
}

# _pg runs a PostgreSQL server binary as the postgres user when we are root (initdb refuses root).
_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
