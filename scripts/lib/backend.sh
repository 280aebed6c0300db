# Sourced by the test, bench and demo scripts: start the reference backend on
# loopback and stop it by its pid (never by name).
#   start_backend [ENV=VALUE ...]   sets BACKEND_PID, BACKEND_PORT, BACKEND_URL, BACKEND_DIR
#   stop_backend
# Extra ENV=VALUE words are passed to the backend's environment, e.g.
#   start_backend ACCESS_TOKEN_TTL=5 AUTH_TEST_HOOKS=1 AUTH_DEV_MODE=1
# (the test hooks refuse to start without dev mode)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until `url`/health answers; fails (printing `log`) when `pid` exits first or
# after 30 s.
wait_healthy() {  # url pid log
  for _ in $(seq 1 300); do
    if curl -fsS "$1/health" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "not answering at $1; its log:" >&2
  cat "$3" >&2
  return 1
}

start_backend() {
  BACKEND_PORT=${BACKEND_PORT:-$(free_port)}
  BACKEND_DIR=$(mktemp -d "${TMPDIR:-/tmp}/auth-wasm-backend.XXXXXX")
  BACKEND_URL="http://127.0.0.1:$BACKEND_PORT"
  local secret
  secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
  env BETTER_AUTH_SECRET="$secret" BACKEND_ENV_FILE= \
      DATABASE_URL="sqlite:///$BACKEND_DIR/test.db" \
      "$@" \
      .venv/bin/python -m backend --host 127.0.0.1 --port "$BACKEND_PORT" \
      >"$BACKEND_DIR/server.log" 2>&1 &
  BACKEND_PID=$!
  BACKEND_SECRET=$secret
  export BACKEND_PID BACKEND_PORT BACKEND_URL BACKEND_DIR BACKEND_SECRET
  wait_healthy "$BACKEND_URL" "$BACKEND_PID" "$BACKEND_DIR/server.log"
}

stop_backend() {
  if [ -n "${BACKEND_PID:-}" ] && kill -0 "$BACKEND_PID" 2>/dev/null; then
    kill "$BACKEND_PID" 2>/dev/null || true
    wait "$BACKEND_PID" 2>/dev/null || true
  fi
  BACKEND_PID=
  [ -n "${BACKEND_DIR:-}" ] && rm -rf "$BACKEND_DIR"
  BACKEND_DIR=
}
