// The declarations wasm-bindgen generates into pkg/auth_wasm.d.ts (src/web/engine.rs,
// src/web/functions.rs, and the web target's loaders), for checking js/ before any build. The build's own file is
// the one shipped; scripts/test-wasm type-checks the built package against index.d.ts.

/** core::engine behind one call over a handle (js/engine.js is its one caller): `key`
 * is the engine's handle shifted left by 6 with the op in the low 6 bits (`handle << 6 |
 * op`; CONFIGURE answers a new handle, FREE frees it), a count `n`, numbers `x`, `y`, and
 * the strings `a`..`d` ("" = absent): the first `len` bytes of the input buffer, each
 * followed by a 255 byte. Answers the address of three u32s: the address and
 * length of the answer's UTF-8, kept until the next call, and its kind (0; 1: an
 * AuthError's JSON; 2: REPLY's next request's JSON); INPUT answers the address of at
 * least `n` bytes for the next call's strings; SCRATCH the token buffer's address (`n` =
 * 0) or its length in bytes; EXPIRED and DECODE judge the token of `n` bytes there
 * (js/ops.js). An argument left out is 0 (NaN for `x`, `y`): FREE, INPUT
 * and SCRATCH read none of the rest. */
export function engineCall(key: number, n?: number, x?: number, y?: number, len?: number): number;

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
