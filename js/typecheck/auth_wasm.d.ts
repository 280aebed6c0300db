// The declarations wasm-bindgen generates into pkg/auth_wasm.d.ts (src/web/engine.rs,
// src/web/functions.rs, and the web target's loaders), for checking js/ before any build. The build's own file is
// the one shipped; scripts/test-wasm type-checks the built package against index.d.ts.

/** core::engine behind one call (js/engine.js is its one caller): `op`, a count `n`,
 * numbers `x`, `y`, strings `a`..`d` ("" = absent). */
export class Engine {
  free(): void;
  constructor();
  call(op: number, n: number, x: number, y: number, a: string, b: string, c: string, d: string): string;
}

/** The claims of a JWT as JSON text; `!` and an AuthError as JSON when it is not a JWT. */
export function decodeJwtText(token: string): string;

/** Whether `token` is expired now, allowing `leeway` seconds (default 0). */
export function isExpired(token: string, leeway?: number | null): boolean;

/** wasm-bindgen's async loader (web target), used by the ./slim entry's init(). */
export default function init(options: {
  module_or_path: string | URL | Request | Response | BufferSource | WebAssembly.Module;
}): Promise<unknown>;

/** wasm-bindgen's synchronous loader, used by the generated engine-inline.js. */
export function initSync(options: { module: BufferSource | WebAssembly.Module }): unknown;
