# Sourced by scripts/test-e2e and scripts/demo: install and build the Next.js demo.

# npm ci when www/node_modules is missing or older than the lock file. auth-wasm is a
# file: dependency, installed as a symlink to pkg/, so a rebuild needs no reinstall.
ensure_www_installed() {
  if [ ! -d www/node_modules ] || [ www/package-lock.json -nt www/node_modules/.package-lock.json ]; then
    (cd www && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# next build with the backend address inlined (NEXT_PUBLIC_ variables are build-time).
build_www() {
  (cd www && NEXT_TELEMETRY_DISABLED=1 NEXT_PUBLIC_BACKEND_API_URL="$1" node_modules/.bin/next build)
}
