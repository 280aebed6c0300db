// decodeJwt and isExpired alone, several builds of the package beside jose in one
// Chromium page, for work on the token path (scripts/bench's hot-path table measures the
// shipped build once):
//   node bench/decodejwt-only.mjs <pkg dir> [<pkg dir>...]
// e.g. main's pkg/ copied aside and this branch's pkg/. Every function runs in turn,
// 200 ms a round, two warm-up rounds then ROUNDS (default 12) counted, so a busy
// machine's drift spreads over all; the median ops/s of each is printed with its ratio
// to jose's. The 32 tokens are distinct and shaped as the backend's access tokens (the
// same claims and lengths: 393 bytes, 231 of payload), made in the page (HS256 over a
// random key: the signature is never checked). RAW=1 adds each build's wasm call alone
// (`encodeInto` + `decodeJwtScratch`) and with the payload's `TextDecoder` and `JSON.parse`.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { launchBrowser } from "../e2e/harness.mjs";

const pkgs = process.argv.slice(2).map((dir) => path.resolve(dir));
if (pkgs.length === 0) throw new Error("usage: node bench/decodejwt-only.mjs <pkg dir>...");
const jose = path.join(import.meta.dirname, "node_modules", "jose", "dist", "webapi");

// /p/<i>/ serves package i, /jose/ jose's browser build.
const server = createServer(async (req, res) => {
  const { pathname } = new URL(req.url ?? "/", "http://127.0.0.1");
  const served = pathname.match(/^\/p\/(\d+)\/(.+)$/);
  const file = served ? path.join(pkgs[+served[1]] ?? "", served[2]) : pathname.startsWith("/jose/") ? path.join(jose, pathname.slice(6)) : null;
  if (pathname === "/") {
    res.setHeader("content-type", "text/html");
    res.end("<!doctype html><title>decodeJwt</title>");
    return;
  }
  try {
    if (!file) throw new Error("not found");
    const body = await readFile(file);
    res.setHeader("content-type", file.endsWith(".wasm") ? "application/wasm" : "text/javascript");
    res.end(body);
  } catch {
    res.statusCode = 404;
    res.end();
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
const address = /** @type {import("node:net").AddressInfo} */ (server.address());
const chromium = await launchBrowser();
try {
  const page = await chromium.browser.newPage();
  await page.goto(`http://127.0.0.1:${address.port}/`);
  const rates = await page.evaluate(measure, { count: pkgs.length, rounds: +(process.env.ROUNDS || 12), raw: process.env.RAW === "1" });
  for (const [name, rate] of Object.entries(rates)) {
    const label = name.replace(/^(\d+)/, (i) => pkgs[+i]);
    console.log(`${label.padEnd(60)} ${Math.round(rate).toString().padStart(9)} ops/s ${(rate / rates.jose).toFixed(2)}x jose ${Math.round(1e9 / rate)} ns`);
  }
} finally {
  await chromium.close();
  server.close();
}

/** Runs in the page: median ops/s of every function, round-robin. */
async function measure({ count, rounds, raw }) {
  const jose = await import("/jose/index.js");
  const b64 = (/** @type {string} */ s) => btoa(s).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
  const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const tokens = [];
  for (let i = 0; i < 32; i++) {
    const now = 1764530000 + i;
    const header = b64(JSON.stringify({ alg: "HS256", typ: "at+jwt" }));
    const payload = b64(JSON.stringify({ iss: "http://127.0.0.1:8000", aud: "auth-wasm", sub: String(1000 + i), sid: crypto.randomUUID(), email: `bench${i}@example.com`, name: "Bench User", iat: now, exp: now + 900, jti: crypto.randomUUID().replaceAll("-", "") }));
    const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${header}.${payload}`)));
    tokens.push(`${header}.${payload}.${b64(String.fromCharCode(...signature))}`);
  }
  let turn = 0;
  const next = () => tokens[turn++ & 31];
  const now = () => Date.now() / 1000;
  /** @type {Record<string, () => unknown>} */
  const fns = { jose: () => jose.decodeJwt(next()).exp < now() };
  for (let i = 0; i < count; i++) {
    const m = await import(`/p/${i}/index.js`);
    if (JSON.stringify(m.decodeJwt(tokens[0])) !== JSON.stringify(jose.decodeJwt(tokens[0]))) throw new Error(`build ${i} decodes otherwise than jose`);
    fns[`${i} decodeJwt + exp check`] = () => m.decodeJwt(next()).exp < now();
    fns[`${i} isExpired`] = () => m.isExpired(next());
    if (raw) {
      const w = await import(`/p/${i}/auth_wasm.js`);
      const encoder = new TextEncoder();
      const decoder = new TextDecoder();
      // Made again for each call: a view is emptied when the wasm's memory grows.
      // The buffer's address and length: exports of their own in older builds, else the
      // op SCRATCH (41) of engineCall.
      const [at, length] = w.jwtScratch ? [w.jwtScratch(), w.jwtScratchLength()] : [w.engineCall(0, 41), w.engineCall(0, 41, 1)];
      const view = () => new Uint8Array(w.engineMemory().buffer, at, length);
      // decodeJwt's call: an export of its own in older builds, else the op DECODE_JWT (42).
      const decode = w.decodeJwtScratch ?? ((/** @type {number} */ len) => w.engineCall(0, 42, len) | 0);
      fns[`${i} wasm call alone`] = () => decode(encoder.encodeInto(next(), view()).written);
      fns[`${i} wasm call + TextDecoder + JSON.parse`] = () => {
        const v = view();
        return JSON.parse(decoder.decode(v.subarray(0, decode(encoder.encodeInto(next(), v).written)))).exp < now();
      };
    }
  }
  /** @type {Record<string, number[]>} */
  const seen = Object.fromEntries(Object.keys(fns).map((name) => [name, []]));
  for (let r = 0; r < rounds + 2; r++) {
    for (const [name, fn] of Object.entries(fns)) {
      let n = 0;
      const t0 = performance.now();
      let t = t0;
      while (t - t0 < 200) {
        for (let k = 0; k < 200; k++) fn();
        n += 200;
        t = performance.now();
      }
      if (r >= 2) seen[name].push(n / ((t - t0) / 1000));
    }
  }
  const median = (/** @type {number[]} */ v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  return Object.fromEntries(Object.entries(seen).map(([name, v]) => [name, median(v)]));
}
