// The pages the browser benchmarks load: one esbuild bundle per peer (and one with
// all of them for the hot paths), the web-target build of auth-wasm under /pkg/,
// served from loopback with `Cache-Control: no-store` so every load fetches,
// parses and compiles again.
import { copyFileSync, createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { freePort } from "../../e2e/harness.mjs";
import { READY } from "./startup.mjs";

const BENCH = path.resolve(import.meta.dirname, "..");
export const OUT = path.join(BENCH, ".out", "site");

/** auth-wasm's start-up page: the client restores the stored session when created. */
const authWasm = (entry) => `import { AuthClient } from "@pkg/${entry}";
    const client = new AuthClient({ baseUrl: window.API });
    if (client.getSnapshot().status !== "authenticated") throw new Error("not restored");`;

/** Where a start-up bundle's `new URL("./auth_wasm_bg.wasm", import.meta.url)` points. */
const WASM_PATH = "/startup/auth_wasm_bg.wasm";
/** The preload hint README documents for the browser build: the .wasm is fetched while
 * the page's JS is, instead of after it ran. */
const WASM_HINT = `<link rel="preload" href="${WASM_PATH}" as="fetch" crossorigin>`;

/** Start-up candidates: the bundle's evaluation ends once the client holds the stored
 * session. A string is the bundle's source; an object adds the page's <head>. */
const STARTUP = {
  // What a browser production build gets (the `browser` + `production` conditions).
  "auth-wasm (browser build, .wasm preloaded)": { source: authWasm("browser.js"), head: WASM_HINT },
  "auth-wasm (browser build, no hint)": authWasm("browser.js"),
  // The universal entry (dev servers, Node, webpack's client): the wasm inlined in hex.
  "auth-wasm (wasm inlined, index.js)": authWasm("index.js"),
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

const page = (title, script, head = "") => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${head}</head><body>
<script>window.API = new URLSearchParams(location.search).get("api");</script>
<script type="module">${script}</script></body></html>`;

/** The page reports to the runner itself (startup.mjs): one console message, after
 * the time is taken. */
const report = (value) => `console.log(${JSON.stringify(READY + " ")} + JSON.stringify(${value}))`;
/** After the time is taken: when each resource was requested and had arrived (ms since
 * navigation start), for the runner's breakdown of where a load's time went. */
const RESOURCES = `performance.getEntriesByType("resource").map((e) => [e.name.replace(/^.*\\/|\\?.*$/g, ""), e.startTime, e.responseEnd])`;
/** `performance.mark`s a package copy set (instrumented for start-up work), by name. */
const MARKS = `performance.getEntriesByType("mark").map((e) => [e.name, e.startTime])`;
const readyScript = (bundle) => `import(${JSON.stringify(bundle)}).then(
  () => ${report(`{ ready: performance.now(), resources: ${RESOURCES}, marks: ${MARKS} }`)},
  (e) => ${report("{ failed: String(e && e.message || e) }")});`;

/** @param {string} pkgDir @param {string[] | null} [baselineDir] other package directories */
export async function buildSite(pkgDir, baselineDir = null) {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(path.join(OUT, "startup"), { recursive: true });
  const bundle = async (source, file) => {
    await build({
      stdin: { contents: source.startsWith("import") ? `import "./browser/bundle-start.mjs";\n${source}` : source, resolveDir: BENCH, loader: "js" },
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      // The JS of the package is bundled like the peers' (browser.js's .wasm stays beside
      // the bundle, copied below; index.js carries it inlined).
      alias: { "@pkg": pkgDir },
      outfile: path.join(OUT, file),
      logLevel: "silent",
    });
  };
  const names = Object.keys(STARTUP);
  for (const [i, name] of names.entries()) {
    const { source, head } = typeof STARTUP[name] === "string" ? { source: STARTUP[name] } : STARTUP[name];
    await bundle(source, `startup/${i}.js`);
    writeFileSync(path.join(OUT, "startup", `${i}.html`), page(name, readyScript(`/startup/${i}.js`), head));
  }
  // Other builds of the package's JS (same .wasm) beside this one, in the same run:
  // before/after figures for start-up work (bench/startup-only.mjs BASELINE=<pkg dir>[,...]).
  const extra = [];
  for (const [i, dir] of (baselineDir ?? []).entries()) {
    await build({
      stdin: { contents: `import "./browser/bundle-start.mjs";\n${authWasm("browser.js")}`, resolveDir: BENCH, loader: "js" },
      bundle: true, minify: true, format: "esm", platform: "browser", target: "es2022",
      alias: { "@pkg": dir }, outfile: path.join(OUT, `startup/baseline-${i}.js`), logLevel: "silent",
    });
    const name = `baseline ${path.basename(dir)}: browser build, .wasm preloaded`;
    writeFileSync(path.join(OUT, "startup", `baseline-${i}.html`), page(name, readyScript(`/startup/baseline-${i}.js`), WASM_HINT));
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

/** Serves OUT at / and `pkgDir` at /pkg/. With `site.gzip` on, JS, HTML and wasm go
 * out gzip-encoded (level 9, with Content-Length) to a client that accepts it, as
 * production hosts send them; the same for every candidate. */
export async function serveSite(pkgDir) {
  const port = await freePort();
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
  /** @type {Map<string, Buffer>} compressed once per file */
  const gzipped = new Map();
  const site = { url: "", gzip: false, isolated: false, stop: () => Promise.resolve() };
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    const [root, rel] = url.pathname.startsWith("/pkg/") ? [pkgDir, url.pathname.slice(5)] : [OUT, url.pathname.slice(1)];
    const file = path.join(root, path.normalize(rel).replace(/^(\.\.[/\\])+/, ""));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
    const headers = { "Content-Type": types[path.extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" };
    // The hot-path page is cross-origin isolated: performance.now() then ticks in
    // 5 µs instead of 100 µs, fine enough for the fetch overhead (CORS fetches to the
    // backend are allowed under require-corp). `site.isolated` does the same for every
    // page (bench/startup-only.mjs ISOLATED=1: marks at 5 µs).
    if (url.pathname === "/hot.html" || (site.isolated && url.pathname.endsWith(".html"))) Object.assign(headers, { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" });
    if (site.gzip && path.extname(file) in types && /\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
      if (!gzipped.has(file)) gzipped.set(file, gzipSync(readFileSync(file), { level: 9 }));
      const body = /** @type {Buffer} */ (gzipped.get(file));
      res.writeHead(200, { ...headers, "Content-Encoding": "gzip", "Content-Length": String(body.length), Vary: "Accept-Encoding" });
      return res.end(body);
    }
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  site.url = `http://127.0.0.1:${port}`;
  site.stop = () => new Promise((resolve) => server.close(resolve));
  return site;
}
