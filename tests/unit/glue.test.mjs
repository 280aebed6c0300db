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
    "wasmModule",
    "__wbindgen_init_externref_table",
    "__wbindgen_externrefs",
    "__wbindgen_start",
    "function initSync(",
  ]) {
    assert.ok(raw.includes(gone), `the glue has ${gone}`);
    assert.ok(!finished.includes(gone), `${gone} left`);
  }
  // The wasm imports nothing once scripts/build removed the externref table: an empty
  // import object in each loader.
  assert.ok(!finished.includes("__wbg_get_imports"));
  assert.equal(finished.split("const imports = {};").length, 2);
  assert.match(finished, /new WebAssembly\.Instance\(module, \{\}\)/);
});

test("each export's wrapper of numbers is an arrow function with its conversion kept", () => {
  assert.match(finished, /\nexport const jwtScratch = \(\) => wasm\.jwtScratch\(\) >>> 0;/);
  assert.match(finished, /\nexport const decodeJwtScratch = \(len\) => wasm\.decodeJwtScratch\(len\);/);
  assert.match(finished, /\nexport const isExpiredScratch = \(len, leeway, now_ms\) => wasm\.isExpiredScratch\(len, leeway, now_ms\) !== 0;/);
  assert.ok(!/\nexport function /.test(finished));
  // A wrapper of another shape (here a string's) is left as it is.
  const other = "\nexport function greeting() {\n    const ret = wasm.greeting();\n    return getStringFromWasm0(ret[0], ret[1]);\n}\n";
  assert.ok(finishGlue(raw + other).includes(other));
});

test("no string is copied by the glue and no class wraps the engine: one call over a handle", () => {
  // js/engine.js writes the strings into the engine's input buffer (src/web/engine.rs)
  // and holds the handle; a class (its free(), finaliser, borrow checks) fails the build.
  assert.match(finished, /\bwasm\.engineCall\(key, n, x, y, len\)/);
  assert.match(finished, /\(\{module_or_path\} = module_or_path\);/);
  assert.match(finished, /init\(\) needs the wasm's URL or bytes/);
  for (const added of [
    "function passStringToWasm0(arg, malloc, realloc) {}",
    "const cachedTextEncoder = new TextEncoder();",
    "const f = () => wasm.__wbindgen_malloc(1, 1);",
    "export class Engine {\n}",
    "const EngineFinalization = new FinalizationRegistry(ptr => wasm.__wbg_engine_free(ptr, 1));",
  ]) {
    assert.throws(() => finishGlue(`${raw}\n${added}\n`), /wasm-bindgen's web target changed/);
  }
});

test("glue it does not recognise fails the build", () => {
  const broken = [
    raw.replace("function initSync(", "function initSynchronously("),
    raw.replace("export { initSync, __wbg_init as default };", "export { initSync };\nexport default __wbg_init;"),
    raw.replace("    wasmModule = module;", "    wasmModule ??= module;"),
    raw.replace(/console\.warn\('using deprecated parameters for `initSync\(\)`/, "console.warn('deprecated"),
    raw.replace("            table.set(0, undefined);", "            table.grow(4);"),
    raw.replace("    wasm.__wbindgen_start();", "    wasm.__wbindgen_start?.();"),
    `${raw}\nconst start = () => wasm.__wbindgen_start();\n`,
  ];
  for (const glue of broken) {
    assert.notEqual(glue, raw);
    assert.throws(() => finishGlue(glue), /wasm-bindgen's web target changed/);
  }
});

test("instantiate(module) in place of initSync: the engine's instance, made once", async () => {
  // The finished glue as a module, over a wasm that imports nothing and exports a memory
  // (the shape scripts/build leaves): engine-url.js hands it a compiled module,
  // engine-inline.js the module it compiled from its bytes.
  const wasmBytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 0, 1, 7, 10, 1, 6, 109, 101, 109, 111, 114, 121, 2, 0]);
  const url = `data:text/javascript;base64,${Buffer.from(finished).toString("base64")}`;
  const glue = await import(url);
  assert.equal(typeof glue.initSync, "undefined");
  const first = new WebAssembly.Module(wasmBytes);
  glue.instantiate(first);
  const memory = glue.engineMemory();
  assert.ok(memory instanceof WebAssembly.Memory);
  // A second call (a second loader evaluated in one app) keeps the first instance: every
  // engine lives in its memory.
  glue.instantiate(new WebAssembly.Module(wasmBytes));
  assert.equal(glue.engineMemory(), memory);
});

test("engineMemory() reads the instance's memory export (decodeJwt's buffer; e2e/client.test.mjs runs it)", () => {
  assert.doesNotMatch(raw, /\bexport (function|const) engineMemory\b/);
  assert.match(finished, /\nexport const engineMemory = \(\) => wasm\.memory;\n$/);
  // engineCall, a plain wasm export that wasm-bindgen does not wrap (src/web/engine.rs):
  // written by glue.mjs, its answer (an address) unsigned; a glue with one of its own fails.
  assert.doesNotMatch(raw, /\bexport (function|const) engineCall\b/);
  assert.match(finished, /\nexport const engineCall = \(key, n, x, y, len\) => wasm\.engineCall\(key, n, x, y, len\) >>> 0;\n/);
  assert.throws(() => finishGlue(`${raw}\nexport function engineCall() {}\n`), /wasm-bindgen's web target changed/);
  // A glue with an engineMemory of its own, or that keeps the exports elsewhere: look again.
  assert.throws(() => finishGlue(`${raw}\nexport function engineMemory() {}\n`), /wasm-bindgen's web target changed/);
  assert.throws(() => finishGlue(raw.replace("    wasm = instance.exports;", "    wasm = instance['exports'];")), /wasm-bindgen's web target changed/);
});

// What `wasm-opt --minify-imports-and-exports-and-modules` printed for this glue's wasm
// (after scripts/build's wasm-metadce: no imports).
const NAMES = {
  /** @type {[string, string, string][]} */
  imports: [],
  exports: [
    ["memory", "a"], ["decodeJwtScratch", "b"], ["engineCall", "c"], ["isExpiredScratch", "d"],
    ["jwtScratch", "e"], ["jwtScratchLength", "f"],
  ],
};
/** @type {[string, string][]} */
const EXPORTS = /** @type {any} */ (NAMES.exports);

test("the wasm's minified names reach every use of an export", () => {
  const minified = minifyWasmNames(finished, /** @type {any} */ (NAMES), undefined);
  const uses = (/** @type {string} */ text) => [...text.matchAll(/\bwasm\.(\w+)/g)].map((m) => m[1]);
  const short = new Map(EXPORTS);
  assert.ok(uses(finished).length > 5);
  assert.deepEqual(uses(minified), uses(finished).map((name) => short.get(name)));
  assert.match(minified, /\nexport const engineMemory = \(\) => wasm\.a;\n$/);
});

// An import, should the engine ever bind a JS function again: its module and name minified too.
const IMPORTING = `function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg_now_463ac581d2fc7ea3: function() {
            const ret = Date.now();
            return ret;
        },
    };
    return {
        __proto__: null,
        "./auth_wasm_bg.js": import0,
    };
}
const f = () => wasm.engineCall(0, 0, 0, 0, 0);
`;
const IMPORTING_NAMES = { imports: [["./auth_wasm_bg.js", "__wbg_now_463ac581d2fc7ea3", "a"]], exports: [["engineCall", "b"]] };

test("an import's module and name are minified", () => {
  const minified = minifyWasmNames(IMPORTING, /** @type {any} */ (IMPORTING_NAMES), "a");
  assert.match(minified, /\n\s+"a": import0,/);
  assert.match(minified, /\n\s+a: function\(\) \{\n\s+const ret = Date\.now\(\);/);
  assert.match(minified, /wasm\.b\(0,/);
  assert.ok(!minified.includes("./auth_wasm_bg.js") && !minified.includes("__wbg_now"));
});

test("a name the glue uses that the mapping lacks fails the build", () => {
  const names = (/** @type {any} */ base, /** @type {(n: any) => void} */ edit) => {
    const copy = structuredClone(base);
    edit(copy);
    return copy;
  };
  assert.throws(
    () => minifyWasmNames(finished, names(NAMES, (n) => n.exports.splice(n.exports.findIndex(([name]) => name === "engineCall"), 1)), undefined),
    /wasm-bindgen's web target changed/,
  );
  for (const broken of [
    names(IMPORTING_NAMES, (n) => n.imports[0].splice(1, 1, "__wbg_gone")),
    names(IMPORTING_NAMES, (n) => n.imports.forEach((i) => i.splice(0, 1, "./elsewhere.js"))),
    names(IMPORTING_NAMES, (n) => n.imports.push(["./other.js", "x", "c"])),
  ]) {
    assert.throws(() => minifyWasmNames(IMPORTING, broken, "a"), /wasm-bindgen's web target changed/);
  }
});
