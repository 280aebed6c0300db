// The reachability graph `wasm-metadce` takes (scripts/build), printed as JSON: every
// export of wasm-bindgen's output is a root except what the package never calls:
// - `__wbindgen_start` and `__wbindgen_externrefs`: wasm-bindgen's table for JS values
//   held by the wasm and the start export (the table's initialising import, re-exported)
//   that fills its first slots. No JS value crosses into this wasm (only numbers: strings
//   through its memory), so the table is never read; with them go the import and the
//   glue's initialiser (scripts/lib/glue.mjs removes its side). A crate start function
//   (`#[wasm_bindgen(start)]`) would run from the same export: refused below.
// - `__abort_handler` and `__instance_terminated`: wasm-bindgen's addresses for a glue that
//   reports an aborted instance; this glue never reads them (a trap is an AuthError in
//   js/engine.js). Every `wasm.<export>` the finished glue uses must survive: finish-package
//   fails on one the minified names lack.
// `node scripts/lib/wasm-unused.mjs <wasm>`; fails when the first two are missing (wasm-bindgen
// changed: look again).
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

const UNUSED = ["__wbindgen_start", "__wbindgen_externrefs"];
const UNREAD = ["__abort_handler", "__instance_terminated"];

/** @param {string} dir @returns {string[]} */
const rustFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? rustFiles(path.join(dir, e.name)) : e.name.endsWith(".rs") ? [path.join(dir, e.name)] : [],
  );
for (const file of rustFiles("src")) {
  if (/wasm_bindgen\s*\(\s*start\b/.test(readFileSync(file, "utf8"))) throw new Error(`${file}: a start function runs from __wbindgen_start, which the build removes`);
}

const exports = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(process.argv[2]))).map((e) => e.name);
for (const name of UNUSED) if (!exports.includes(name)) throw new Error(`${process.argv[2]}: no ${name} export (wasm-bindgen's output changed?)`);
const roots = exports.filter((name) => !UNUSED.includes(name) && !UNREAD.includes(name));
process.stdout.write(JSON.stringify(roots.map((name) => ({ name, export: name, root: true }))));
