// What a page pays for auth-wasm, bundled and minified by esbuild as the benchmarks
// bundle each peer: the default entry (its JS with the wasm inlined in hex: all a
// page loads), and the ./slim entry's JS plus the separate .wasm it fetches. Used by
// scripts/test-wasm (the budget) and bench/.
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

async function bundled(entry) {
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  return sizes(Buffer.from(bundle.outputFiles[0].contents));
}

/** Sizes of pkg/'s default entry (total: its bundled JS, the wasm inside), and of the
 * ./slim entry (its JS, the wasm beside it, both). */
export async function packageSize(pkgDir) {
  const total = await bundled(path.join(pkgDir, "index.js"));
  const wasm = sizes(readFileSync(path.join(pkgDir, "auth_wasm_bg.wasm")));
  const slimJs = await bundled(path.join(pkgDir, "slim.js"));
  return { total, slim: { js: slimJs, wasm, total: add(slimJs, wasm) } };
}

// `node scripts/lib/package-size.mjs <pkg dir> <budget bytes gzip>`: fails above the budget.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, budget] = process.argv.slice(2);
  const { total, slim } = await packageSize(path.resolve(dir));
  console.log(`size: default entry (wasm inlined) ${total.gzip} B gzip -9 (budget ${budget} B)`);
  console.log(`size: ./slim ${slim.js.gzip} B JS + ${slim.wasm.gzip} B wasm = ${slim.total.gzip} B gzip -9`);
  if (total.gzip > Number(budget)) {
    console.error("size budget exceeded");
    process.exit(1);
  }
}
