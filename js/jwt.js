// decodeJwt and isExpired: the wasm decodes; a malformed token throws an AuthError.
import { decodeJwtText, isExpired as expired } from "./auth_wasm.js";
import { errorFromText } from "./auth-error.js";

/** @param {string} token
 * @returns {import("./index.js").JwtClaims} */
export function decodeJwt(token) {
  const text = decodeJwtText(String(token));
  if (text[0] === "!") throw errorFromText(text.slice(1));
  return JSON.parse(text);
}

/** @param {string} token
 * @param {number | null} [leeway] */
export function isExpired(token, leeway) {
  return expired(String(token), leeway ?? undefined);
}
