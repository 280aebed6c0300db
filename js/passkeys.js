// Passkeys' browser side: navigator.credentials and the one place where WebAuthn's
// binary fields become base64url text and back. The engine reads the backend's
// options and checks and sends the credential (src/core/passkey.rs); this module only
// performs the ceremony and says in AuthError terms how it ended.
import { authError } from "./auth-error.js";
import { toBase64url } from "./base64url.js";

/** @param {string} text base64url, padded or not (atob's forgiving decode takes either);
 * anything else (a missing field) is refused as `.replace` throws. The bytes as a
 * Uint8Array: WebAuthn takes any BufferSource. */
export function fromBase64url(text) {
  try {
    return Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  } catch {
    throw authError("invalid_response", "Invalid passkey options");
  }
}

/** Refuses (AuthError `config`) where this browser has no WebAuthn at all (a secure
 * context with PublicKeyCredential; navigator.credentials is there wherever it is, both
 * being secure contexts' only): every passkey method asks this first. */
export function requirePasskeys() {
  if (!globalThis.PublicKeyCredential) {
    throw authError("config", "Passkeys need WebAuthn (https or localhost)");
  }
}

/** One ceremony: navigator.credentials.create (`create`) or .get with the ceremony's
 * options (their base64url fields decoded here); `conditional` (get only): the passkeys
 * wait in the autofill of a field with `autocomplete="... webauthn"` until the person
 * picks one. The credential as WebAuthn's JSON (the attestation's or the assertion's
 * fields, whichever the response has). Its DOMExceptions as AuthErrors;
 * its callers (js/client.js) have refused a browser without WebAuthn already (requirePasskeys).
 * `signal`: the caller's as given (anything else than an AbortSignal fails the ceremony
 * as WebIDL refuses it: `aborted`).
 * @param {boolean} create @param {any} publicKey @param {AbortSignal | undefined} signal
 * @param {boolean} [conditional] */
export async function passkeyCeremony(create, publicKey, signal, conditional) {
  const list = create ? "excludeCredentials" : "allowCredentials";
  // `user` (create only) undefined for get: absent, as WebIDL reads dictionaries.
  const options = {
    ...publicKey,
    challenge: fromBase64url(publicKey.challenge),
    // The descriptors with their ids as bytes; none (undefined: absent, which WebAuthn reads
    // as its default, an empty list) when the options have no list (of the JSON's values
    // only an array has a `map`).
    [list]: publicKey[list]?.map?.((/** @type {any} */ d) => ({ ...d, id: fromBase64url(d.id) })),
    user: create ? { ...publicKey.user, id: fromBase64url(publicKey.user.id) } : undefined,
  };
  // An undefined member is absent (WebIDL dictionaries): the default mediation.
  /** @type {any} */
  const request = { publicKey: options, signal, mediation: conditional ? "conditional" : undefined };
  /** @type {any} */
  let credential;
  try {
    credential = await (create ? navigator.credentials.create(request) : navigator.credentials.get(request));
  } catch (err) {
    // Two DOMExceptions say what to fix; any other failure (cancelled, timed out, aborted
    // by the signal, did not complete) leaves no credential: `aborted` below.
    const name = /** @type {any} */ (err)?.name;
    if (name === "InvalidStateError") throw authError("validation", "This authenticator already holds a passkey for this account");
    if (name === "SecurityError" || name === "NotSupportedError") throw authError("config", "This page's domain is not WEBAUTHN_RP_ID or under it");
  }
  // No credential: failed as above, or none chosen (a get that answered null); a publicKey
  // request answers nothing but a PublicKeyCredential (its type "public-key").
  if (!credential) throw authError("aborted", "The passkey request was cancelled, timed out or failed");
  const { response } = credential;
  // `transports`: an attestation's (create) only; an assertion has no getTransports, so
  // undefined, which JSON.stringify leaves out (as it does where a browser lacks it).
  /** @type {Record<string, unknown>} */
  const fields = { transports: response.getTransports?.() };
  // An attestation has attestationObject; an assertion authenticatorData, signature and
  // userHandle (null when the authenticator kept none).
  for (const name of ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"]) {
    // One the response has not is undefined, which JSON.stringify leaves out; a null
    // (userHandle) stays null.
    fields[name] = response[name] && toBase64url(response[name]);
  }
  return JSON.stringify({
    id: credential.id,
    // `id` is rawId's base64url already (WebAuthn's PublicKeyCredential.id).
    rawId: credential.id,
    type: credential.type,
    response: fields,
    // null where unknown; a browser without the attribute leaves it out (optional in WebAuthn's JSON).
    authenticatorAttachment: credential.authenticatorAttachment,
    clientExtensionResults: credential.getClientExtensionResults(),
  });
}
