// The engine's op table has one source, src/web/engine.rs (`mod op`), and two copies:
// js/ops.js (named constants, which every JS call of an op uses: `call(this, op.STATUS)`,
// `this.#call(ERROR)`, `engineCall((handle << 6) | FREE)`) and tests/engine_wasm.rs (the boundary
// tests). A mismatch would make the shell call one operation and the engine run another,
// so this fails when a copy differs (run by scripts/lint).
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

const ROOT = path.resolve(import.meta.dirname, "..");
const read = (file) => readFileSync(path.join(ROOT, file), "utf8");

/** NAME -> number for every match of `pattern` (groups: name, number) in `text`. */
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
const facadeText = read("js/ops.js");
const facade = constants(facadeText, /^export const (\w+) = (\d+);$/gm);
const boundaryTests = constants(read("tests/engine_wasm.rs"), /^const (\w+): u32 = (\d+);/gm);

test("the Rust op table is dense and has no duplicate numbers", () => {
  const numbers = [...source.values()].sort((a, b) => a - b);
  assert.ok(numbers.length > 30);
  assert.deepEqual(numbers, numbers.map((_, i) => i));
});

test("js/ops.js names every op of the Rust table, by its number, and nothing else", () => {
  assert.deepEqual(Object.fromEntries([...facade].sort()), Object.fromEntries([...source].sort()));
  // Nothing but the table: a constant js/ops.js held that is no op would escape the check.
  assert.equal(facadeText.replace(/\/\*\*[\s\S]*?\*\/|^\/\/.*$/gm, "").replace(/^export const \w+ = \d+;$/gm, "").trim(), "");
});

test("every JS call of an op names it (no op by its number)", () => {
  for (const file of readdirSync(path.join(ROOT, "js")).filter((name) => name.endsWith(".js"))) {
    const text = read(path.join("js", file));
    assert.doesNotMatch(text, /(?:\bcall\(\w+, |#call\(|engineCall\()\d/, `${file} calls an op by its number`);
  }
});

test("tests/engine_wasm.rs uses the Rust numbers", () => {
  assert.ok(boundaryTests.size > 0);
  for (const [name, value] of boundaryTests) assert.equal(value, source.get(name), name);
});

test("only js/engine.js calls the wasm engine", () => {
  const js = path.join(ROOT, "js");
  for (const file of readdirSync(js).filter((name) => name.endsWith(".js") && name !== "engine.js")) {
    const text = read(path.join("js", file));
    assert.doesNotMatch(text, /import \{[^}]*\b(Engine|engineCall)\b[^}]*\} from "\.\/auth_wasm\.js"/, `${file} imports the wasm engine`);
    assert.doesNotMatch(text, /\.call\(\s*\d/, `${file} calls an engine op by number`);
  }
});
