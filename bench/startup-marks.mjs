// A copy of a built package with `performance.mark`s along the browser build's start-up
// path, for bench/startup-only.mjs to report (ms after the bundle's arrival):
//   node bench/startup-marks.mjs <pkg dir> <out dir>
//   ISOLATED=1 BASELINE=<out dir> node bench/startup-only.mjs 150 'preloaded|supabase'
// Each mark goes after a line of the package's own; a line that moved fails here, so a
// table is never read off marks that were silently left out.
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const [from, out] = process.argv.slice(2);
if (!from || !out) throw new Error("usage: node bench/startup-marks.mjs <pkg dir> <out dir>");
rmSync(out, { recursive: true, force: true });
cpSync(from, out, { recursive: true });

const mark = (name) => `performance.mark(${JSON.stringify(name)});`;
/** Put `mark(name)` before (or after) the one line of `file` that holds `anchor`. */
function edit(file, anchor, name, where = "before") {
  const at = path.join(out, file);
  const lines = readFileSync(at, "utf8").split("\n");
  const found = lines.flatMap((line, i) => (line.includes(anchor) ? [i] : []));
  if (found.length !== 1) throw new Error(`${file}: expected one line with ${JSON.stringify(anchor)}, found ${found.length}`);
  lines.splice(found[0] + (where === "after" ? 1 : 0), 0, mark(name));
  writeFileSync(at, lines.join("\n"));
}

/** Mark within an expression: `anchor` (once in `file`) becomes `replacement(anchor, m)`,
 * where `m` is the mark as an expression. */
function wrap(file, anchor, name, replacement) {
  const at = path.join(out, file);
  const text = readFileSync(at, "utf8");
  if (text.split(anchor).length !== 2) throw new Error(`${file}: expected ${JSON.stringify(anchor)} once`);
  writeFileSync(at, text.replace(anchor, replacement(anchor, mark(name).slice(0, -1))));
}

// The phases of docs/design-notes.md "Start-up, third pass", in the order they run.
edit("auth_wasm.js", "let wasm;", "glue evaluated");
edit("engine-url.js", "export const engineLoaded = ", "fetch called");
wrap("engine-url.js", "fetch(url)", "fetch returned", (call, m) => `((r) => (${m}, r))(${call})`);
wrap("engine-url.js", ".then(instantiate)", "compiled", (call, m) => `.then((module) => (${m}, instantiate(module)))`);
edit("browser.js", "await engineLoaded;", "modules evaluated");
edit("browser.js", "await engineLoaded;", "engine ready", "after");
edit("client.js", "this.engine = new Engine(json", "constructor");
edit("client.js", "this.#store = openStore(", "configured");
edit("client.js", "const stored = this.#store.read();", "storage opened");
edit("client.js", "this.#pendingStart = setTimeout(", "restored");
console.log(`${out}: the package with start-up marks`);
