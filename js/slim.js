// auth-wasm/slim: the same API without the wasm inlined in JS, for apps that serve
// auth_wasm_bg.wasm themselves (3.8 KB gzip less than the default entry, whose wasm is
// inlined as a Latin-1 string). `await init(urlOrBytes)` once before using anything else.
import initEngine from "./auth_wasm.js";
import { authError } from "./auth-error.js";

export { AuthClient } from "./client.js";
export { AuthError, isAuthError } from "./auth-error.js";
export { decodeJwt, isExpired } from "./jwt.js";

/** @type {Promise<void> | null} */
let ready = null;

/** @param {import("./slim.js").EngineSource} wasm
 * @returns {Promise<void>} */
export function init(wasm) {
  if (wasm === undefined || wasm === null) {
    return Promise.reject(authError("config", "init() needs the URL (or bytes) of auth_wasm_bg.wasm"));
  }
  ready ??= initEngine({ module_or_path: wasm }).then(
    () => undefined,
    (/** @type {unknown} */ err) => {
      ready = null;
      throw authError("network", `auth-wasm/slim: could not load the wasm (${err instanceof Error ? err.message : String(err)})`);
    },
  );
  return ready;
}
