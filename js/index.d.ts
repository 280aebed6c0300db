// The public types of auth-wasm (the API README.md documents), written by hand beside the
// JS shell they describe; tests/types/consumer.ts checks them with tsc --strict.
import type { AuthError, AuthErrorCode } from "./auth-error.js";
export { AuthError, isAuthError } from "./auth-error.js";
export type { AuthErrorCode };

// `Symbol.dispose` for consumers whose `lib` lacks esnext.disposable (declared as
// @types/node declares it, so it merges with that lib): AuthClient's
// [Symbol.dispose] then type-checks under any lib, and `using` works where it exists.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

export type AuthStatus = "anonymous" | "authenticated" | "expired" | "mfa_required";
/** Second factors the backend offers after a password sign-in. */
export type MfaMethod = "totp" | "recovery_code";
export type AuthEvent =
  | "signed_in"
  | "signed_out"
  | "token_refreshed"
  | "session_expired"
  | "user_updated"
  | "synced"
  | "storage_fallback"
  | "mfa_required";
export type AuthProtocol = "json" | "oauth2-password" | "better-auth";
export type AuthStorage = "local" | "session" | "memory";
export type AuthOperation =
  | "login"
  | "register"
  | "refresh"
  | "logout"
  | "me"
  | "mfa"
  | "sessions"
  | "social"
  | "verifyEmail"
  | "identities"
  | "passkeys";

export interface AuthConfig {
  /** Backend address; https required unless localhost / 127.0.0.1. */
  baseUrl: string;
  /** Default "json". */
  protocol?: AuthProtocol;
  /** Per-operation path (or absolute URL) overrides. */
  endpoints?: Partial<Record<AuthOperation, string>>;
  /** Default "local"; falls back to memory when unavailable. */
  storage?: AuthStorage;
  /** Key prefix in storage, default "auth-wasm". */
  storageKey?: string;
  /** Seconds before expiry to refresh (default 60, capped at half the token lifetime). */
  refreshMargin?: number;
  /** Clock leeway in seconds (default 30). */
  leeway?: number;
  /** Extra origins that may receive the bearer; baseUrl's origin always may. */
  allowedOrigins?: string[];
  /** Backoff of failed refreshes (network, 5xx): full jitter, ms. Defaults 1000 / 60000. */
  retry?: { baseDelay?: number; maxDelay?: number };
  /** Longest wait for another tab's refresh lock before going ahead, ms (default 10000). */
  lockTimeout?: number;
  /** Longest wait for the backend on the client's own requests (sign-in, refresh,
   * me, logout), ms (default 15000); then an AuthError `network`, nothing lost. */
  timeout?: number;
  /** "cookie": the backend keeps the refresh token in an httpOnly cookie
   * (REFRESH_TOKEN_TRANSPORT=cookie) that script never sees; pair it with
   * `storage: "memory"` and the access token lives only in memory. A new page
   * restores the session by a silent refresh. Protocol "json" only. Default "body". */
  refreshTransport?: "body" | "cookie";
  /** DPoP (RFC 9449): tokens bound to a P-256 key this browser cannot export (kept in
   * IndexedDB per storageKey, the same across tabs and reloads, a new one after
   * logout); every auth request and every `fetch` to an allowed origin carries a
   * fresh proof. Throws `config` at construction without IndexedDB or WebCrypto, and
   * the first sign-in rejects with `config` when no non-extractable key can be made:
   * never a silent fall back to bearer. Protocols "json" and "oauth2-password". */
  dpop?: boolean;
  /** Where a token server with other field names keeps the tokens, expiry and user in
   * its sign-in and refresh answers, and the field it takes the refresh token in
   * (docs/backends.md has recipes). Protocols "json" and "oauth2-password"; a bad path
   * is an AuthError `config` at construction. */
  fields?: AuthFields;
}

/** Member names joined by dots, e.g. "access" or "data.token" (no empty names, no
 * spaces, at most 8 names). */
export type FieldPath = string;

export interface AuthFields {
  /** The access token. Default "access_token". */
  accessToken?: FieldPath;
  /** The refresh token; an answer without it keeps the one the client holds. Default "refresh_token". */
  refreshToken?: FieldPath;
  /** Seconds the access token lives (an opaque token; a JWT's `exp` wins). Default "expires_in". */
  expiresIn?: FieldPath;
  /** The user object, when the answers carry one: `snapshot.user` from sign-in on. No default. */
  user?: FieldPath;
  /** The one body field (JSON member, or form field with "oauth2-password") the refresh
   * token is sent in on refresh and logout. Default "refresh_token". */
  refreshBody?: string;
}

/** JWT claims: the registered ones typed, the rest unknown. */
export interface JwtClaims {
  sub?: string;
  exp?: number;
  nbf?: number;
  iat?: number;
  iss?: string;
  aud?: string | string[];
  jti?: string;
  [claim: string]: unknown;
}

export type User = Record<string, unknown>;

/** One signed-in device, as the backend's /auth/sessions lists it. */
export interface AuthSessionInfo {
  readonly id: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly lastUsedAt: string;
  readonly userAgent: string;
  readonly ip: string;
  /** The session this client is signed in with. */
  readonly current: boolean;
}

/** A provider linked to the signed-in user, as the backend's /auth/identities lists it. */
export interface Identity {
  /** The provider id, as `signInWith` / `linkWith` / `unlink` take it. */
  readonly provider: string;
  /** ISO 8601: when it was linked. */
  readonly createdAt: string;
}

/** A passkey of the signed-in user, as the backend's /auth/passkeys lists it. */
export interface Passkey {
  /** The id `renamePasskey` / `removePasskey` take (not the WebAuthn credential id). */
  readonly id: string;
  readonly name: string;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601, or null before its first sign-in. */
  readonly lastUsedAt: string | null;
  /** A synced (multi-device) passkey, and whether it is backed up now. */
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
}

export interface RegisterPasskeyOptions {
  /** Shown in the passkey list (default "Passkey"). */
  name?: string;
  /** The account's password (step-up); leave it out for an account without one,
   * which needs a sign-in in the last 10 minutes instead. */
  password?: string;
  /** Aborts the ceremony (rejects with `aborted`). */
  signal?: AbortSignal;
}

export interface PasskeySignUpInput {
  email: string;
  name?: string;
  /** The new passkey's name in the list (default "Passkey"). */
  passkeyName?: string;
  signal?: AbortSignal;
}

export interface PasskeySignInOptions {
  /** Offer the passkeys in the autofill of a field with `autocomplete="username
   * webauthn"` (conditional mediation) rather than in a dialog. */
  autofill?: boolean;
  signal?: AbortSignal;
}

export interface AuthSnapshot {
  readonly status: AuthStatus;
  /** From me(), or from the claims until then. */
  readonly user: User | null;
  readonly claims: JwtClaims | null;
  /** ms since epoch on this device's clock, corrected for server skew. */
  readonly expiresAt: number | null;
  readonly refreshing: boolean;
  /** What is really in use after any fallback. */
  readonly storage: AuthStorage;
  /** Last error, cleared on success. */
  readonly error: AuthError | null;
  /** While status is "mfa_required": the second factors offered. */
  readonly mfa: { readonly methods: readonly MfaMethod[] } | null;
}

export type LoginCredentials =
  | { username: string; password: string }
  | { email: string; password: string };

export interface RegisterInput {
  email: string;
  password: string;
  name?: string;
}

export interface SocialSignInOptions {
  /** Absolute URL of the page the provider returns to; its origin must be one the
   * backend allows (CORS_ORIGINS), and the provider must know it. */
  redirectTo: string;
}

export interface LinkWithOptions extends SocialSignInOptions {
  /** The account's password (step-up, sent in the start request): linking a provider
   * changes how the account signs in, so the backend asks for it once the sign-in is
   * over 10 minutes old. Leave it out right after signing in, or for an account
   * without a password (which must sign in again instead); "" is the same as none. */
  password?: string;
}

export type AuthListener = (snapshot: AuthSnapshot, event: AuthEvent) => void;
export type AuthHeader = { Authorization: string } | Record<string, never>;
/** `Authorization: DPoP <token>` and its proof, for one request (DPoP only). */
export type DpopHeaders = { Authorization: string; DPoP: string } | Record<string, never>;

export declare class AuthClient {
  /** Never throws for what is in storage (garbage is removed); throws AuthError
   * `config` for an invalid config. */
  constructor(config: AuthConfig);
  /** Sign in with `{ username, password }` or `{ email, password }`. */
  login(credentials: LoginCredentials): Promise<AuthSnapshot>;
  /** Create an account and sign in (logging in when the response has no tokens). */
  register(input: RegisterInput): Promise<AuthSnapshot>;
  /** The second step of a two-factor sign-in (after `login` resolved with status
   * "mfa_required"): rejects with `invalid_code` (try again) or `challenge_expired`. */
  verifyMfa(input: { code: string } | { recoveryCode: string }): Promise<AuthSnapshot>;
  /** Social sign-in (OpenID Connect through the backend, code + PKCE): navigates to
   * the provider, which sends the user back to `redirectTo` (a page of this app that
   * calls `handleRedirect()`; one redirect URI per provider, such as
   * `/auth/callback/<provider>`, is the mix-up defence for providers that send no
   * `iss`). Resolves as navigation starts; rejects with `config`
   * (bad provider id or URL, no secure context), `validation` (provider unknown to the
   * backend, redirect not allowed), `provider_error`, `storage` or `network`.
   * With `protocol: "better-auth"`: through Better Auth's social endpoint (it runs the
   * OAuth flow and sends the user back to `redirectTo` with this tab's `state`); Better
   * Auth must be on the page's origin. `linkWith` is `config` there. */
  signInWith(provider: string, options: SocialSignInOptions): Promise<void>;
  /** On the `redirectTo` page: finishes a social sign-in started in this tab
   * (status "authenticated", or "mfa_required" when a second factor follows), or null
   * when the URL (default: the current one) is no sign-in callback. Rejects with
   * `state_mismatch` (not started here, forged, or answered by another provider than
   * the one it started with: an `iss` that differs, none when the provider promises
   * it, or a callback on another redirect URI; RFC 9207), `consent_denied`, `code_used`,
   * `challenge_expired` (took over ten minutes), `provider_error` or `unauthorized`
   * (e.g. the provider has not verified the email). */
  handleRedirect(url?: string): Promise<AuthSnapshot | null>;
  /** Link a provider to the signed-in user: the same trip through the provider as
   * `signInWith`, finished by `handleRedirect()` on the `redirectTo` page (it resolves
   * with the unchanged session). Rejects with `session_expired` when signed out; with
   * status 403 and the backend's sentence as the message when step-up refuses the link:
   * `unauthorized` when the sign-in is over 10 minutes old and no `password` came (ask
   * for the password and call again with it), `invalid_credentials` when a wrong one
   * did; and as `signInWith` does. `handleRedirect` rejects with `user_exists` when the
   * provider account belongs to another user. */
  linkWith(provider: string, options: LinkWithOptions): Promise<void>;
  /** The providers linked to the signed-in user. */
  identities(): Promise<Identity[]>;
  /** Unlink a provider from the signed-in user. Rejects with `validation` when it is
   * the account's last way to sign in (no password, no other provider). */
  unlink(provider: string): Promise<void>;
  /** Add a passkey to the signed-in account (WebAuthn: the browser asks the person to
   * create one). Rejects with `aborted` (cancelled, timed out or `signal` aborted),
   * `invalid_credentials` (wrong `password`), `unauthorized` (an account without a
   * password whose sign-in is over 10 minutes old: sign in again), `validation`
   * (this authenticator already holds one of the account's passkeys), `config` (no
   * WebAuthn here, or the page is not on the backend's RP ID) or `session_expired`. */
  registerPasskey(options?: RegisterPasskeyOptions): Promise<Passkey>;
  /** Create an account whose only way in is a passkey, and sign in. Rejects with
   * `user_exists`, `aborted`, `invalid_credentials` (the answer did not verify),
   * `challenge_expired` (over five minutes) or `config`. */
  signUpWithPasskey(input: PasskeySignUpInput): Promise<AuthSnapshot>;
  /** Sign in with a passkey; no email asked (the authenticator offers the passkeys it
   * holds for this site). Satisfies two-factor: the same session as a password sign-in
   * with its second step. `autofill: true` waits for a pick in a field's autofill and
   * resolves null when the browser has no such autofill. Rejects with `aborted`
   * (cancelled, or replaced by a newer passkey sign-in), `invalid_credentials` (a
   * passkey this backend does not know, or an answer that did not verify),
   * `challenge_expired` or `config` (no WebAuthn). */
  signInWithPasskey(options?: PasskeySignInOptions): Promise<AuthSnapshot | null>;
  /** The signed-in user's passkeys. */
  passkeys(): Promise<Passkey[]>;
  /** Rename one of them (`validation` for an unknown id). */
  renamePasskey(id: string, name: string): Promise<Passkey>;
  /** Remove one. Rejects with `validation` when it is the account's last way to sign in
   * (no password, no linked provider, no other passkey). */
  removePasskey(id: string): Promise<void>;
  /** Follow an email verification link: the `token` from its URL (no sign-in needed).
   * When signed in, the user is fetched again, so `snapshot.user.email_verified` is
   * true. Rejects with `code_used` (already used) or `invalid_token` (expired or forged). */
  verifyEmail(token: string): Promise<AuthSnapshot>;
  /** Mail the signed-in user another verification link (resolves at once when the
   * address is already verified). Rejects with `rate_limited` (retryAfter set). */
  resendVerification(): Promise<void>;
  /** Sign out here, and revoke the session at the backend when it can;
   * `{ everywhere: true }` first ends every session of the user (and rejects if it cannot). */
  logout(options?: { everywhere?: boolean }): Promise<void>;
  /** The user's sessions (devices), the current one marked. */
  sessions(): Promise<AuthSessionInfo[]>;
  /** End one session (device); its tokens stop working at once. */
  revokeSession(id: string): Promise<void>;
  /** Refresh now; concurrent calls share one request. */
  refresh(): Promise<AuthSnapshot>;
  /** A usable access token, refreshed first when due; null when signed out or expired. */
  getAccessToken(): Promise<string | null>;
  /** `{ Authorization: "Bearer ..." }`, or `{}` when there is no usable token.
   * With `dpop: true` it rejects with `config`: use `dpopHeaders` or `fetch`. */
  authHeader(): Promise<AuthHeader>;
  /** With `dpop: true`: the two headers for one `method` (default "GET") request to
   * `url` (an allowed origin; else `config`), or `{}` when there is no usable token.
   * A proof is good once: ask again for every request. */
  dpopHeaders(url: string, method?: string): Promise<DpopHeaders>;
  /** `fetch` with the bearer for allowed origins; on 401 one refresh and one replay. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** The user from the backend's `me` endpoint (or the claims when it has none). */
  me(): Promise<User>;
  /** The current state: the identical object until something changes. */
  getSnapshot(): AuthSnapshot;
  /** Call `listener(snapshot, event)` on every change; returns the unsubscribe function. */
  subscribe(listener: AuthListener): () => void;
  /** Release listeners, timers, the channel and lock markers. */
  free(): void;
  [Symbol.dispose](): void;
}

/** The claims of a JWT, without verifying its signature (the backend does that).
 * Throws an AuthError `invalid_token` when it is not a well-formed JWT. */
export declare function decodeJwt(token: string): JwtClaims;

/** Whether `token` is expired now (device clock), allowing `leeway` seconds
 * (default 0). A malformed token counts as expired: it can never be used. */
export declare function isExpired(token: string, leeway?: number | null): boolean;
