// The engine's op table has one source, src/web/engine.rs (`mod op`), and two copies:
// js/engine.js (the facade, the only JS that calls the wasm: `this.#call(N /* NAME */` or
// `call(client, N /* NAME */` at each use) and tests/engine_wasm.rs (the boundary tests). A mismatch would make the shell call one operation and the
// engine run another, so this fails when a copy differs (run by scripts/lint).
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

const ROOT = path.resolve(import.meta.dirname, "..");
const read = (file) => readFileSync(path.join(ROOT, file), "utf8");

/** NAME -> number for every `const NAME: u32 = N;` in `text`. */
function constants(text, pattern) {
  const table = new Map();
  for (const [, name, value] of text.matchAll(pattern)) {
    assert.ok(!table.has(name), `${name} is defined twice`);
    table.set(name, Number(value));
  }
  return table;
}

/** NAME -> number for every `this.#call(N /\* NAME *\/` (a method) and `call(client, N
 * /\* NAME *\/` (a function) in js/engine.js, and the direct `engineCall(x, N /\* NAME *\/`
 * (FREE once an engine is collected, INPUT before each call); an op may be called from more
 * than one place, always with the same number. */
function facadeOps(text) {
  const table = new Map();
  for (const [, value, name] of text.matchAll(/(?:this\.#call\(|\bcall\(client, |engineCall\(\w+, )(\d+) \/\* (\w+) \*\//g)) {
    assert.ok(!table.has(name) || table.get(name) === Number(value), `${name} is called as two numbers`);
    table.set(name, Number(value));
  }
  return table;
}

const rustModule = read("src/web/engine.rs").match(/mod op \{([\s\S]*?)\n\}/);
assert.ok(rustModule, "src/web/engine.rs has a `mod op { ... }` block");
const source = constants(rustModule[1], /pub const (\w+): u32 = (\d+);/g);
const facadeText = read("js/engine.js");
const facade = facadeOps(facadeText);
const boundaryTests = constants(read("tests/engine_wasm.rs"), /^const (\w+): u32 = (\d+);/gm);

test("the Rust op table is dense and has no duplicate numbers", () => {
  const numbers = [...source.values()].sort((a, b) => a - b);
  assert.ok(numbers.length > 30);
  assert.deepEqual(numbers, numbers.map((_, i) => i));
});

test("js/engine.js calls every op of the Rust table, by its number", () => {
  assert.deepEqual(Object.fromEntries([...facade].sort()), Object.fromEntries([...source].sort()));
  // No op called without its name: each call names the number it sends.
  const calls = (/** @type {string} */ after) => [...facadeText.matchAll(new RegExp(`(?:this\\.#call\\(|\\bcall\\(client, )${after}`, "g"))].length;
  assert.equal(calls(""), calls("\\d+ /\\* \\w+ \\*/"));
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
