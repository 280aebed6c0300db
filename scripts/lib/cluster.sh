# Sourced by scripts/cluster, scripts/test-cluster and scripts/load: the backend
# in the shape of a deployment with several workers, on loopback. PostgreSQL and
# Redis (throwaway, Debian's servers), N backend workers as separate processes on
# their own ports (so a test can address one worker), and a round-robin TCP proxy
# (scripts/lib/rrproxy.py) as the single entry. Everything is stopped by pid.
#   start_cluster N [ENV=VALUE ...]   sets CLUSTER_URL (the proxy), CLUSTER_URLS (the
#       workers, comma-separated), CLUSTER_PIDS, CLUSTER_DIR, CLUSTER_DATABASE_URL,
#       REDIS_URL; ENV=VALUE words go to every worker's environment
#   stop_cluster
# PROXY_PORT chooses the proxy's port (default: a free one).

_cluster_lib=$(dirname "${BASH_SOURCE[0]}")
source "$_cluster_lib/backend.sh"
source "$_cluster_lib/postgres.sh"
source "$_cluster_lib/redis.sh"

CLUSTER_PIDS=()
CLUSTER_PROXY_PID=

start_cluster() {
  local workers=${1:-2}
  shift || true
  CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/auth-wasm-cluster.XXXXXX")
  start_postgres
  start_redis
  local pg_port=${POSTGRES_URL##*:}
  pg_port=${pg_port%%/*}
  "$(postgres_bin)/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres auth
  CLUSTER_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$pg_port/auth"
  # One secret for all: a token signed by one worker is verified by the others
  # (AUTH_DEV_MODE would give each worker a secret of its own).
  local secret
  secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
  local urls=() upstreams=() logs=() i port
  # All at once, as a deployment starts its replicas (init_db serialises the schema).
  for i in $(seq 1 "$workers"); do
    port=$(free_port)
    env BETTER_AUTH_SECRET="$secret" BACKEND_ENV_FILE= \
        DATABASE_URL="$CLUSTER_DATABASE_URL" REDIS_URL="$REDIS_URL" \
        "$@" \
        .venv/bin/python -m backend --host 127.0.0.1 --port "$port" --log-level warning \
        >"$CLUSTER_DIR/worker-$i.log" 2>&1 &
    CLUSTER_PIDS+=($!)
    urls+=("http://127.0.0.1:$port")
    upstreams+=("127.0.0.1:$port")
    logs+=("$CLUSTER_DIR/worker-$i.log")
  done
  for i in "${!urls[@]}"; do
    wait_healthy "${urls[$i]}" "${CLUSTER_PIDS[$i]}" "${logs[$i]}" || return 1
  done
  port=${PROXY_PORT:-$(free_port)}
  python3 "$_cluster_lib/rrproxy.py" --listen "127.0.0.1:$port" "${upstreams[@]}" \
    >"$CLUSTER_DIR/proxy.log" 2>&1 &
  CLUSTER_PROXY_PID=$!
  CLUSTER_URL="http://127.0.0.1:$port"
  wait_healthy "$CLUSTER_URL" "$CLUSTER_PROXY_PID" "$CLUSTER_DIR/proxy.log" || return 1
  CLUSTER_URLS=$(IFS=,; echo "${urls[*]}")
  export CLUSTER_URL CLUSTER_URLS CLUSTER_DIR CLUSTER_DATABASE_URL
}

stop_cluster() {
  local pid
  for pid in $CLUSTER_PROXY_PID "${CLUSTER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $CLUSTER_PROXY_PID "${CLUSTER_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  CLUSTER_PIDS=() CLUSTER_PROXY_PID=
  stop_redis
  stop_postgres
  [ -n "${CLUSTER_DIR:-}" ] && rm -rf "$CLUSTER_DIR"
  CLUSTER_DIR=
}
