// scripts/lib/glue.mjs over an excerpt of wasm-bindgen's web-target glue
// (fixtures/wasm-bindgen-glue.txt, 0.2.130): what it removes is gone, what it keeps still
// works, and output it does not recognise fails the build instead of half-matching.
// The glue as built is exercised by every e2e suite. Run by scripts/lint.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { finishGlue } from "../../scripts/lib/glue.mjs";

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
    raw.replace(/console\.warn\('using deprecated parameters for `initSync\(\)`/, "console.warn('deprecated"),
  ];
  for (const glue of broken) {
    assert.notEqual(glue, raw);
    assert.throws(() => finishGlue(glue), /wasm-bindgen's web target changed/);
  }
});
