// The declarations wasm-bindgen generates into pkg/auth_wasm.d.ts (src/web/engine.rs,
// src/web/functions.rs, and the web target's loaders), for checking js/ before any build. The build's own file is
// the one shipped; scripts/test-wasm type-checks the built package against index.d.ts.

/** core::engine behind one call over a handle (js/engine.js is its one caller): the
 * engine `handle` names (CONFIGURE answers a new one; FREE frees it), `op`, a count `n`,
 * numbers `x`, `y`, strings `a`..`d` ("" = absent), the first `la`..`ld` bytes of the
 * input buffer. Answers the address of two u32s: the address and length of the answer's
 * UTF-8, kept until the next call; INPUT answers the address of at least `n` bytes for
 * the next call's strings; SCRATCH the token buffer's address (`n` = 0) or its length in
 * bytes; DECODE_JWT decodes the token of `n` bytes in that buffer (the payload's JSON text
 * left at its start and its length, or the AuthError's JSON there and -1 - its length, an
 * i32 read back with `| 0`); IS_EXPIRED answers 1 when that token is expired at `y` (ms)
 * allowing `x` seconds (NaN: none), else 0. An argument left out is 0 (NaN for `x`, `y`):
 * FREE, INPUT, SCRATCH and DECODE_JWT read none of the rest. */
export function engineCall(handle: number, op: number, n?: number, x?: number, y?: number, la?: number, lb?: number, lc?: number, ld?: number): number;

/** The wasm's memory: added to the glue by scripts/lib/finish-package.mjs (the export
 * read in JS, not a wasm function). */
export function engineMemory(): WebAssembly.Memory;

/** wasm-bindgen's async loader (web target), used by the ./slim entry's init(). */
export default function init(options: {
  module_or_path: string | URL | Request | Response | BufferSource | WebAssembly.Module;
}): Promise<unknown>;

/** Instantiates the compiled engine once (scripts/lib/glue.mjs, in place of wasm-bindgen's
 * initSync): engine-url.js and the generated engine-inline.js. */
export function instantiate(module: WebAssembly.Module): void;
