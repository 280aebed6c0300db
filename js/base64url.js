// base64url without padding (RFC 4648 section 5): the PKCE verifier and challenge
// (social.js), WebAuthn's binary fields (passkeys.js) and DPoP proofs (dpop.js).

/** @param {ArrayBuffer | ArrayBufferView} data */
export function toBase64url(data) {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
