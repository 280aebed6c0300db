// decodeJwt and isExpired: the engine judges the token (js/engine.js, where they are
// written beside the token buffer they use); a malformed token throws an AuthError.
export { decodeJwt, isExpired } from "./engine.js";
