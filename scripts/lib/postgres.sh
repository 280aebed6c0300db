# Sourced by scripts/test-backend: a throwaway PostgreSQL (Debian's package) on
# loopback, stopped by its data directory's pid, never by name.
#   start_postgres   sets POSTGRES_URL (an admin URL, database "postgres") and POSTGRES_DIR
#   stop_postgres

postgres_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

# As root (CI), the server runs as the postgres user the package creates.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  if [ -z "$(postgres_bin)" ]; then
    echo "[setup] installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  fi
  local bin port
  bin=$(postgres_bin)
  port=$(free_port)
  POSTGRES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/auth-wasm-pg.XXXXXX")
  [ "$(id -u)" = 0 ] && chown postgres "$POSTGRES_DIR"
  as_postgres "$bin/initdb" -D "$POSTGRES_DIR/data" -U postgres -A trust --no-sync >/dev/null
  as_postgres "$bin/pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/server.log" -w \
    -o "-p $port -k $POSTGRES_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  export POSTGRES_URL POSTGRES_DIR
}

stop_postgres() {
  if [ -n "${POSTGRES_DIR:-}" ] && [ -d "$POSTGRES_DIR/data" ]; then
    as_postgres "$(postgres_bin)/pg_ctl" -D "$POSTGRES_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$POSTGRES_DIR"
  fi
}
