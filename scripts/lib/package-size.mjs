// What a page pays for auth-wasm, bundled and minified by esbuild as the benchmarks
// bundle each peer: the package's entry, which every build resolves (index.js: its JS with
// the wasm inlined as Latin-1, all a page loads), `auth-wasm/browser` (its JS plus the
// .wasm it fetches), and the ./slim entry's JS plus the .wasm. Used by scripts/test-wasm
// (the budgets) and bench/.
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

/** Sizes of pkg/'s entry (total: index.js's bundled JS, the wasm inside), of
 * `auth-wasm/browser` (separate: browser.js's JS, the wasm beside it, both), and of the
 * ./slim entry (its JS, the wasm, both). */
export async function packageSize(pkgDir) {
  const wasm = sizes(readFileSync(path.join(pkgDir, "auth_wasm_bg.wasm")));
  const separateJs = await bundled(path.join(pkgDir, "browser.js"));
  const total = await bundled(path.join(pkgDir, "index.js"));
  const slimJs = await bundled(path.join(pkgDir, "slim.js"));
  return {
    total,
    separate: { js: separateJs, wasm, total: add(separateJs, wasm) },
    slim: { js: slimJs, wasm, total: add(slimJs, wasm) },
  };
}

// `node scripts/lib/package-size.mjs <pkg dir> <entry budget> <auth-wasm/browser budget>`
// (bytes, gzip -9): fails when the entry (the wasm inlined) or auth-wasm/browser (JS + wasm)
// is above its budget.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, entryBudget, separateBudget] = process.argv.slice(2);
  const { total, separate, slim } = await packageSize(path.resolve(dir));
  const over = [];
  const report = (what, bytes, budget) => {
    console.log(`size: ${what} ${bytes} B gzip -9 (budget ${budget} B)`);
    if (bytes > Number(budget)) over.push(what);
  };
  report("entry (the wasm inlined: what every build, browser production builds too, loads)", total.gzip, entryBudget);
  report(`auth-wasm/browser (the .wasm fetched beside it): ${separate.js.gzip} B JS + ${separate.wasm.gzip} B wasm =`, separate.total.gzip, separateBudget);
  console.log(`size: ./slim ${slim.js.gzip} B JS + ${slim.wasm.gzip} B wasm = ${slim.total.gzip} B gzip -9`);
  if (over.length > 0) {
    console.error(`size budget exceeded: ${over.join("; ")}`);
    process.exit(1);
  }
}
