// auth-wasm/slim: the same API without the wasm inlined in JS, for apps that serve
// auth_wasm_bg.wasm themselves (about 1/4 smaller over the wire than the default entry's
// base64). `await init(urlOrBytes)` once before using anything else.
import initEngine from "./auth_wasm.js";
import { AuthError } from "./auth-error.js";

export { AuthClient } from "./client.js";
export { AuthError, isAuthError } from "./auth-error.js";
export { decodeJwt, isExpired } from "./jwt.js";

let ready = null;

export function init(wasm) {
  if (wasm === undefined || wasm === null) {
    return Promise.reject(new AuthError("config", "init() needs the URL (or bytes) of auth_wasm_bg.wasm"));
  }
  ready ??= initEngine({ module_or_path: wasm }).then(
    () => undefined,
    (err) => {
      ready = null;
      throw new AuthError("network", `auth-wasm/slim: could not load the wasm (${err && err.message ? err.message : err})`);
    },
  );
  return ready;
}
