import type { AuthError } from "auth-wasm";

// A type-only import: importing auth-wasm's runtime here would load the wasm during
// server rendering. The client's errors are recognised by name instead.
export function isAuthError(err: unknown): err is AuthError {
  return err instanceof Error && err.name === "AuthError" && "code" in err;
}

/** A sentence for people, for any failure the demo shows. */
export function describeError(err: unknown): string {
  if (!isAuthError(err)) return "Something went wrong. Please try again.";
  switch (err.code) {
    case "invalid_credentials":
      return "That email and password don't match an account.";
    case "user_exists":
      return "An account with this email already exists. Sign in instead?";
    case "validation":
      return "Please fix the highlighted fields.";
    case "rate_limited":
      return err.retryAfter !== undefined
        ? `Too many attempts. Try again in ${err.retryAfter} seconds.`
        : "Too many attempts. Please wait a moment and try again.";
    case "network":
      return "Can't reach the server. Check your connection and try again.";
    case "server":
      return "The server had a problem. Please try again shortly.";
    case "invalid_code":
      return "That code didn't work. Enter the current code from your app (each code works once).";
    case "challenge_expired":
      return "That took too long. Please sign in with your password again.";
    case "consent_denied":
      return "Access wasn't allowed at the provider, so you're not signed in.";
    case "state_mismatch":
      return "This sign-in link wasn't started in this browser tab. Please start again.";
    case "code_used":
      return "This sign-in link was already used. Please start again.";
    case "provider_error":
      return "The sign-in provider had a problem. Please try again, or use your password.";
    case "session_expired":
    case "refresh_failed":
    case "unauthorized":
      return "Your session has ended. Please sign in again.";
    default:
      return err.message || "Something went wrong. Please try again.";
  }
}

export function fieldErrors(err: unknown): Record<string, string> {
  return isAuthError(err) && err.code === "validation" && err.fields ? { ...err.fields } : {};
}
