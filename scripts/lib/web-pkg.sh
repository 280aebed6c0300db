# Sourced by scripts/test-e2e (and run by bench/run.mjs): the package for pages without a
# bundler. pkg/ itself works as plain ES modules (the wasm is inlined and instantiated on
# import), so this is a copy of it that a rebuild during a run cannot change underneath.
build_web_pkg() {
  local out="$1"
  [ -f pkg/index.js ] || { echo "pkg/ is missing: run scripts/build first" >&2; return 1; }
  rm -rf "$out"
  cp -R pkg "$out"
}
