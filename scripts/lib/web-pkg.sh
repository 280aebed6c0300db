# Sourced by scripts/test-e2e (and run by bench/run.mjs through scripts/web-pkg): the
# package for pages without a bundler. The same wasm scripts/build made, with
# wasm-bindgen's web-target glue (`await init()` before use) and the JS shell.
build_web_pkg() {
  local out="$1"
  rm -rf "$out"
  "$HOME/.cargo/bin/wasm-bindgen" --target web --out-dir "$out" target/wasm32-unknown-unknown/release/auth_wasm.wasm
  node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    --strip-debug --strip-producers "$out/auth_wasm_bg.wasm" -o "$out/auth_wasm_bg.wasm"
  cp js/*.js "$out/"
}
