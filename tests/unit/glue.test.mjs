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
    "realloc === undefined",
    "'encodeInto' in cachedTextEncoder",
    "catch (e)",
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

test("each string argument is still copied, in order, and the call made with all of them", () => {
  const copies = (/** @type {string} */ text) => [...text.matchAll(/ptr(\d) = passStringToWasm0\((\w+),/g)].map((m) => `${m[1]}:${m[2]}`);
  assert.deepEqual(copies(finished), ["0:a", "1:b", "2:c", "3:d"]);
  assert.deepEqual(copies(finished), copies(raw));
  assert.match(finished, /wasm\.engine_call\(this\.__wbg_ptr, val5, val6, val7, val8, ptr0, len0, ptr1, len1, ptr2, len2, ptr3, len3\)/);
  assert.match(finished, /FinalizationRegistry\(ptr => wasm\.__wbg_engine_free\(ptr, 1\)\)/);
  assert.match(finished, /\(\{module\} = module\);/);
  assert.match(finished, /init\(\) needs the wasm's URL or bytes/);
});

test("passStringToWasm0 still copies ASCII and non-ASCII text as UTF-8", () => {
  const source = /** @type {RegExpMatchArray} */ (finished.match(/function passStringToWasm0[\s\S]*?\n\}\n/))[0];
  const memory = new Uint8Array(256);
  let next = 8;
  const malloc = (/** @type {number} */ size) => {
    const at = next;
    next += size;
    return at;
  };
  // A realloc that moves the block, as the wasm's may.
  const realloc = (/** @type {number} */ ptr, /** @type {number} */ old, /** @type {number} */ size) => {
    const at = malloc(size);
    memory.copyWithin(at, ptr, ptr + Math.min(old, size));
    return at;
  };
  const copy = new Function(
    "cachedTextEncoder",
    "getUint8ArrayMemory0",
    `let WASM_VECTOR_LEN = 0; ${source}; return (text, m, r) => { const ptr = passStringToWasm0(text, m, r); return [ptr, WASM_VECTOR_LEN]; };`,
  )(new TextEncoder(), () => memory);
  for (const text of ["abc", "ünïcødé ✓ 🙂", ""]) {
    const [ptr, len] = copy(text, malloc, realloc);
    assert.equal(new TextDecoder().decode(memory.subarray(ptr, ptr + len)), text);
  }
});

test("glue it does not recognise fails the build", () => {
  const broken = [
    raw.replace("function initSync(", "function initSynchronously("),
    raw.replace("    if (realloc === undefined) {", "    if (!realloc) {"),
    raw.replace("if (!('encodeInto' in cachedTextEncoder)) {", "if (!cachedTextEncoder.encodeInto) {"),
    raw.replace("            } catch (e) {\n", "            } catch (err) {\n"),
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
    ["__wbindgen_externrefs", "u"], ["__wbindgen_malloc", "v"], ["__wbindgen_realloc", "w"],
    ["__wbindgen_free", "x"], ["__wbindgen_start", "y"],
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
  assert.ok(uses(finished).length > 10);
  assert.deepEqual(uses(minified), uses(finished).map((name) => short.get(name)));
});

test("a name the glue uses that the mapping lacks fails the build", () => {
  const names = (/** @type {(n: typeof NAMES) => void} */ edit) => {
    const copy = structuredClone(NAMES);
    edit(copy);
    return /** @type {any} */ (copy);
  };
  for (const broken of [
    names((n) => n.exports.splice(n.exports.findIndex(([name]) => name === "__wbindgen_malloc"), 1)),
    names((n) => n.imports[0].splice(1, 1, "__wbg_gone")),
    names((n) => n.imports.forEach((i) => i.splice(0, 1, "./elsewhere.js"))),
    names((n) => n.imports[1].splice(0, 1, "./elsewhere.js")),
  ]) {
    assert.throws(() => minifyWasmNames(finished, broken, "a"), /wasm-bindgen's web target changed/);
  }
});
