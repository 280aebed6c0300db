// The benchmarks' static server, run in a worker thread by site.mjs's serveSite. The
// runner's own thread also handles Playwright's traffic with the browser (an event for
// every request and console message of the page), so a server there answers only between
// those; in its own thread it answers as a static host would, alike for every candidate.
// Three alternating runs (40 loads each, machine load 12-15) put the browser build's JS
// from sent to first byte at 1.2 / 7.2 / 9.3 ms on the runner's thread and 3.7 / 2.1 / 3.9
// in its own: inside this machine's noise, but in its own thread the server is never the
// cause. SERVER_THREAD=main serves from the runner's thread, for comparison.
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { gzipSync } from "node:zlib";

/** Serves `out` at / and `pkgDir` at /pkg/ on a free loopback port.
 * @param {{ out: string, pkgDir: string, flags: Int32Array }} options flags: [gzip, isolated] (0/1), set by the runner
 * @returns {Promise<{ port: number, close: () => Promise<void> }>} */
export function startServer({ out, pkgDir, flags }) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
  /** @type {Map<string, Buffer>} compressed once per file */
  const gzipped = new Map();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const [root, rel] = url.pathname.startsWith("/pkg/") ? [pkgDir, url.pathname.slice(5)] : [out, url.pathname.slice(1)];
    const file = path.join(root, path.normalize(rel).replace(/^(\.\.[/\\])+/, ""));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
    const headers = { "Content-Type": types[path.extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" };
    // A page's `Link:` header, if site.mjs wrote one beside it (a preload sent as a header).
    if (file.endsWith(".html") && existsSync(`${file}.link`)) headers.Link = readFileSync(`${file}.link`, "utf8");
    // The hot-path page is cross-origin isolated: performance.now() then ticks in
    // 5 µs instead of 100 µs, fine enough for the fetch overhead (CORS fetches to the
    // backend are allowed under require-corp). `site.isolated` does the same for every
    // page (bench/startup-only.mjs ISOLATED=1: marks at 5 µs).
    if (url.pathname === "/hot.html" || (Atomics.load(flags, 1) === 1 && url.pathname.endsWith(".html"))) Object.assign(headers, { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" });
    if (Atomics.load(flags, 0) === 1 && path.extname(file) in types && /\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
      if (!gzipped.has(file)) gzipped.set(file, gzipSync(readFileSync(file), { level: 9 }));
      const body = /** @type {Buffer} */ (gzipped.get(file));
      res.writeHead(200, { ...headers, "Content-Encoding": "gzip", "Content-Length": String(body.length), Vary: "Accept-Encoding" });
      return res.end(body);
    }
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    resolve({ port: typeof address === "object" && address ? address.port : 0, close: () => new Promise((done) => server.close(() => done())) });
  }));
}

if (!isMainThread && workerData?.staticServer) startServer(workerData).then(({ port }) => parentPort?.postMessage({ port }));
