// The error class every auth-wasm rejection is an instance of. Defined in JS so that it
// truly extends Error (stack, instanceof, console display); the wasm shell constructs it.
export class AuthError extends Error {
  constructor(code, message, status, retryAfter, fields) {
    super(message);
    this.name = "AuthError";
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
    if (fields !== undefined) this.fields = fields;
  }
}

export function isAuthError(value) {
  return value instanceof AuthError;
}
