# Sourced by scripts/test-e2e and scripts/demo: install and build the Next.js demo.
source "$(dirname "${BASH_SOURCE[0]}")/pack.sh"

# npm ci when www/node_modules is missing or older than the lock file, then auth-wasm
# from the packed tarball of pkg/ (npm install --no-save: the lock keeps its file:../pkg),
# so the demo runs what users install, not a link to the build folder. Needs scripts/build.
ensure_www_installed() {
  if [ ! -d www/node_modules ] || [ www/package-lock.json -nt www/node_modules/.package-lock.json ]; then
    (cd www && npm ci --no-audit --no-fund --loglevel=error)
  fi
  local tarball
  tarball=$(pack_pkg "$PWD/target/www-package")
  (cd www && npm install --no-save --no-audit --no-fund --loglevel=error "$tarball")
}

# next build with the backend address inlined (NEXT_PUBLIC_ variables are build-time).
build_www() {
  (cd www && NEXT_TELEMETRY_DISABLED=1 NEXT_PUBLIC_BACKEND_API_URL="$1" node_modules/.bin/next build)
}
