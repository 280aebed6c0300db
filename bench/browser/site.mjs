// The pages the browser benchmarks load: one esbuild bundle per peer (and one with
// all of them for the hot paths), the web-target build of auth-wasm under /pkg/,
// served from loopback with `Cache-Control: no-store` so every load fetches,
// parses and compiles again.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";
import { READY } from "./startup.mjs";
import { startServer } from "./static-server.mjs";

const BENCH = path.resolve(import.meta.dirname, "..");
export const OUT = path.join(BENCH, ".out", "site");

/** auth-wasm's start-up page: the client restores the stored session when created. */
const authWasm = (entry) => `import { AuthClient } from "@pkg/${entry}";
    const client = new AuthClient({ baseUrl: window.API });
    if (client.getSnapshot().status !== "authenticated") throw new Error("not restored");`;

/** Where a start-up bundle's `new URL("./auth_wasm_bg.wasm", import.meta.url)` points. */
const WASM_PATH = "/startup/auth_wasm_bg.wasm";
/** The preload hint README documents for auth-wasm/browser: the .wasm is fetched while
 * the page's JS is, instead of after it ran. */
const WASM_HINT = `<link rel="preload" href="${WASM_PATH}" as="fetch" crossorigin>`;

/** Start-up candidates: the bundle's evaluation ends once the client holds the stored
 * session. A string is the bundle's source; an object adds the page's <head>. */
const STARTUP = {
  // What every build gets, browser production builds too: the wasm inlined as a Latin-1 string.
  "auth-wasm (wasm inlined, index.js)": authWasm("index.js"),
  // auth-wasm/browser: the .wasm a file of its own, fetched beside the JS.
  "auth-wasm/browser (.wasm preloaded)": { source: authWasm("browser.js"), head: WASM_HINT },
  "auth-wasm/browser (no hint)": authWasm("browser.js"),
  "@supabase/auth-js": `import { GoTrueClient } from "@supabase/auth-js";
    const client = new GoTrueClient({ url: window.API, storageKey: "bench-supabase", autoRefreshToken: false, detectSessionInUrl: false });
    const { data } = await client.getSession();
    if (!data.session) throw new Error("not restored");`,
  "oidc-client-ts": `import { UserManager } from "oidc-client-ts";
    const client = new UserManager({ authority: window.API, client_id: "bench", redirect_uri: location.origin + "/cb", automaticSilentRenew: false });
    const user = await client.getUser();
    if (!user || user.expired) throw new Error("not restored");`,
  "@auth0/auth0-spa-js": `import { Auth0Client } from "@auth0/auth0-spa-js";
    const client = new Auth0Client({ domain: "127.0.0.1", clientId: "bench", cacheLocation: "localstorage" });
    if (!(await client.isAuthenticated())) throw new Error("not restored");`,
  // Better Auth's client keeps no session in the browser (cookies, or a fetch of
  // get-session): creating it is all a page load can do without a request.
  "better-auth client (created; no local session)": `import { createAuthClient } from "better-auth/client";
    createAuthClient({ baseURL: window.API });`,
};

const SUPABASE = STARTUP["@supabase/auth-js"];
const COMPILE_SCRIPT = `<script>self.authWasmModule = WebAssembly.compileStreaming(fetch("${WASM_PATH}"))</script>`;
/** Other forms and places of the hint, and a control, for work on start-up
 * (bench/startup-only.mjs HINTS=1): `head` goes before the page's script, `after` after it
 * (still in <head> when the script is), `link` is sent as the page's `Link:` header. */
const HINT_VARIANTS = {
  "auth-wasm/browser (hint after the script)": { source: authWasm("browser.js"), after: WASM_HINT },
  "auth-wasm/browser (hint fetchpriority=low)": { source: authWasm("browser.js"), head: WASM_HINT.replace(">", ' fetchpriority="low">') },
  "auth-wasm/browser (hint as a Link: header)": { source: authWasm("browser.js"), link: `<${WASM_PATH}>; rel=preload; as=fetch; crossorigin` },
  // The hint's own cost to the page: supabase's page with the same preload, unused.
  "@supabase/auth-js (control: the .wasm preloaded, unused)": { source: SUPABASE, head: WASM_HINT },
};
/** The page starts the compile itself (a classic script in <head>, before the entry) and
 * the package, built from `pkg`, takes the promise from the global (an engine-url.js that
 * reads `globalThis.authWasmModule`: docs/design-notes.md, "why the browser build starts
 * slower than supabase"): the compile then runs while the JS downloads and parses. For
 * the lead's choice of that API (startup-only.mjs COMPILE_PKG=<dir>). */
const compileVariants = (pkg) => ({
  "auth-wasm/browser (compiled by the page's script)": { source: authWasm("browser.js"), head: COMPILE_SCRIPT, pkg },
  "auth-wasm/browser (hint + compiled by the page's script)": { source: authWasm("browser.js"), head: WASM_HINT + COMPILE_SCRIPT, pkg },
});

// (A module script in <head> is deferred: it runs after the body's inline script.)
const page = (title, script, { head = "", after = "", listen = "" } = {}) => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${head}</head><body>
<script>window.API = new URLSearchParams(location.search).get("api");${listen}</script>
${script ? `<script type="module">${script}</script>` : ""}${after}</body></html>`;

/** The page reports to the runner itself (startup.mjs): one console message, after
 * the time is taken. */
const report = (value) => `console.log(${JSON.stringify(READY + " ")} + JSON.stringify(${value}))`;
/** After the time is taken: when each resource was requested, sent to the server, its
 * first byte came and it had arrived (ms since navigation start), for the runner's
 * breakdown of where a load's time went. */
const RESOURCES = `performance.getEntriesByType("resource").map((e) => [e.name.replace(/^.*\\/|\\?.*$/g, ""), e.startTime, e.responseEnd, e.responseStart, e.requestStart])`;
/** `performance.mark`s a package copy set (instrumented for start-up work), by name. */
const MARKS = `performance.getEntriesByType("mark").map((e) => [e.name, e.startTime])`;
const READY_REPORT = report(`{ ready: performance.now(), resources: ${RESOURCES}, marks: ${MARKS} }`);
const readyScript = (bundle) => `import(${JSON.stringify(bundle)}).then(
  () => ${READY_REPORT},
  (e) => ${report("{ failed: String(e && e.message || e) }")});`;
/** The page as Vite's build writes it (`scriptInHead`, the default): the entry a module
 * script at the end of <head>, `crossorigin`, after what the app's index.html put there
 * (the hint), so the preload scanner requests both at once; the bundle's own last
 * statement reports ready; a failure reaches the window's error event (the listener is
 * in the body's inline script, which runs before any deferred module script). */
const headScript = (bundle) => `<script type="module" crossorigin src="${bundle}"></script>`;
const FAILURE_LISTENER = `addEventListener("error", (e) => ${report("{ failed: String(e.message) }")});`;

/** @param {string} pkgDir @param {string[] | null} [baselineDir] other package directories
 * @param {{ scriptInHead?: boolean, hintVariants?: boolean, compilePkg?: string }} [options] scriptInHead
 * (default): start-up bundles as module scripts in <head> (headScript), as Vite's build
 * writes its entry; false: imported by the page's inline script, a page no bundler writes
 * (its bundle is requested only once the body is parsed and the inline module ran, well
 * after a hint in <head>). hintVariants: HINT_VARIANTS too; compilePkg: compileVariants
 * of that package directory too. */
export async function buildSite(pkgDir, baselineDir = null, { scriptInHead = true, hintVariants = false, compilePkg = "" } = {}) {
  /** A start-up page for `bundle` (its path on the site) of source `source`: the source
   * to bundle and the page. */
  const startupPage = (name, source, bundle, { head = "", after = "" } = {}) =>
    scriptInHead
      ? { source: `${source}\n${READY_REPORT};`, html: page(name, "", { head: `${head}${headScript(bundle)}${after}`, listen: FAILURE_LISTENER }) }
      : { source, html: page(name, readyScript(bundle), { head, after }) };
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(path.join(OUT, "startup"), { recursive: true });
  const bundle = async (source, file, pkg = pkgDir) => {
    await build({
      stdin: { contents: source.startsWith("import") ? `import "./browser/bundle-start.mjs";\n${source}` : source, resolveDir: BENCH, loader: "js" },
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      // The JS of the package is bundled like the peers' (browser.js's .wasm stays beside
      // the bundle, copied below; index.js carries it inlined).
      alias: { "@pkg": pkg },
      outfile: path.join(OUT, file),
      logLevel: "silent",
    });
  };
  const candidates = { ...STARTUP, ...(hintVariants ? HINT_VARIANTS : {}), ...(compilePkg ? compileVariants(compilePkg) : {}) };
  const names = Object.keys(candidates);
  for (const [i, name] of names.entries()) {
    const { source, link, pkg, ...hint } = typeof candidates[name] === "string" ? { source: candidates[name] } : candidates[name];
    const built = startupPage(name, source, `/startup/${i}.js`, hint);
    await bundle(built.source, `startup/${i}.js`, pkg);
    writeFileSync(path.join(OUT, "startup", `${i}.html`), built.html);
    // The page's `Link:` header (static-server.mjs sends a page's <page>.link).
    if (link) writeFileSync(path.join(OUT, "startup", `${i}.html.link`), link);
  }
  // Other builds of the package's JS (same .wasm) beside this one, in the same run:
  // before/after figures for start-up work (bench/startup-only.mjs BASELINE=<pkg dir>[,...]).
  const extra = [];
  for (const [i, dir] of (baselineDir ?? []).entries()) {
    const name = `baseline ${path.basename(dir)}: wasm inlined`;
    const built = startupPage(name, authWasm("index.js"), `/startup/baseline-${i}.js`);
    await build({
      stdin: { contents: `import "./browser/bundle-start.mjs";\n${built.source}`, resolveDir: BENCH, loader: "js" },
      bundle: true, minify: true, format: "esm", platform: "browser", target: "es2022",
      alias: { "@pkg": dir }, outfile: path.join(OUT, `startup/baseline-${i}.js`), logLevel: "silent",
    });
    writeFileSync(path.join(OUT, "startup", `baseline-${i}.html`), built.html);
    extra.push({ name, path: `/startup/baseline-${i}.html` });
  }
  copyFileSync(path.join(pkgDir, "auth_wasm_bg.wasm"), path.join(OUT, WASM_PATH));
  writeFileSync(path.join(OUT, "empty.html"), page("empty", report("{ ready: performance.now() }")));
  await bundle(
    `export { AuthClient, decodeJwt, isExpired } from "@pkg/index.js";`,
    "auth-wasm.js",
  );
  await bundle(
    `export * as jose from "jose";
     export { jwtDecode } from "jwt-decode";
     export { GoTrueClient } from "@supabase/auth-js";
     export { UserManager, User } from "oidc-client-ts";
     export { Auth0Client } from "@auth0/auth0-spa-js";`,
    "peers.js",
  );
  writeFileSync(path.join(OUT, "hot.html"), page("hot paths", `import * as peers from "/peers.js"; import * as wasm from "/auth-wasm.js"; window.peers = peers; window.wasm = wasm; window.__ready = performance.now();`));
  writeFileSync(path.join(OUT, "storm.html"), page("storm", `import * as wasm from "/auth-wasm.js"; window.wasm = wasm; window.__ready = performance.now();`));
  return [...names.map((name, i) => ({ name, path: `/startup/${i}.html` })), ...extra];
}

/** Serves OUT at / and `pkgDir` at /pkg/ from a worker thread (static-server.mjs). With
 * `site.gzip` on, JS, HTML and wasm go out gzip-encoded (level 9, with Content-Length) to
 * a client that accepts it, as production hosts send them; the same for every candidate.
 * `site.isolated` serves every page cross-origin isolated. */
export async function serveSite(pkgDir) {
  const flags = new Int32Array(new SharedArrayBuffer(8));
  let port;
  let stop;
  if (process.env.SERVER_THREAD === "main") {
    // For comparison only: the server on the runner's own event loop, as before.
    ({ port, close: stop } = await startServer({ out: OUT, pkgDir, flags }));
  } else {
    const worker = new Worker(new URL("./static-server.mjs", import.meta.url), { workerData: { staticServer: true, out: OUT, pkgDir, flags } });
    port = await new Promise((resolve, reject) => {
      worker.once("message", (m) => resolve(m.port));
      worker.once("error", reject);
    });
    stop = () => worker.terminate().then(() => undefined);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    get gzip() { return Atomics.load(flags, 0) === 1; },
    set gzip(on) { Atomics.store(flags, 0, on ? 1 : 0); },
    get isolated() { return Atomics.load(flags, 1) === 1; },
    set isolated(on) { Atomics.store(flags, 1, on ? 1 : 0); },
    stop,
  };
}
