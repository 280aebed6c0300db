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
// [address, length, kind] at 1024, as the engine keeps its answer; what each other call got is recorded; `globalThis.wasmAnswer` says
// what the next call answers (a function: it may throw, as a trap does): a text starting
// with "!" is a failure (kind 1) and one with ">" REPLY's next request (kind 2), the
// mark not written.
writeFileSync(
  path.join(dir, "auth_wasm.js"),
  `const memory = new WebAssembly.Memory({ initial: 1 });
export const calls = [];
export const inputAsks = [];
export const lengths = [];
export const engineMemory = () => memory;
export function engineCall(key, n, x, y, len) {
  // The handle and the op as js/engine.js passes them: one number, \`handle << 6 | op\`.
  const [handle, op] = [key >> 6, key & 63];
  if (op === 40 /* INPUT */) {
    inputAsks.push(n);
    return 4096;
  }
  calls.push([handle, op]);
  lengths.push(len);
  const answer = globalThis.wasmAnswer(handle, op);
  const kind = answer[0] === "!" ? 1 : answer[0] === ">" ? 2 : 0;
  const bytes = new TextEncoder().encode(kind ? answer.slice(1) : answer);
  new Uint8Array(memory.buffer).set(bytes, 2048);
  new DataView(memory.buffer).setUint32(1024, 2048, true);
  new DataView(memory.buffer).setUint32(1028, bytes.length, true);
  new DataView(memory.buffer).setUint32(1032, kind, true);
  return 1024;
}
`,
);
const { engineOf, STATUS, REPLY, call, reply } = await import(path.join(dir, "engine.js"));
// The ops take the client: anything holding the engine (the function engineOf makes) as `engine`.
const status = (/** @type {any} */ engine) => call({ engine }, STATUS);
const { calls, inputAsks, lengths, engineMemory } = await import(path.join(dir, "auth_wasm.js"));
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

test("the kept answer's kind: a failure is thrown, REPLY's next request answered parsed, any other text as it is", () => {
  let told = 0;
  answering((_, op) => (op === 0 ? "7" : ""));
  const engine = engineOf("{}", () => told++);
  const client = { engine };
  // The text of a failure or a request is all JSON: no mark before it (the kind says).
  answering(() => '{"code":"network","message":"!"}');
  assert.equal(call(client, STATUS), '{"code":"network","message":"!"}');
  answering(() => '>{"id":2,"method":"POST","url":"http://x.test/t"}');
  assert.deepEqual(reply(client, [200, "{}"]), { id: 2, method: "POST", url: "http://x.test/t" });
  assert.deepEqual(calls.at(-1), [7, REPLY]);
  answering(() => '{"id":"u1"}');
  assert.equal(reply(client, [200, "{}"]), '{"id":"u1"}');
  answering(() => '!{"code":"server","message":">"}');
  assert.throws(() => reply(client, [502, ""]), (err) => err instanceof AuthError && err.code === "server" && err.message === ">");
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
  // Its CONFIGURE passed no handle yet (0 in the key), then FREE once, with its own.
  assert.deepEqual(calls[0], [0, 0]);
  assert.deepEqual(freed(), [[9, 39]]);
});

test("the strings cross as their text (a falsy one as none), within the input asked for", () => {
  const engine = configured();
  inputAsks.length = 0;
  // As a public method passes what it was given: a number's text, none for undefined or null.
  engine(5, undefined, 42, "é€😀", null);
  // Each string's UTF-8 followed by 255, a byte UTF-8 never has: 0 + 3 + 10 + 1 + 1 + 1
  // bytes (the fifth, SOCIAL_START's password, absent).
  const expected = [255, ...new TextEncoder().encode("42"), 255, ...new TextEncoder().encode("é€😀"), 255, 255, 255];
  assert.equal(lengths.at(-1), expected.length);
  assert.deepEqual([...new Uint8Array(engineMemory().buffer, 4096, expected.length)], expected);
  // Asked once, for at least the bytes written.
  assert.equal(inputAsks.length, 1);
  assert.ok(inputAsks[0] >= expected.length, String(inputAsks[0]));
  // The fifth text comes after `n` and `y` (linkWith's password), alone too; `false` (what
  // signInWith passes there) is none.
  engine(13, "", "", "", "", 1, 0, "pw€");
  const fifth = [255, 255, 255, 255, ...new TextEncoder().encode("pw€"), 255];
  assert.equal(lengths.at(-1), fifth.length);
  assert.deepEqual([...new Uint8Array(engineMemory().buffer, 4096, fifth.length)], fifth);
  engine(13, "acme", "", "", "", 0, 0, false);
  assert.equal(lengths.at(-1), 4 + 5);
});
