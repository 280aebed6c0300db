// What a page pays for auth-wasm: the wasm (after wasm-opt) and the package's JS
// (the shell and wasm-bindgen's glue) bundled and minified by esbuild, as the
// benchmarks bundle each peer. Used by scripts/test-wasm (the budget) and bench/.
import { readFileSync } from "node:fs";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { build } from "esbuild";

export function sizes(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

export const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });

/** Sizes of pkg/'s wasm, its bundled JS, and both. */
export async function packageSize(pkgDir) {
  const wasm = sizes(readFileSync(path.join(pkgDir, "auth_wasm_bg.wasm")));
  const bundle = await build({
    entryPoints: [path.join(pkgDir, "index.js")],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    external: ["*.wasm"],
    write: false,
    logLevel: "silent",
  });
  const js = sizes(Buffer.from(bundle.outputFiles[0].contents));
  return { wasm, js, total: add(wasm, js) };
}

// `node scripts/lib/package-size.mjs <pkg dir> <budget bytes gzip>`: fails above the budget.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, budget] = process.argv.slice(2);
  const { wasm, js, total } = await packageSize(path.resolve(dir));
  console.log(`size: wasm ${wasm.gzip} B + JS ${js.gzip} B = ${total.gzip} B gzip -9 (budget ${budget} B)`);
  if (total.gzip > Number(budget)) {
    console.error("size budget exceeded");
    process.exit(1);
  }
}
