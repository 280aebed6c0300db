// Social sign-in's browser side: the PKCE verifier and state (crypto.getRandomValues),
// the S256 challenge (SubtleCrypto), and the pending sign-in kept in sessionStorage
// across the redirect (per tab, as the verifier must be). The engine decides the rest
// (src/core/social.rs).
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

// The pending sign-in of this tab, in sessionStorage (it must survive the redirect),
// under `${storageKey}:social` (the client names it, as it names the session's key).

/** @param {string} name `${storageKey}:social` @param {string} value */
export function savePending(name, value) {
  try {
    sessionStorage.setItem(name, value);
  } catch {
    throw authError("storage", "Social sign-in needs sessionStorage");
  }
}

/** The pending sign-in, removed: a callback is handled once. None (null, or undefined
 * where sessionStorage throws) is passed to the engine as it is.
 * @param {string} name `${storageKey}:social` */
export function takePending(name) {
  try {
    const value = sessionStorage.getItem(name);
    sessionStorage.removeItem(name);
    return value;
  } catch {}
}
