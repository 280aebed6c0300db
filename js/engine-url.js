// The engine of `auth-wasm/browser` (browser.js), for apps that want the wasm as a file of
// its own: bundlers (Vite, webpack 5, Turbopack) emit it as an asset from the
// `new URL(..., import.meta.url)` below, and a page with no bundler fetches it from beside
// this module. The fetch starts as this module is evaluated (README's preload hint starts
// it with the page instead, and this fetch then reuses it) and the wasm compiles while it
// downloads (streaming: the server must send `application/wasm`, as bundlers' servers and
// static hosts do). No top-level await here: the rest of the package's modules evaluate
// while the wasm compiles; browser.js, evaluated last, awaits `engineLoaded` before it
// exports (top-level await), so `new AuthClient()` stays synchronous.
import { instantiate } from "./auth_wasm.js";
import { authError } from "./auth-error.js";

const url = new URL("./auth_wasm_bg.wasm", import.meta.url);
/** Settles once the engine is ready (or could not load: AuthError `network`). */
export const engineLoaded = WebAssembly.compileStreaming(fetch(url))
  .then(instantiate)
  .catch((err) => {
    throw authError("network", `auth-wasm: could not load ${url} (${err})`);
  });
