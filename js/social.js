// Social sign-in's browser side: the PKCE verifier and state (crypto.getRandomValues),
// the S256 challenge (SubtleCrypto), the callback's address. The pending sign-in is kept
// in sessionStorage across the redirect (per tab, as the verifier must be) by js/client.js,
// where it is written and taken. The engine decides the rest (src/core/social.rs).
import { authError } from "./auth-error.js";
import { toBase64url as base64url } from "./base64url.js";
import { encoder } from "./engine.js";

/** `bytes` random bytes as base64url (32 bytes: a 43-character PKCE verifier). */
export const randomText = (/** @type {number} */ bytes) => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

/** RFC 7636 S256: base64url(SHA-256(verifier)). */
/** @param {string} verifier */
export async function challengeOf(verifier) {
  if (!globalThis.crypto?.subtle) throw authError("config", "Social sign-in needs https or localhost");
  return base64url(await crypto.subtle.digest("SHA-256", encoder.encode(verifier)));
}

/** Where a callback arrived (or must arrive): the URL's origin and path as the URL
 * parser normalises them (the browser's address bar does the same), without query or
 * fragment; "" when it cannot parse `href`.
 * @param {string} href */
export function arrivalOf(href) {
  try {
    const url = new URL(href);
    return url.origin + url.pathname;
  } catch {
    return "";
  }
}
