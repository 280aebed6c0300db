// decodeJwt and isExpired: the wasm judges the token; a malformed token throws an AuthError.
// Fast path (src/web/functions.rs): the token's UTF-8 is written straight into a buffer
// in the wasm's memory, the engine decodes and checks it there and leaves the payload's
// own JSON text in place, and JSON.parse reads that text. A token the engine refuses (or
// one longer than the buffer) goes the slow way, which says why.
import {
  decodeJwtScratch,
  decodeJwtText,
  engineMemory,
  isExpiredScratch,
  jwtScratch,
  jwtScratchLength,
} from "./auth_wasm.js";
import { errorFromText } from "./auth-error.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let view = new Uint8Array(0);

/** The buffer's bytes; made again when the wasm's memory grew (which detaches the old view). */
function scratch() {
  if (view.byteLength === 0) view = new Uint8Array(/** @type {WebAssembly.Memory} */ (engineMemory()).buffer, jwtScratch(), jwtScratchLength());
  return view;
}

/** Writes `token` into the buffer: its length in bytes, or -1 when it does not fit. */
function put(token) {
  const { read, written } = encoder.encodeInto(token, scratch());
  return read === token.length ? written : -1;
}

/** @param {string} token
 * @returns {import("./index.js").JwtClaims} */
export function decodeJwt(token) {
  token = String(token);
  const length = put(token);
  const payload = length < 0 ? -1 : decodeJwtScratch(length);
  if (payload >= 0) return JSON.parse(decoder.decode(scratch().subarray(0, payload)));
  const text = decodeJwtText(token);
  if (text[0] === "!") throw errorFromText(text.slice(1));
  return JSON.parse(text);
}

/** @param {string} token
 * @param {number | null} [leeway] */
export function isExpired(token, leeway) {
  token = String(token);
  const length = put(token);
  return length < 0 || isExpiredScratch(length, leeway ?? undefined);
}
