// The engine's op numbers are written three times: src/web/engine.rs (`mod op`, the
// source), js/ops.js (the shell) and tests/engine_wasm.rs (the boundary tests). A
// mismatch would make the shell call one operation and the engine run another, so
// the copies are checked against the source here (run by scripts/lint).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

const ROOT = path.resolve(import.meta.dirname, "..");
const read = (file) => readFileSync(path.join(ROOT, file), "utf8");

/** NAME -> number for every `const NAME: u32 = N;` / `export const NAME = N;` in `text`. */
function constants(text, pattern) {
  const table = new Map();
  for (const [, name, value] of text.matchAll(pattern)) {
    assert.ok(!table.has(name), `${name} is defined twice`);
    table.set(name, Number(value));
  }
  return table;
}

const rustModule = read("src/web/engine.rs").match(/mod op \{([\s\S]*?)\n\}/);
assert.ok(rustModule, "src/web/engine.rs has a `mod op { ... }` block");
const source = constants(rustModule[1], /pub const (\w+): u32 = (\d+);/g);
// js/ops.js ends with the account sub-operations (their own numbering): the ops are
// the constants before that comment.
const [jsOps] = read("js/ops.js").split("// ACCOUNT's");
const shell = constants(jsOps, /export const (\w+) = (\d+);/g);
const boundaryTests = constants(read("tests/engine_wasm.rs"), /^const (\w+): u32 = (\d+);/gm);

test("the Rust op table is dense and has no duplicate numbers", () => {
  const numbers = [...source.values()].sort((a, b) => a - b);
  assert.ok(numbers.length > 40);
  assert.deepEqual(numbers, numbers.map((_, i) => i));
});

test("js/ops.js is exactly the Rust op table", () => {
  assert.deepEqual(Object.fromEntries(shell), Object.fromEntries(source));
});

test("tests/engine_wasm.rs uses the Rust numbers", () => {
  assert.ok(boundaryTests.size > 0);
  for (const [name, value] of boundaryTests) assert.equal(value, source.get(name), name);
});
