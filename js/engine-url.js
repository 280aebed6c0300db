// The engine of browser production builds (browser.js, chosen by the `browser` +
// `production` export conditions: Vite's build, Next's client bundles with Turbopack).
// The wasm stays a separate file: these bundlers emit it as an asset from the
// `new URL(..., import.meta.url)` below, and a page with no bundler fetches it from beside
// this module. Its fetch starts when this module is evaluated (a page can start it even
// earlier: README's preload hint, which this fetch then reuses) and it compiles while it
// downloads; the entry exports after it (top-level await), so `new AuthClient()` stays
// synchronous. A server that does not send `application/wasm` (which streaming requires)
// gets the bytes compiled whole.
import { initSync } from "./auth_wasm.js";
import { authError } from "./auth-error.js";

const url = new URL("./auth_wasm_bg.wasm", import.meta.url);
try {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  initSync({
    module: await (/^application\/wasm\s*(;|$)/i.test(response.headers.get("content-type") ?? "")
      ? WebAssembly.compileStreaming(response)
      : WebAssembly.compile(await response.arrayBuffer())),
  });
} catch (err) {
  throw authError("network", `auth-wasm: could not load ${url} (${err instanceof Error ? err.message : String(err)})`);
}
