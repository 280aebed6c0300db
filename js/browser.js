// The package entry of browser production builds (package.json's `browser` + `production`
// conditions) and of pages with no bundler that can serve the .wasm: index.js's API, with
// the wasm fetched from beside the module (engine-url.js) instead of inlined in JS.
import { engineLoaded } from "./engine-url.js";
export { AuthClient } from "./client.js";
export { AuthError, isAuthError } from "./auth-error.js";
export { decodeJwt, isExpired } from "./jwt.js";

// After every module above evaluated (they did while the wasm compiled).
await engineLoaded;
