//! The exact TypeScript types of the public API (design.md's contract). Methods
//! refer to them by name through `unchecked_*_type`, so the .d.ts has no `any`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
import type { AuthError, AuthErrorCode } from "./auth-error";
export type { AuthErrorCode };

export type AuthStatus = "anonymous" | "authenticated" | "expired";
export type AuthEvent =
  | "signed_in"
  | "signed_out"
  | "token_refreshed"
  | "session_expired"
  | "user_updated"
  | "synced"
  | "storage_fallback";
export type AuthProtocol = "json" | "oauth2-password" | "better-auth";
export type AuthStorage = "local" | "session" | "memory";
export type AuthOperation = "login" | "register" | "refresh" | "logout" | "me";

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
}

export type LoginCredentials =
  | { username: string; password: string }
  | { email: string; password: string };

export interface RegisterInput {
  email: string;
  password: string;
  name?: string;
}

export type AuthListener = (snapshot: AuthSnapshot, event: AuthEvent) => void;
export type AuthHeader = { Authorization: string } | Record<string, never>;
"#;
