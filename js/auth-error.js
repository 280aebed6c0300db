// The error class every auth-wasm rejection is an instance of: a real Error
// (stack, instanceof, console display). The wasm answers errors as JSON text.
/** @typedef {import("./auth-error.js").AuthErrorCode} AuthErrorCode */

export class AuthError extends Error {
  // A field: set on each instance right after super(), as an assignment there was.
  name = "AuthError";

  /** @param {AuthErrorCode} code
   * @param {string} message
   * @param {number} [status]
   * @param {number} [retryAfter]
   * @param {Readonly<Record<string, string>>} [fields] */
  constructor(code, message, status, retryAfter, fields) {
    super(message);
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
    // An object or none: absent (not undefined) when none.
    if (fields) this.fields = fields;
  }
}

/** An AuthError raised by the shell (js/): the class's constructor is not part of the API.
 * @param {AuthErrorCode} code
 * @param {string} message
 * @param {number} [status]
 * @param {number} [retryAfter]
 * @param {Readonly<Record<string, string>>} [fields] */
export function authError(code, message, status, retryAfter, fields) {
  return new AuthError(code, message, status, retryAfter, fields);
}

/** @param {unknown} value */
export function isAuthError(value) {
  return value instanceof AuthError;
}

/** An AuthError from the wasm's JSON text (`{code, message, status?, retryAfter?, fields?}`). */
/** @param {string} text */
export function errorFromText(text) {
  const e = JSON.parse(text);
  return new AuthError(e.code, e.message, e.status, e.retryAfter, e.fields);
}
