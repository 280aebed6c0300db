// base64url without padding (RFC 4648 section 5): the PKCE verifier and challenge
// (social.js), WebAuthn's binary fields (passkeys.js) and DPoP proofs (dpop.js).
// Its callers pass ArrayBuffers (digests, WebAuthn's fields) and Uint8Arrays only.

/** @param {ArrayBuffer | Uint8Array} data */
export function toBase64url(data) {
  let binary = "";
  for (const b of new Uint8Array(data)) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=/g, "");
}
