# Sourced by the cluster, test and load scripts: a throwaway Redis (Debian's
# redis-server) on loopback, no persistence, stopped by its pid, never by name.
#   start_redis   sets REDIS_URL (redis://127.0.0.1:PORT/0), REDIS_PID and REDIS_DIR
#   stop_redis
# Needs free_port (scripts/lib/backend.sh).

start_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "[setup] installing Debian's redis-server"
    export DEBIAN_FRONTEND=noninteractive
    # The package would start a system-wide server where an init system runs; ours is
    # separate either way (own port, own directory).
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  fi
  local port
  port=$(free_port)
  REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/auth-wasm-redis.XXXXXX")
  # No RDB snapshots, no AOF: rate-limit windows are worth nothing after a restart.
  redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
    --save '' --appendonly no --dir "$REDIS_DIR" \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" >/dev/null
  REDIS_URL="redis://127.0.0.1:$port/0"
  export REDIS_URL REDIS_DIR
  for _ in $(seq 1 100); do
    if [ -s "$REDIS_DIR/redis.pid" ] && [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
      REDIS_PID=$(cat "$REDIS_DIR/redis.pid")
      export REDIS_PID
      return 0
    fi
    sleep 0.1
  done
  echo "redis did not start; its log:" >&2
  cat "$REDIS_DIR/redis.log" >&2
  return 1
}

stop_redis() {
  if [ -n "${REDIS_DIR:-}" ] && [ -s "$REDIS_DIR/redis.pid" ]; then
    local pid
    pid=$(cat "$REDIS_DIR/redis.pid")
    kill "$pid" 2>/dev/null || true
    # Daemonized, so not our child: poll until it is gone (at most 5 s).
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  [ -n "${REDIS_DIR:-}" ] && rm -rf "$REDIS_DIR"
  REDIS_DIR= REDIS_PID=
  # Exported by start_redis: a backend started later by the same script (say,
  # start_backend) must not inherit a URL to a server that is gone.
  unset REDIS_URL
}
