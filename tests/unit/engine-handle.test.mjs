// js/engine.js over a stand-in for the wasm (its exports as auth_wasm.js names them):
// the facade keeps the handle CONFIGURE answers and passes it on every call, frees it
// (FREE) once its Engine is collected, and turns a refused handle and a trap into an
// AuthError, never the wasm's RuntimeError. The real wasm's side of handles is
// tests/engine_wasm.rs (`engines_are_named_by_handles_and_freed`). Run by scripts/lint.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const ROOT = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "engine-handle-"));
after(() => rmSync(dir, { recursive: true, force: true }));
for (const file of ["engine.js", "ops.js", "auth-error.js"]) copyFileSync(path.join(ROOT, "js", file), path.join(dir, file));
// The stand-in: the input buffer is at 4096 (INPUT); answers are written at 2048 and their
// [address, length] at 1024, as the engine keeps its answer; what each other call got is recorded; `globalThis.wasmAnswer` says
// what the next call answers (a function: it may throw, as a trap does).
writeFileSync(
  path.join(dir, "auth_wasm.js"),
  `const memory = new WebAssembly.Memory({ initial: 1 });
export const calls = [];
export const engineMemory = () => memory;
export function engineCall(handle, op) {
  if (op === 40 /* INPUT */) return 4096;
  calls.push([handle, op]);
  const bytes = new TextEncoder().encode(globalThis.wasmAnswer(handle, op));
  new Uint8Array(memory.buffer).set(bytes, 2048);
  new DataView(memory.buffer).setUint32(1024, 2048, true);
  new DataView(memory.buffer).setUint32(1028, bytes.length, true);
  return 1024;
}
`,
);
const { engineOf, STATUS, call } = await import(path.join(dir, "engine.js"));
// The ops take the client: anything holding the engine (the function engineOf makes) as `engine`.
const status = (/** @type {any} */ engine) => call({ engine }, STATUS);
const { calls } = await import(path.join(dir, "auth_wasm.js"));
const { AuthError } = await import(path.join(dir, "auth-error.js"));

/** @param {(handle: number, op: number) => string} answer */
const answering = (answer) => {
  /** @type {any} */ (globalThis).wasmAnswer = answer;
};
const configured = () => {
  answering((_, op) => (op === 0 ? "7" : op === 5 ? "anonymous" : ""));
  return engineOf("{}", () => {});
};

test("CONFIGURE's answer is the handle every later call passes", () => {
  calls.length = 0;
  const engine = configured();
  assert.equal(status(engine), "anonymous");
  assert.deepEqual(calls.slice(-1), [[7, 5]]);
});

test("a refused handle is an AuthError (config), and the failure is told", () => {
  let told = 0;
  answering((_, op) => (op === 0 ? "7" : ""));
  const engine = engineOf("{}", () => told++);
  answering(() => '!{"code":"config","message":"The client is not configured"}');
  assert.throws(() => status(engine), (err) => err instanceof AuthError && err.code === "config" && err.message === "The client is not configured");
  assert.equal(told, 1);
});

test("a trap is an AuthError (config), not the wasm's RuntimeError", () => {
  const engine = configured();
  answering(() => {
    throw new WebAssembly.RuntimeError("unreachable");
  });
  assert.throws(() => status(engine), (err) => err instanceof AuthError && err.code === "config" && /engine failed \(RuntimeError: unreachable\)/.test(err.message));
  // The constructor's CONFIGURE too.
  assert.throws(() => engineOf("{}", () => {}), (err) => err instanceof AuthError && err.code === "config");
});

test("an Engine's handle is freed (FREE) once the Engine is collected", async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc");
  calls.length = 0;
  answering((_, op) => (op === 0 ? "9" : ""));
  (() => engineOf("{}", () => {}))();
  const freed = () => calls.filter(([handle]) => handle === 9);
  for (let round = 0; round < 100 && freed().length === 0; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // Its CONFIGURE passed no handle yet (the wasm reads 0), then FREE once, with its own.
  assert.deepEqual(calls[0], [undefined, 0]);
  assert.deepEqual(freed(), [[9, 39]]);
});
