// auth-wasm/next: server only (proxy/middleware on the Node runtime, Server Components,
// route handlers, server actions). Types are structural: no dependency on next's own.
import type { JwtClaims } from "./index.js";

export { safeReturnTo } from "./return-to.js";

export interface NextAuthOptions {
  /** The shared secret the backend signs access tokens with (BETTER_AUTH_SECRET): tokens
   * are verified here (HS256). Without it, `apiUrl` is required and the backend's `me`
   * decides (getSession and sessionRoute ask it; protect checks only shape and claims). */
  secret?: string;
  /** Sign with the raw secret (the seed's JWT_RAW_SECRET=1), not the HKDF-derived key;
   * the `typ: at+jwt` header is then not required. Default false. */
  rawSecret?: boolean;
  /** Accepted `iss` values (checked when given). */
  issuer?: string | readonly string[];
  /** Accepted `aud` values (checked when given). */
  audience?: string | readonly string[];
  /** The API's base URL: `me` and `fetch` go there, and the bearer only to its origin. */
  apiUrl?: string;
  /** The API's `me` path under apiUrl. Default "/auth/me". */
  mePath?: string;
  /** Default "auth-wasm-at". */
  cookieName?: string;
  /** Seconds the cookie outlives its token (the page then renders "unknown" and the
   * browser renews it, rather than a redirect to sign in). Default 3600. */
  cookieGrace?: number;
  /** Where `protect` sends the signed-out. Default "/signin". */
  signInPath?: string;
  /** The sign-in page's query parameter holding the return path. Default "returnTo". */
  returnParam?: string;
}

/** The user as the server knows it: `id` from `sub`, `email`/`name` from the claims,
 * or the backend's `me` answer when it was asked. */
export interface ServerUser {
  id: string;
  email?: string;
  name?: string;
  [field: string]: unknown;
}

export interface AuthenticatedSession {
  readonly status: "authenticated";
  readonly user: ServerUser;
  readonly claims: JwtClaims;
  /** The access token's `exp`, ms since epoch. */
  readonly expiresAt: number;
}

/** No cookie, a genuine token past its `exp` (server clock), or (without `secret`) a
 * backend that could not be asked: not "signed out". Render a state the browser
 * resolves: it refreshes, the cookie follows, router.refresh(). */
export interface UnknownSession {
  readonly status: "unknown";
  readonly reason: "missing" | "expired" | "unverified";
  readonly user: null;
  readonly claims: null;
  readonly expiresAt: null;
}

/** A forged, tampered or revoked token (or one for another issuer or audience). */
export interface SignedOutSession {
  readonly status: "signed_out";
  readonly user: null;
  readonly claims: null;
  readonly expiresAt: null;
}

export type ServerSession = AuthenticatedSession | UnknownSession | SignedOutSession;

export interface ProtectOptions {
  /** A string protects that path and everything below it; a RegExp is tested against the path. */
  paths: ReadonlyArray<string | RegExp>;
}

export interface SessionRouteHandlers {
  /** Body `{ accessToken }` from this origin's script: sets the HttpOnly cookie when the
   * token is a genuine, unexpired access token; 400 otherwise (a refresh token, a forged JWT). */
  POST(request: Request): Promise<Response>;
  /** Clears the cookie. */
  DELETE(request: Request): Promise<Response>;
}

export interface NextAuth {
  readonly cookieName: string;
  /** The session a token stands for; `network: false` never calls the backend. */
  readSession(token: string | null | undefined, how?: { network?: boolean }): Promise<ServerSession>;
  /** The session of the current request, from its cookie (uses next/headers' cookies()). */
  getSession(): Promise<ServerSession>;
  /** In proxy.ts: a 307 to the sign-in page (with a same-origin return path) for a
   * protected path without a valid, or genuine but expired, token; else undefined. */
  protect(request: Request, options: ProtectOptions): Promise<Response | undefined>;
  /** fetch to the API (a path under apiUrl, or a URL) with the cookie's token as bearer
   * (only to apiUrl's origin). No refresh on 401: that is the browser's job. */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  /** `export const { POST, DELETE } = auth.sessionRoute;` in the route the browser posts to. */
  readonly sessionRoute: SessionRouteHandlers;
}

/** The server side, configured once. Throws a TypeError without `secret` or `apiUrl`. */
export declare function createNextAuth(options?: NextAuthOptions): NextAuth;

/** Whether `path` is under one of `patterns` (see ProtectOptions). */
export declare function matchesPath(path: string, patterns: ReadonlyArray<string | RegExp>): boolean;
