// The error class every auth-wasm rejection is an instance of: a real Error
// (stack, instanceof, console display). The wasm answers errors as JSON text.
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

/** An AuthError from the wasm's JSON text (`{code, message, status?, retryAfter?, fields?}`). */
export function errorFromText(text) {
  const e = JSON.parse(text);
  return new AuthError(e.code, e.message, e.status, e.retryAfter, e.fields);
}
