// The edits scripts/lib/finish-package.mjs makes to wasm-bindgen's web-target glue
// (auth_wasm.js). Each removes code the package never runs, and each insists on finding
// what it removes (else the build fails: wasm-bindgen's output changed, look again), so
// nothing is dropped by a pattern that half-matched. Unit-tested in tests/unit/glue.test.mjs.

const DEFAULT_URL = "new URL('auth_wasm_bg.wasm', import.meta.url)";

/** @param {string} what @param {boolean} ok */
function expect(ok, what) {
  if (!ok) throw new Error(`auth_wasm.js: ${what} (wasm-bindgen's web target changed?)`);
}

/** Replace every match of `pattern` (global) with `replacement`, expecting `count` of them
 * (a number, or "some": at least one). @param {string} text @param {RegExp} pattern
 * @param {string | ((...groups: string[]) => string)} replacement @param {number | "some"} count
 * @param {string} what */
function replace(text, pattern, replacement, count, what) {
  const found = (text.match(pattern) ?? []).length;
  expect(count === "some" ? found > 0 : found === count, `expected ${count === "some" ? "some" : count} ${what}, found ${found}`);
  return text.replace(pattern, /** @type {any} */ (replacement));
}

/** @param {string} glue wasm-bindgen's auth_wasm.js @returns {string} the package's */
export function finishGlue(glue) {
  expect(/\bfunction initSync\(/.test(glue), "no initSync");
  // Its default `new URL("auth_wasm_bg.wasm", import.meta.url)` goes: bundlers would emit
  // the .wasm as an asset for every app, and the default entry never fetches it (the
  // ./slim entry's init() is given a URL or bytes).
  expect(glue.split(DEFAULT_URL).length === 2, `expected one ${DEFAULT_URL}`);
  let out = glue.replace(DEFAULT_URL, `(() => { throw new Error("auth-wasm/slim: init() needs the wasm's URL or bytes"); })()`);

  // The loaders' branches for wasm-bindgen's deprecated positional arguments (a
  // console.warn each): the package's loaders always pass the options object. 70 B gzip.
  out = replace(
    out,
    /if \((module|module_or_path) !== undefined\) \{\s*if \(Object\.getPrototypeOf\(\1\) === Object\.prototype\) \{\s*\(\{\1\} = \1\)\s*\} else \{\s*console\.warn\('using deprecated parameters[^']*'\)\s*\}\s*\}/g,
    "({$1} = $1);",
    2,
    "deprecated-argument branches",
  );

  // No string crosses by wasm-bindgen's copies (js/engine.js writes the engine's
  // arguments into its input buffer), so the glue has no encoder or copy of its own.
  expect(!/passStringToWasm0|cachedTextEncoder|__wbindgen_malloc|__wbindgen_realloc/.test(out), "a string copied by the glue");

  // No exported class: the engine is one function over a handle (src/web/engine.rs), so
  // the glue has no class wrapper, free() or FinalizationRegistry (js/engine.js frees).
  expect(!/^export class /m.test(out) && !/FinalizationRegistry/.test(out), "an exported class");

  // The externref table's initialiser and the start export that ran it: scripts/build
  // removes both from the wasm (scripts/lib/wasm-unused.mjs), which then imports nothing.
  out = replace(
    out,
    /\n {8}__wbindgen_init_externref_table: function\(\) \{\n {12}const table = wasm\.__wbindgen_externrefs;\n(?: {12}table\.set\(\d+, \w+\);\n)+ {8}\},/g,
    "",
    1,
    "externref table initialiser",
  );
  out = replace(out, /\n {4}wasm\.__wbindgen_start\(\);/g, "", 1, "start call");
  expect(!/__wbindgen_externrefs|__wbindgen_start/.test(out), "a use of the externref table or the start export left");
  // With nothing else imported, no import object to build.
  out = out.replace(
    /\nfunction __wbg_get_imports\(\) \{\n {4}const import0 = \{\n {8}__proto__: null,\n {4}\};\n {4}return \{\n {8}__proto__: null,\n {8}"[^"]+": import0,\n {4}\};\n\}/,
    "\nfunction __wbg_get_imports() {\n    return {};\n}",
  );

  // Each export's wrapper as an arrow function (a minifier keeps `function f(a){return ..}`
  // but writes `f=a=>..` in one declaration list). wasm-bindgen writes a wrapper of numbers
  // as a call, `const ret`, and the return's conversion; other wrappers are left as they are.
  out = replace(
    out,
    /\nexport function (\w+)\(([\w, ]*)\) \{\n {4}const ret = (wasm\.\w+\(\2\));\n {4}return ret( >>> 0| !== 0)?;\n\}/g,
    "\nexport const $1 = ($2) => $3$4;",
    "some",
    "wrappers of numbers",
  );
  // With nothing imported, the loaders pass an empty import object.
  const emptyImports = /\nfunction __wbg_get_imports\(\) \{\n {4}return \{\};\n\}\n/;
  if (emptyImports.test(out)) {
    out = replace(out.replace(emptyImports, "\n"), /\bconst imports = __wbg_get_imports\(\);/g, "const imports = {};", 2, "import object of each loader");
    expect(!/__wbg_get_imports/.test(out), "a use of __wbg_get_imports left");
  }

  // wasm-bindgen's synchronous loader (initSync: an options object, bytes or a module, the
  // deprecated-arguments branch) gives way to `instantiate(module)`, the one thing the
  // package's two synchronous callers need: engine-url.js holds a compiled module,
  // engine-inline.js compiles its bytes itself. Once, as initSync was (a second call keeps
  // the first instance: engines live in its memory). -59 B gzip in a browser build,
  // -123 B in the inlined entry.
  out = replace(out, /\nfunction initSync\(module\) \{\n(?: {4}.*\n|\n)*?\}\n/g, "\n", 1, "initSync");
  out = replace(out, /\nexport \{ initSync, __wbg_init as default \};\n/g, "\nexport { __wbg_init as default };\n", 1, "initSync's export");
  expect(!/\binitSync\b/.test(out), "a use of initSync left");
  const imports = /\b__wbg_get_imports\b/.test(out) ? "__wbg_get_imports()" : "{}";
  out += `\n/** Instantiates the compiled engine, once. @param {WebAssembly.Module} module */\nexport const instantiate = (module) => {\n    wasm ??= new WebAssembly.Instance(module, ${imports}).exports;\n};\n`;

  // The module and instance kept in variables nothing reads.
  out = replace(out, /\nlet wasmModule, wasmInstance, wasm;\n/g, "\nlet wasm;\n", 1, "unread module and instance variables");
  out = replace(out, /\n {4}wasmInstance = instance;\n|\n {4}wasmModule = module;\n/g, "\n", 2, "assignments of the unread variables");
  expect(!/wasmModule|wasmInstance/.test(out), "a use of wasmModule or wasmInstance left");

  // `engineMemory()` (js/engine.js's view of the token buffer) reads the instance's
  // memory export: a Rust function returning `wasm_bindgen::memory()` crossed as an
  // externref, whose shim cost the wasm ~700 B (357 B gzip).
  expect(/\n {4}wasm = instance\.exports;\n/.test(out), "expected `wasm = instance.exports;`");
  expect(!/\bexport (function|const) engineMemory\b/.test(out), "an engineMemory export of its own");
  // `engineCall` (js/engine.js's one way into the engine) is a plain wasm export, not a
  // wasm-bindgen one (src/web/engine.rs: its wrapper's argument handling cost 461 B of
  // wasm): its function written here as wasm-bindgen wrote it, the address as unsigned.
  expect(!/\bexport (function|const) engineCall\b/.test(out), "an engineCall export of its own");
  return `${out}\nexport const engineCall = (key, n, x, y, len) => wasm.engineCall(key, n, x, y, len) >>> 0;\nexport const engineMemory = () => wasm.memory;\n`;
}

/** The glue with the wasm's minified names (scripts/build's `wasm-opt
 * --minify-imports-and-exports-and-modules`, whose printed mapping is `names`; `module`:
 * the one import module the wasm now names, none when it imports nothing): the import object's module and functions and
 * every `wasm.<export>` renamed. A name the glue uses that the mapping lacks fails the build.
 * @param {string} glue
 * @param {{ imports: [string, string, string][], exports: [string, string][] }} names
 * @param {string | undefined} module */
export function minifyWasmNames(glue, names, module) {
  const modules = new Set(names.imports.map(([from]) => from));
  expect(modules.size <= 1, `expected the imports from one module, found ${[...modules].join(", ")}`);
  let out = glue;
  for (const from of modules) {
    const quoted = JSON.stringify(from).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    out = replace(out, new RegExp(`(\\n\\s+)${quoted}: import0,`, "g"), `$1${JSON.stringify(module)}: import0,`, 1, `import module ${from}`);
  }
  for (const [, name, short] of names.imports) {
    out = replace(out, new RegExp(`(\\n\\s+)${name}: function\\(`, "g"), `$1${short}: function(`, 1, `import ${name}`);
  }
  const exports = new Map(names.exports);
  out = out.replace(/\bwasm\.(\w+)\b/g, (_, name) => {
    const short = exports.get(name);
    expect(short !== undefined, `wasm.${name} is no export the mapping names`);
    return `wasm.${short}`;
  });
  return out;
}
