// decodeJwt and isExpired: the wasm judges the token; a malformed token throws an AuthError.
// A token crosses through a buffer in the wasm's memory (src/web/functions.rs): its UTF-8
// is written there, the engine checks it in place and leaves the payload's own JSON text
// (or the error's) at the buffer's start, and JSON.parse reads that text.
import { decodeJwtScratch, engineMemory, isExpiredScratch, jwtScratch, jwtScratchLength } from "./auth_wasm.js";
import { errorFromText } from "./auth-error.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let view = new Uint8Array(0);

/** The buffer's bytes; made again after the wasm's memory grew (the old view is then empty). */
function scratch() {
  if (view.byteLength === 0) view = new Uint8Array(/** @type {WebAssembly.Memory} */ (engineMemory()).buffer, jwtScratch(), jwtScratchLength());
  return view;
}

/** Writes `token` into the buffer: its length in bytes, or one more than fits (refused).
 * @param {string} token */
function put(token) {
  const { read, written } = encoder.encodeInto(token, scratch());
  return read < token.length ? view.length + 1 : written;
}

/** @param {string} token
 * @returns {import("./index.js").JwtClaims} */
export function decodeJwt(token) {
  const answer = decodeJwtScratch(put(String(token)));
  const text = decoder.decode(scratch().subarray(0, answer < 0 ? -1 - answer : answer));
  if (answer < 0) throw errorFromText(text);
  return JSON.parse(text);
}

/** @param {string} token
 * @param {number | null} [leeway] */
export function isExpired(token, leeway) {
  return isExpiredScratch(put(String(token)), leeway ?? undefined);
}
