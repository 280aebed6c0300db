// base64url without padding (RFC 4648 section 5): the PKCE verifier and challenge
// (social.js), WebAuthn's binary fields (passkeys.js) and DPoP proofs (dpop.js).
// Its callers pass ArrayBuffers (digests, WebAuthn's fields) and Uint8Arrays only.

/** @param {ArrayBuffer | Uint8Array} data */
export function toBase64url(data) {
  // One call with a byte per argument: the largest input (an attestation object, a few
  // KB) is far below the engines' argument limits (65,536 in WebKit).
  return btoa(String.fromCharCode(...new Uint8Array(data))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=/g, "");
}
