// The access tokens this app's Better Auth issues for the FastAPI backend. They are
// signed with a key derived from BETTER_AUTH_SECRET for access tokens only (HKDF-SHA256,
// the label below; backend/security.py derives the same), never with the raw secret,
// which Better Auth also signs its own JWTs with (email verification): so no other JWT
// can pass as an access token (RFC 8725 3.11/3.12). `typ: at+jwt` is RFC 9068's.
// Server-only.
import { hkdfSync } from "node:crypto";
import { SignJWT, type JWTPayload } from "jose";

/** HKDF "info"; must equal the backend's ACCESS_KEY_LABEL. */
export const ACCESS_KEY_LABEL = "auth-wasm access token v1";
/** The backend's default JWT_AUDIENCE: the API these tokens are for. */
export const DEFAULT_AUDIENCE = "urn:auth-wasm:api";

/** The HS256 key: HKDF-SHA256(secret, empty salt, label), 32 bytes. JWT_RAW_SECRET=1
 * (the seed's setup; the backend must say the same) signs with the raw secret. */
export function accessTokenKey(secret: string, raw = process.env.JWT_RAW_SECRET === "1"): Uint8Array {
  if (raw) return new TextEncoder().encode(secret);
  return new Uint8Array(hkdfSync("sha256", secret, new Uint8Array(0), ACCESS_KEY_LABEL, 32));
}

export function signAccessToken(payload: JWTPayload, key: Uint8Array): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "at+jwt" }).sign(key);
}
