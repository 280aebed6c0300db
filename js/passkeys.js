// Passkeys' browser side: navigator.credentials and the one place where WebAuthn's
// binary fields become base64url text and back. The engine reads the backend's
// options and checks and sends the credential (src/core/passkey.rs); this module only
// performs the ceremony and says in AuthError terms how it ended.
import { authError } from "./auth-error.js";
import { toBase64url } from "./base64url.js";

/** @param {string} text base64url, padded or not */
export function fromBase64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  let binary;
  try {
    binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  } catch {
    throw authError("invalid_response", "The passkey options are not what the backend sends");
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
}

/** Whether this browser has WebAuthn at all (a secure context with PublicKeyCredential). */
export function passkeysSupported() {
  return typeof PublicKeyCredential === "function" && typeof navigator !== "undefined" && !!navigator.credentials;
}

/** The rejection of a passkey method where passkeysSupported() is false. */
export const noPasskeys = () => authError("config", "This browser has no passkeys (WebAuthn needs https or localhost)");

/** Whether it offers passkeys in the autofill of a field (conditional mediation). */
export async function autofillSupported() {
  if (!passkeysSupported()) return false;
  const probe = /** @type {any} */ (PublicKeyCredential).isConditionalMediationAvailable;
  try {
    return typeof probe === "function" && (await probe.call(PublicKeyCredential)) === true;
  } catch {
    return false;
  }
}

/** Credential descriptors with their ids as bytes; none when the options have none.
 * @param {any[] | undefined} list */
const descriptors = (list) => (Array.isArray(list) ? list.map((d) => ({ ...d, id: fromBase64url(String(d.id)) })) : []);

/** navigator.credentials.create with the ceremony's options (base64url
 * fields decoded here); the new credential as JSON. */
export async function createCredential(/** @type {any} */ publicKey, /** @type {AbortSignal | undefined} */ signal) {
  const options = {
    ...publicKey,
    challenge: fromBase64url(publicKey.challenge),
    user: { ...publicKey.user, id: fromBase64url(publicKey.user.id) },
    excludeCredentials: descriptors(publicKey.excludeCredentials),
  };
  const credential = await ceremony(() => navigator.credentials.create({ publicKey: options, signal }));
  const response = /** @type {AuthenticatorAttestationResponse} */ (credential.response);
  return credentialJSON(credential, {
    clientDataJSON: toBase64url(response.clientDataJSON),
    attestationObject: toBase64url(response.attestationObject),
    transports: typeof response.getTransports === "function" ? response.getTransports() : [],
  });
}

/** navigator.credentials.get with the ceremony's options; `conditional`:
 * the passkeys wait in the autofill of a field with `autocomplete="... webauthn"`
 * until the person picks one. The assertion as JSON. */
export async function getCredential(/** @type {any} */ publicKey, /** @type {boolean} */ conditional, /** @type {AbortSignal | undefined} */ signal) {
  const options = { ...publicKey, challenge: fromBase64url(publicKey.challenge), allowCredentials: descriptors(publicKey.allowCredentials) };
  /** @type {CredentialRequestOptions} */
  const request = { publicKey: options, signal };
  if (conditional) request.mediation = "conditional";
  const credential = await ceremony(() => navigator.credentials.get(request));
  const response = /** @type {AuthenticatorAssertionResponse} */ (credential.response);
  return credentialJSON(credential, {
    clientDataJSON: toBase64url(response.clientDataJSON),
    authenticatorData: toBase64url(response.authenticatorData),
    signature: toBase64url(response.signature),
    userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
  });
}

/** @param {PublicKeyCredential} credential @param {Record<string, unknown>} response */
function credentialJSON(credential, response) {
  return JSON.stringify({
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response,
    authenticatorAttachment: credential.authenticatorAttachment ?? null,
    clientExtensionResults: credential.getClientExtensionResults(),
  });
}

/** Run a ceremony; its DOMExceptions as AuthErrors: the person cancelled or it timed
 * out or was aborted (`aborted`), the authenticator already holds a passkey of this
 * account (`validation`), the page may not use this RP ID or WebAuthn at all (`config`).
 * Its callers (js/client.js) have refused a browser without WebAuthn already (noPasskeys).
 * @param {() => Promise<Credential | null>} start */
async function ceremony(start) {
  let credential;
  try {
    credential = await start();
  } catch (err) {
    throw ceremonyError(err);
  }
  if (!credential || /** @type {PublicKeyCredential} */ (credential).type !== "public-key") throw authError("aborted", "No passkey was chosen");
  return /** @type {PublicKeyCredential} */ (credential);
}

/** @param {any} err */
export function ceremonyError(err) {
  switch (err?.name) {
    case "NotAllowedError":
    case "AbortError":
      return authError("aborted", "The passkey request was cancelled or timed out");
    case "InvalidStateError":
      return authError("validation", "This authenticator already holds a passkey for this account");
    case "SecurityError":
    case "NotSupportedError":
      return authError("config", "Passkeys are not allowed on this page (its domain must be WEBAUTHN_RP_ID or under it)");
    default:
      return authError("aborted", "The passkey request did not complete");
  }
}
