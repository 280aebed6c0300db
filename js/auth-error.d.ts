export type AuthErrorCode =
  | "invalid_credentials"
  | "user_exists"
  | "validation"
  | "unauthorized"
  | "session_expired"
  | "refresh_failed"
  | "rate_limited"
  | "network"
  | "server"
  | "invalid_response"
  | "invalid_token"
  | "storage"
  | "config"
  | "aborted"
  | "invalid_code"
  | "challenge_expired"
  | "state_mismatch"
  | "consent_denied"
  | "code_used"
  | "provider_error";

/** Every rejection and throw of auth-wasm is an AuthError. */
export declare class AuthError extends Error {
  readonly name: "AuthError";
  /** What went wrong, for code. */
  readonly code: AuthErrorCode;
  /** HTTP status when the failure came from a response. */
  readonly status: number | undefined;
  /** Seconds to wait before retrying (rate_limited). */
  readonly retryAfter: number | undefined;
  /** Field name -> message (validation). */
  readonly fields?: Readonly<Record<string, string>>;
  private constructor();
}

export declare function isAuthError(value: unknown): value is AuthError;

/** @internal For the package's own modules (index.d.ts does not re-export it). */
export declare function authError(
  code: AuthErrorCode,
  message: string,
  status?: number,
  retryAfter?: number,
  fields?: Readonly<Record<string, string>>,
): AuthError;

/** @internal The AuthError the wasm answered as JSON text (`{code, message, ...}`). */
export declare function errorFromText(text: string): AuthError;
