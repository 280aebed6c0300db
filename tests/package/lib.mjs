// Shared by the package tests: where scripts/test-package put the tarball and the
// installed fixtures, a stub backend on loopback, the reference backend (e2e's harness
// starts it) with a registered account, a static file server, processes
// stopped by pid, a Chromium page whose checks print JSON into #result, and the check
// that a browser production build emitted the .wasm instead of inlining it.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after } from "node:test";
import { chromium } from "playwright-core";
import { HEADER_MARK } from "../../scripts/lib/inline-form.mjs";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const TARBALL = process.env.PACKAGE_TARBALL;
export const FIXTURES = process.env.PACKAGE_FIXTURES;
if (!TARBALL || !FIXTURES) throw new Error("PACKAGE_TARBALL and PACKAGE_FIXTURES are set by scripts/test-package");
export const fixture = (name) => path.join(FIXTURES, name);

const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** An unsigned JWT: the client decodes claims, the backend verifies (here: the stub). */
export const sampleToken = (claims) => `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}.c2ln`;
export const TOKEN = sampleToken({ sub: "ada", exp: Math.floor(Date.now() / 1000) + 3600 });

/** What every environment's checks print when they pass. */
export const EXPECTED_CHECKS = {
  sub: "ada",
  expired: false,
  malformed: "invalid_token",
  before: "anonymous",
  after: "authenticated",
  data: { ok: true, sub: "ada" },
};

/** A backend of the json protocol, just enough for sign-in and auth.fetch, with CORS. */
export async function startStubBackend() {
  const access = sampleToken({ sub: "ada", exp: Math.floor(Date.now() / 1000) + 3600 });
  const server = createServer((req, res) => {
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-allow-credentials", "true");
      res.setHeader("access-control-allow-headers", "authorization, content-type");
      res.setHeader("access-control-allow-methods", "GET, POST, OPTIONS");
      res.setHeader("vary", "origin");
    }
    const json = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url, "http://stub");
    if (req.method === "OPTIONS") return res.writeHead(204).end();
    if (req.method === "POST" && url.pathname === "/auth/login") {
      return json(200, { access_token: access, token_type: "bearer", expires_in: 3600, refresh_token: "stub-refresh" });
    }
    const bearer = req.headers.authorization === `Bearer ${access}`;
    if (req.method === "GET" && url.pathname === "/auth/me") {
      return bearer ? json(200, { id: "ada", email: "ada@example.com" }) : json(401, { detail: "unauthorized" });
    }
    if (req.method === "GET" && url.pathname === "/api/data") {
      return bearer ? json(200, { ok: true, sub: "ada" }) : json(401, { detail: "unauthorized" });
    }
    return json(404, { detail: "not found" });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${server.address().port}`;
}

/** The reference backend (backend/, from the repository's .venv) on a free loopback port
 * with its own SQLite file, as e2e's lab tests start it (dev mode, the fast password hash,
 * any loopback origin allowed by CORS), stopped by pid after the file; and an account
 * registered on it. The harness is loaded only by the files that call this. */
export async function startRealBackend() {
  const { labBackend, uniqueEmail } = await import("../../e2e/harness.mjs");
  const backend = labBackend();
  after(() => backend.dispose());
  await backend.start();
  const account = { email: uniqueEmail("package"), password: "correct horse" };
  await backend.register(account.email, account.password);
  return { api: backend.url, account };
}

/** What a page's checks print after signing in to the reference backend as `email`. */
export function expectedRealChecks(email) {
  const { data: _stubOnly, ...checks } = EXPECTED_CHECKS;
  return { ...checks, me: { status: 200, email } };
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json", ".wasm": "application/wasm" };

/** Serves `dir` as static files on loopback: a page with no bundler. `onRequest` sees
 * each request's path. */
export async function serveStatic(dir, headers = {}, onRequest = () => {}) {
  const server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, "http://static").pathname);
    onRequest(rel);
    let file = path.join(dir, rel);
    if (!file.startsWith(dir)) return res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, "index.html");
    if (!existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", ...headers });
    createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${server.address().port}`;
}

/** A free loopback port. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a command to completion; its output is returned and shown when it fails. */
export function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...options, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...options.env } });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${result.status ?? result.signal}:\n${output.slice(-6000)}`);
  return output;
}

/** As run(), without blocking this process: for commands that call a server of this file. */
export function runAsync(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { ...options, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    proc.stdout.on("data", (d) => (output += d));
    proc.stderr.on("data", (d) => (output += d));
    proc.on("error", reject);
    proc.on("close", (code) => (code === 0 ? resolve(output) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${output.slice(-6000)}`))));
  });
}

/** Starts a server process, waits until `url` answers, and stops it by pid after the file. */
export async function startServer(cmd, args, url, options = {}) {
  const proc = spawn(cmd, args, { ...options, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  after(() => stop(proc));
  for (let i = 0; i < 1200; i++) {
    if (proc.exitCode !== null) throw new Error(`${cmd} exited ${proc.exitCode}:\n${log.slice(-4000)}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return { proc, log: () => log, stop: () => stop(proc) };
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`${cmd} did not answer at ${url}:\n${log.slice(-4000)}`);
}

function stop(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once("exit", () => resolve());
    proc.kill("SIGTERM");
  });
}

let browser = null;
async function sharedBrowser() {
  browser ??= await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return browser;
}
after(async () => {
  await browser?.close();
  browser = null;
});

/** Opens `url`, waits for the page's #result to leave "pending" and returns it parsed,
 * with the console errors and uncaught exceptions the page produced. */
export async function pageResult(url) {
  const context = await (await sharedBrowser()).newContext();
  const page = await context.newPage();
  const errors = [];
  // A page without an icon makes the browser ask for /favicon.ico: not the package's error.
  page.on("console", (msg) => msg.type() === "error" && !msg.location().url?.endsWith("/favicon.ico") && errors.push(msg.text()));
  page.on("pageerror", (err) => errors.push(String(err)));
  try {
    await page.goto(url);
    await page.waitForFunction(() => {
      const el = document.getElementById("result");
      return el && el.textContent !== "pending";
    }, null, { timeout: 120_000 });
    const result = JSON.parse(await page.textContent("#result"));
    const server = await page.$("#server");
    if (server) result.server = JSON.parse(await server.textContent());
    return { result, errors };
  } finally {
    await context.close();
  }
}

/** The query string every fixture page reads: the backend and a sample token, and for the
 * pages that sign in to the reference backend, the account's email and password. */
export const pageQuery = (api, account = {}) => `?${new URLSearchParams({ api, token: TOKEN, ...account })}`;

/** Every file under `dir`, recursively. */
export function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

// The inlined wasm's header as wasm-text.js's string holds it (scripts/lib/inline-form.mjs).
const INLINE_WASM_MARK = HEADER_MARK;

/** Those of `files` that are JS carrying the inlined wasm. */
export const carryingInlined = (files) => files.filter((file) => /\.m?js$/.test(file) && readFileSync(file, "latin1").includes(INLINE_WASM_MARK));

/** A build's output with the package's .wasm emitted as a file of its own (byte for byte,
 * once: auth-wasm/browser) and `inlined` JS files carrying the inlined wasm (the package's
 * entry, where the same build also uses it). Returns the .wasm's path. */
export function assertSeparateWasm(outputDir, installed, { inlined = 0 } = {}) {
  const wasm = readFileSync(path.join(installed, "node_modules", "auth-wasm", "auth_wasm_bg.wasm"));
  const files = filesUnder(outputDir);
  const emitted = files.filter((file) => file.endsWith(".wasm") && readFileSync(file).equals(wasm));
  assert.equal(emitted.length, 1, `the package's .wasm is emitted once under ${outputDir}: ${files.filter((f) => f.endsWith(".wasm"))}`);
  assert.equal(carryingInlined(files).length, inlined, `JS carrying the wasm inlined: ${carryingInlined(files)}`);
  return emitted[0];
}

/** A build of the package's entry: no .wasm file, and one JS file (one engine, whatever
 * else of the package the app imports) carries the inlined wasm. */
export function assertInlinedWasm(outputDir) {
  const files = filesUnder(outputDir);
  assert.deepEqual(files.filter((file) => file.endsWith(".wasm")), [], `no .wasm is emitted under ${outputDir}`);
  assert.equal(carryingInlined(files).length, 1, `one JS file carries the wasm inlined: ${carryingInlined(files)}`);
}
