// The package entry: the client (a JS shell over the wasm engine), the error class
// and the token helpers.
export { AuthClient } from "./client.js";
export { AuthError, isAuthError } from "./auth-error.js";
export { decodeJwt, isExpired } from "./jwt.js";
