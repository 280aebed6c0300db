// scripts/lib/glue.mjs over an excerpt of wasm-bindgen's web-target glue
// (fixtures/wasm-bindgen-glue.txt, 0.2.130): what it removes is gone, what it keeps still
// works, the wasm's minified names reach every use, and output it does not recognise
// fails the build instead of half-matching.
// The glue as built is exercised by every e2e suite. Run by scripts/lint.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { finishGlue, minifyWasmNames } from "../../scripts/lib/glue.mjs";

const raw = readFileSync(new URL("./fixtures/wasm-bindgen-glue.txt", import.meta.url), "utf8");
const finished = finishGlue(raw);

test("the code the package never runs is gone", () => {
  for (const gone of [
    "new URL('auth_wasm_bg.wasm', import.meta.url)",
    "using deprecated parameters",
    "__destroy_into_raw",
    "Symbol.dispose",
    "free() {",
    "typeof FinalizationRegistry",
    "wasmModule",
  ]) {
    assert.ok(raw.includes(gone), `the excerpt has ${gone}`);
    assert.ok(!finished.includes(gone), `${gone} left`);
  }
});

test("no string is copied by the glue: the call takes its arguments' lengths, and a glue that copies one fails the build", () => {
  // js/engine.js writes the strings into the engine's input buffer (src/web/engine.rs).
  assert.match(finished, /wasm\.engine_call\(this\.__wbg_ptr, op, n, x, y, la, lb, lc, ld\)/);
  assert.match(finished, /FinalizationRegistry\(ptr => wasm\.__wbg_engine_free\(ptr, 1\)\)/);
  assert.match(finished, /\(\{module\} = module\);/);
  assert.match(finished, /init\(\) needs the wasm's URL or bytes/);
  for (const copying of [
    "function passStringToWasm0(arg, malloc, realloc) {}",
    "const cachedTextEncoder = new TextEncoder();",
    "const f = () => wasm.__wbindgen_malloc(1, 1);",
  ]) {
    assert.throws(() => finishGlue(`${raw}\n${copying}\n`), /wasm-bindgen's web target changed/);
  }
});

test("glue it does not recognise fails the build", () => {
  const broken = [
    raw.replace("function initSync(", "function initSynchronously("),
    raw.replace("    __destroy_into_raw() {", "    __destroy() {"),
    raw.replace("(typeof FinalizationRegistry === 'undefined')", "(typeof FinalizationRegistry !== 'function')"),
    raw.replace("    wasmModule = module;", "    wasmModule ??= module;"),
    raw.replace(/console\.warn\('using deprecated parameters for `initSync\(\)`/, "console.warn('deprecated"),
  ];
  for (const glue of broken) {
    assert.notEqual(glue, raw);
    assert.throws(() => finishGlue(glue), /wasm-bindgen's web target changed/);
  }
});

test("engineMemory() reads the instance's memory export (decodeJwt's buffer; e2e/client.test.mjs runs it)", () => {
  assert.ok(!raw.includes("engineMemory"));
  assert.match(finished, /\nexport const engineMemory = \(\) => wasm\.memory;\n$/);
  // A glue with an engineMemory of its own, or that keeps the exports elsewhere: look again.
  assert.throws(() => finishGlue(`${raw}\nexport function engineMemory() {}\n`), /wasm-bindgen's web target changed/);
  assert.throws(() => finishGlue(raw.replace("    wasm = instance.exports;", "    wasm = instance['exports'];")), /wasm-bindgen's web target changed/);
});

// What `wasm-opt --minify-imports-and-exports-and-modules` printed for this glue's wasm.
const NAMES = {
  imports: [
    ["./auth_wasm_bg.js", "__wbg___wbindgen_throw_4c88d8bf264fd984", "a"],
    ["./auth_wasm_bg.js", "__wbg___wbindgen_memory_17a1178bc3328ea3", "b"],
    ["./auth_wasm_bg.js", "__wbg_now_463ac581d2fc7ea3", "c"],
    ["./auth_wasm_bg.js", "__wbindgen_init_externref_table", "d"],
  ],
  exports: [
    ["memory", "e"], ["__wbg_dpop_free", "f"], ["__wbg_engine_free", "g"], ["decodeJwtScratch", "h"],
    ["dpop_answer", "i"], ["dpop_claims", "j"], ["dpop_clear", "k"], ["dpop_new", "l"],
    ["engineMemory", "m"], ["engine_call", "n"], ["engine_new", "o"], ["isExpiredScratch", "p"],
    ["jwtScratch", "q"], ["jwtScratchLength", "r"], ["__abort_handler", "s"], ["__instance_terminated", "t"],
    ["__wbindgen_externrefs", "u"], ["__wbindgen_free", "x"], ["__wbindgen_start", "y"],
  ],
};
/** @type {[string, string][]} */
const EXPORTS = /** @type {any} */ (NAMES.exports);

test("the wasm's minified names reach the import object and every use of an export", () => {
  const minified = minifyWasmNames(finished, /** @type {any} */ (NAMES), "a");
  for (const [, name] of NAMES.imports) assert.ok(finished.includes(`${name}: function(`) && !minified.includes(name), name);
  assert.match(minified, /\n\s+"a": import0,/);
  assert.ok(!minified.includes("./auth_wasm_bg.js"));
  assert.match(minified, /\n\s+a: function\(arg0, arg1\) \{\n\s+throw new Error/);
  assert.match(minified, /\n\s+b: function\(\) \{\n\s+const ret = wasm\.e;/);
  const uses = (/** @type {string} */ text) => [...text.matchAll(/\bwasm\.(\w+)/g)].map((m) => m[1]);
  const short = new Map(EXPORTS);
  assert.ok(uses(finished).length > 5);
  assert.deepEqual(uses(minified), uses(finished).map((name) => short.get(name)));
});

test("a name the glue uses that the mapping lacks fails the build", () => {
  const names = (/** @type {(n: typeof NAMES) => void} */ edit) => {
    const copy = structuredClone(NAMES);
    edit(copy);
    return /** @type {any} */ (copy);
  };
  for (const broken of [
    names((n) => n.exports.splice(n.exports.findIndex(([name]) => name === "engine_call"), 1)),
    names((n) => n.imports[0].splice(1, 1, "__wbg_gone")),
    names((n) => n.imports.forEach((i) => i.splice(0, 1, "./elsewhere.js"))),
    names((n) => n.imports[1].splice(0, 1, "./elsewhere.js")),
  ]) {
    assert.throws(() => minifyWasmNames(finished, broken, "a"), /wasm-bindgen's web target changed/);
  }
});
