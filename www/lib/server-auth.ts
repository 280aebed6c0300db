// The signed-in user on this app's server (auth-wasm/next): read from the access token
// the browser mirrors into an HttpOnly cookie (components/Providers.tsx). With the shared
// BETTER_AUTH_SECRET (the seed's setup) tokens are verified here, with no backend call;
// without it, the backend's /auth/me decides. Server-only.
import { createNextAuth, type NextAuth } from "auth-wasm/next";
import { DEFAULT_AUDIENCE } from "./access-token";
import { BACKEND_URL } from "./config";

/** The backend's default JWT_ISSUERS: the issuer of the tokens FastAPI signs. */
const BACKEND_ISSUER = "urn:auth-wasm:backend";

let instance: NextAuth | null = null;

/** Built on first use, not at import: `next build` evaluates modules, and the secret
 * and mode are runtime settings. */
export function serverAuth(): NextAuth {
  instance ??= createNextAuth({
    // With Better Auth's JWKS (EdDSA) there is no shared key to verify with: the backend's
    // /auth/me decides.
    secret: process.env.AUTH_MODE === "better-auth-jwks" ? undefined : process.env.BETTER_AUTH_SECRET || undefined,
    rawSecret: process.env.JWT_RAW_SECRET === "1",
    // Better Auth in this app signs with its own URL as the issuer; FastAPI with its own.
    issuer: process.env.AUTH_MODE?.startsWith("better-auth") ? (process.env.BETTER_AUTH_URL ?? "http://localhost:3000") : (process.env.JWT_ISSUERS?.split(",") ?? BACKEND_ISSUER),
    audience: process.env.JWT_AUDIENCE || DEFAULT_AUDIENCE,
    apiUrl: BACKEND_URL,
  });
  return instance;
}

/** The pages the proxy keeps from the signed-out (and everything below them). */
export const PROTECTED_PATHS = ["/dashboard", "/notes", "/sessions", "/security"];
