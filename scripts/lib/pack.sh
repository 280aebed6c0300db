# Sourced by scripts/test-package and scripts/lib/www.sh: the package as users get it.

# pack_pkg DIR: npm pack of pkg/ (scripts/build's output) into DIR; prints the tarball's path.
pack_pkg() {
  local dir="$1"
  [ -f pkg/package.json ] || { echo "pkg/ is missing: run scripts/build first" >&2; return 1; }
  mkdir -p "$dir"
  rm -f "$dir"/auth-wasm-*.tgz
  echo "$dir/$(npm pack ./pkg --pack-destination "$dir" --silent | tail -1)"
}
