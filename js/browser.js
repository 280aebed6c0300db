// auth-wasm/browser: index.js's API with the wasm fetched from beside the module
// (engine-url.js) instead of inlined in JS: 1.2 KB gzip less, one request more (README,
// "The wasm as a file of its own"). For browser builds and pages with no bundler.
import { engineLoaded } from "./engine-url.js";
export { AuthClient } from "./client.js";
export { AuthError, isAuthError } from "./auth-error.js";
export { decodeJwt, isExpired } from "./jwt.js";

// After every module above evaluated (they did while the wasm compiled).
await engineLoaded;
