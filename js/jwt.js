// decodeJwt and isExpired: the engine judges the token (js/engine.js `decodeToken`,
// `tokenExpired`); a malformed token throws an AuthError.
import { decodeToken, tokenExpired } from "./engine.js";

/** @param {string} token
 * @returns {import("./index.js").JwtClaims} */
export function decodeJwt(token) {
  return decodeToken(String(token));
}

/** @param {string} token
 * @param {number | null} [leeway] */
export function isExpired(token, leeway) {
  return tokenExpired(String(token), leeway ?? undefined);
}
