// The engine of browser production builds (browser.js, chosen by the `browser` +
// `production` export conditions: Vite's build, Next's client bundles with Turbopack and
// webpack). The wasm stays a separate file: these bundlers emit it as an asset from the
// `new URL(..., import.meta.url)` below, and a page with no bundler fetches it from beside
// this module. It is fetched and compiled before the entry exports (top-level await), so
// `new AuthClient()` stays synchronous. Compiled from its bytes, not streamed: any
// server's content type works, and the glue's async loader stays out of the bundle.
import { initSync } from "./auth_wasm.js";
import { authError } from "./auth-error.js";

const url = new URL("./auth_wasm_bg.wasm", import.meta.url);
try {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  initSync({ module: await WebAssembly.compile(await response.arrayBuffer()) });
} catch (err) {
  throw authError("network", `auth-wasm: could not load ${url} (${err instanceof Error ? err.message : String(err)})`);
}
