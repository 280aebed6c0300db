// scripts/lib/panic-data.mjs (scripts/build's step before memory-packing) over small
// modules assembled by binaryen's wasm-as: std's panic texts are zeroed and nothing else
// is; the digit table is refused when code reads inside it; the check finds what is left.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { addressesNamed, panicDataIn, zeroPanicData } from "../../scripts/lib/panic-data.mjs";

const root = mkdtempSync(path.join(os.tmpdir(), "panic-data-"));
after(() => rmSync(root, { recursive: true, force: true }));
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../node_modules/.bin");
process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;

const PATH_TEXT = "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/alloc/src/raw_vec/mod.rs";
const DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0")).join("");
const MESSAGE = "Not signed in";

/** A module whose data at 1024 holds a message of ours, std's panic texts and the digit
 * table, and whose one function runs `body` (WAT). Returns its file. */
function module(name, body) {
  const data = `${MESSAGE}\0${PATH_TEXT}memory allocation of \0 bytes failed\0capacity overflow\0${DIGITS}`;
  const wat = `(module (memory 1) (data (i32.const 1024) "${data.replaceAll("\0", "\\00")}")
    (func (export "f") (result i32) ${body}))`;
  const watFile = path.join(root, `${name}.wat`);
  const wasmFile = path.join(root, `${name}.wasm`);
  writeFileSync(watFile, wat);
  const as = spawnSync("wasm-as", [watFile, "-o", wasmFile], { encoding: "utf8" });
  assert.equal(as.status, 0, as.stderr);
  return wasmFile;
}

const digitsAt = 1024 + `${MESSAGE}\0${PATH_TEXT}memory allocation of \0 bytes failed\0capacity overflow\0`.length;

test("std's panic texts and the unread digit table are zeroed, our own texts kept", () => {
  const file = module("unread", "(i32.load8_u (i32.const 1024))");
  const wasm = readFileSync(file);
  assert.equal(panicDataIn(wasm).length, 5);
  const zeroed = zeroPanicData(wasm, () => addressesNamed(file));
  assert.deepEqual(zeroed.map((line) => line.replace(/ \(.*/, "")), [
    "std's source paths",
    "alloc's out-of-memory message",
    "alloc's out-of-memory message",
    "alloc's capacity overflow",
    "core's digit table",
  ]);
  const text = wasm.toString("latin1");
  assert.ok(text.includes(`${MESSAGE}\0`), "our message is kept");
  for (const gone of ["/rustc/", "memory allocation", "bytes failed", "capacity overflow", "000102"]) {
    assert.ok(!text.includes(gone), `${gone} is zeroed`);
  }
  assert.deepEqual(panicDataIn(wasm), []);
  // Still a valid module of the same size: addresses are kept.
  assert.equal(wasm.length, readFileSync(file).length);
  assert.ok(new WebAssembly.Module(wasm));
});

test("the digit table is refused, and nothing zeroed in it, when code reads inside it", () => {
  for (const [name, body] of [
    ["const", `(i32.load16_u (i32.const ${digitsAt + 20}))`],
    ["offset", `(i32.load16_u offset=${digitsAt} (i32.const 0))`],
  ]) {
    const file = module(name, body);
    const wasm = readFileSync(file);
    assert.throws(() => zeroPanicData(wasm, () => addressesNamed(file)), /digit table.*core::fmt/);
    assert.ok(wasm.toString("latin1").includes(DIGITS), `${name}: the table is intact`);
  }
});

test("a module without std's texts is left as it was", () => {
  const wasm = Buffer.from(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  assert.deepEqual(zeroPanicData(wasm, () => assert.fail("no data, nothing to look up")), []);
  assert.deepEqual(panicDataIn(wasm), []);
});
