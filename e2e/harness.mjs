// Starts the real backend and the production build of www on loopback, drives a
// browser, and stops every process by pid. The browser is E2E_BROWSER (one engine
// per test process; scripts/test-e2e runs the suites once per engine): Debian's
// Chromium with playwright-core (the default), Firefox ESR over WebDriver BiDi or
// WebKitGTK over WebDriver classic through adapters (e2e/engines/) that give the
// part of Playwright's API the SDK suites use.
import { spawn } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createHmac, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before } from "node:test";
import { chromium } from "playwright-core";
import { launchFirefox } from "./engines/firefox.mjs";
import { launchWebKit } from "./engines/webkit.mjs";

export const ENGINES = ["chromium", "firefox", "webkit"];
/** The engine this test process drives. */
export const ENGINE = process.env.E2E_BROWSER || "chromium";
if (!ENGINES.includes(ENGINE)) throw new Error(`E2E_BROWSER=${ENGINE}: one of ${ENGINES.join(", ")}`);

/** What a driver cannot do for a test, by engine (the browsers themselves have it). */
const ENGINE_LACKS = {
  chromium: {},
  firefox: {
    clock: "page.clock is Playwright's (Chromium here)",
    cdp: "the DevTools protocol is Chromium's",
  },
  webkit: {
    clock: "page.clock is Playwright's (Chromium here)",
    cdp: "the DevTools protocol is Chromium's",
    demo: "the www demo runs in Chromium and Firefox",
    network: "WebDriver classic exposes no network requests or responses",
  },
};

/** A test's `skip` option: false where this engine's driver has every feature named
 * (a Chromium-only test says so with needs("cdp"), etc.), else the reason. */
export function needs(...features) {
  const missing = features.map((f) => ENGINE_LACKS[ENGINE][f]).filter(Boolean);
  return missing.length ? `${ENGINE}: ${missing.join("; ")}` : false;
}

export const ROOT = path.resolve(import.meta.dirname, "..");
export const ARTIFACTS = path.join(ROOT, "artifacts", "e2e");
mkdirSync(ARTIFACTS, { recursive: true });

/** A file in ARTIFACTS: Chromium's keep their names, another engine's say which it is. */
export function artifact(name) {
  return path.join(ARTIFACTS, ENGINE === "chromium" ? name : name.replace(/(\.\w+)$/, `-${ENGINE}$1`));
}

/** A free loopback port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const BACKEND_PORT = Number(process.env.E2E_BACKEND_PORT);
const WWW_PORT = Number(process.env.E2E_WWW_PORT);
// Set by scripts/test-e2e; the benchmarks (bench/) reuse this file without them.
const needPorts = () => {
  if (!BACKEND_PORT || !WWW_PORT) throw new Error("E2E_BACKEND_PORT and E2E_WWW_PORT are set by scripts/test-e2e");
};
export const API = `http://127.0.0.1:${BACKEND_PORT}`;
export const WWW = `http://127.0.0.1:${WWW_PORT}`;

async function waitFor(url, proc, what) {
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`${what} did not start`);
}

function stop(proc) {
  return new Promise((resolve) => {
    if (!proc || proc.exitCode !== null) return resolve();
    proc.once("exit", () => resolve());
    proc.kill("SIGTERM");
  });
}

/** The backend, restartable on the same port, database and secret (scenario 5).
 * `port` null: a free one, chosen at the first start. */
export class Backend {
  constructor(env = {}, port = BACKEND_PORT) {
    this.port = port;
    this.dir = mkdtempSync(path.join(tmpdir(), "auth-wasm-e2e-"));
    this.env = {
      ...process.env,
      BETTER_AUTH_SECRET: randomBytes(48).toString("base64url"),
      DATABASE_URL: `sqlite:///${this.dir}/e2e.db`,
      BACKEND_ENV_FILE: "",
      // The test hooks (/_test/*) open only together with dev mode.
      AUTH_TEST_HOOKS: "1",
      AUTH_DEV_MODE: "1",
      PASSWORD_HASH_PROFILE: "fast",
      CORS_ORIGINS: `${WWW},http://localhost:${WWW_PORT}`,
      ...env,
    };
    this.proc = null;
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async start() {
    if (this.port === null) this.port = await freePort();
    if (!this.port) needPorts();
    this.proc = spawn(path.join(ROOT, ".venv/bin/python"), ["-m", "backend", "--host", "127.0.0.1", "--port", String(this.port), "--log-level", "warning"], {
      cwd: ROOT,
      env: this.env,
      stdio: ["ignore", "inherit", "inherit"],
    });
    await waitFor(`${this.url}/health`, this.proc, "backend");
  }
  async stop() {
    await stop(this.proc);
    this.proc = null;
  }
  async dispose() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
  async stats() {
    return (await (await fetch(`${this.url}/_test/stats`)).json()).requests;
  }
  async reset() {
    await fetch(`${this.url}/_test/reset`, { method: "POST" });
  }
  async fault(spec) {
    const r = await fetch(`${this.url}/_test/faults`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(spec) });
    if (r.status !== 204) throw new Error(`fault refused: ${r.status}`);
  }
  async register(email, password = "correct horse") {
    const r = await fetch(`${this.url}/auth/register`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }) });
    if (r.status !== 201) throw new Error(`register failed: ${r.status}`);
  }
}

/** `next start` of the build scripts/test-e2e made. */
export class Web {
  /** `env`: e.g. AUTH_MODE=better-auth with its secret, read when pages are served. */
  constructor(env = {}) {
    this.env = env;
  }
  async start() {
    needPorts();
    this.proc = spawn(path.join(ROOT, "www/node_modules/.bin/next"), ["start", "-H", "127.0.0.1", "-p", String(WWW_PORT)], {
      cwd: path.join(ROOT, "www"),
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...this.env },
      stdio: ["ignore", "ignore", "inherit"],
    });
    await waitFor(WWW, this.proc, "next start");
  }
  async stop() {
    await stop(this.proc);
  }
}

/** Serves e2e/lab/ and the web-target build of the package (scripts/test-e2e makes
 * it with wasm-bindgen --target web) for tests that drive the client directly. */
export class Lab {
  /** `port`: a port chosen beforehand (when the backend must know the lab's origin). */
  constructor(pkgDir, port = null) {
    this.roots = { "/pkg/": pkgDir, "/": path.join(ROOT, "e2e", "lab") };
    this.port = port;
  }
  async start() {
    this.port ??= await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
    this.server = createServer((req, res) => {
      const url = new URL(req.url, this.url);
      const prefix = url.pathname.startsWith("/pkg/") ? "/pkg/" : "/";
      const rel = url.pathname.slice(prefix.length) || "index.html";
      const file = path.join(this.roots[prefix], path.normalize(rel).replace(/^(\.\.[/\\])+/, ""));
      if (!file.startsWith(this.roots[prefix]) || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "Content-Type": types[path.extname(file)] ?? "application/octet-stream" });
      createReadStream(file).pipe(res);
    });
    await new Promise((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
  }
  async stop() {
    // Not started (an earlier start failed): nothing to close.
    if (this.server) await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Any loopback origin: the lab page's port is chosen at run time. */
export const LOOPBACK_ORIGINS = "http://127\\.0\\.0\\.1(:\\d+)?";

/** A backend of its own on a free port for tests that drive the client on the lab
 * page: limits out of the way, the lab's origin allowed; `env` adds or overrides. */
export function labBackend(env = {}) {
  return new Backend({ RATE_LIMIT_AUTH: "1000/60", RATE_LIMIT_REFRESH: "1000/60", CORS_ORIGIN_REGEX: LOOPBACK_ORIGINS, ...env }, null);
}

/** A virtual platform authenticator for `page` (Chromium only: the DevTools
 * protocol's WebAuthn domain), user verification on, presence simulated: every ceremony
 * completes as if the person touched the sensor. */
export async function authenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const add = () =>
    cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
  const { authenticatorId } = await add();
  return { cdp, id: authenticatorId, add };
}

/** Go to the lab page (`url`: one of its addresses) and wait until its client loaded. */
export async function openLab(page, lab, url = `${lab.url}/`) {
  await page.goto(url);
  await page.waitForFunction(() => window.labReady === true);
}

/** A client in the lab page's `window.auth` (config passed as is), the events it
 * reports in `window.events`, and `window.outcome(promise)`: "ok" or the AuthError's code. */
export async function startLabClient(page, config) {
  await page.evaluate((cfg) => {
    window.auth = new window.AuthClient(cfg);
    window.events = [];
    window.auth.subscribe((_s, e) => window.events.push(e));
    window.outcome = (p) => p.then(() => "ok", (e) => (e instanceof window.authWasm.AuthError ? e.code : `not an AuthError: ${e}`));
  }, config);
}

/** A fresh, empty profile per launch. `browser.newContext()` is isolated storage. */
export async function launchBrowser(engine = ENGINE) {
  if (engine === "firefox") return launchFirefox();
  if (engine === "webkit") return launchWebKit();
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/** Start `backend` and `web` (the www app, or the lab page) and a browser before a
 * file's tests, stop them after. Returns a holder whose `browser` is set once started. */
export function useStack(backend, web, { onStop } = {}) {
  const stack = { browser: null };
  before(async () => {
    await backend.start();
    await web.start();
    stack.chromium = await launchBrowser();
    stack.browser = stack.chromium.browser;
  });
  after(async () => {
    await stack.chromium?.close();
    await web.stop();
    await backend.dispose();
    await onStop?.();
  });
  return stack;
}

/** Uncaught errors, console errors and hydration warnings seen by a page.
 * Chromium logs every 4xx/5xx resource as "Failed to load resource": those are the
 * expected answers of the scenarios (a 401 before a refresh, a stopped backend), not
 * application errors, so they are kept apart. */
export function watchConsole(page) {
  const problems = [];
  page.on("pageerror", (err) => {
    // Firefox's own report of a cross-origin request that got no answer (a stopped
    // backend), which Chromium logs as "Failed to load resource"; a refused CORS check
    // gives another reason and is still a problem.
    if (/^Cross-Origin Request Blocked: .*\(Reason: CORS request did not succeed\)/.test(err.message)) return;
    problems.push(`pageerror: ${err.message}`);
  });
  page.on("console", (msg) => {
    const text = msg.text();
    if (/hydrat/i.test(text)) problems.push(`hydration: ${text}`);
    else if (msg.type() === "error" && !text.startsWith("Failed to load resource")) problems.push(`console.error: ${text}`);
  });
  return problems;
}

export function uniqueEmail(tag) {
  return `${tag}-${Date.now()}-${randomBytes(3).toString("hex")}@example.com`;
}

export async function signUp(page, email, password = "correct horse", name = "Ada Lovelace") {
  await page.goto(`${WWW}/signup`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${WWW}/dashboard`);
}

export async function signIn(page, email, password = "correct horse") {
  await page.goto(`${WWW}/signin`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  // Exact: the page also has "Sign in with a passkey".
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

export const SESSION_KEY = "auth-wasm:session";

function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  return Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
}

/** A TOTP code (RFC 6238: HMAC-SHA1 over the 30 s step, dynamic truncation, 6 digits),
 * computed here, independently of the backend's library. */
export function totp(secret, stepOffset = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + stepOffset));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** The real OpenID provider (npm `oidc-provider`, scripts/lib/oidc-provider.mjs) on
 * loopback, with one confidential client whose redirect URIs are `redirectUris`.
 * Accounts: alice@example.com (email verified), bob@example.com (not verified), both
 * with the password OIDC_PASSWORD. */
export const OIDC_PASSWORD = "wonderland";

export class OidcProvider {
  constructor(redirectUris) {
    this.redirectUris = redirectUris;
    this.clientId = "auth-wasm-e2e";
    this.clientSecret = randomBytes(24).toString("base64url");
  }
  async start() {
    this.port = await freePort();
    this.issuer = `http://127.0.0.1:${this.port}`;
    this.proc = spawn(process.execPath, [path.join(ROOT, "scripts/lib/oidc-provider.mjs")], {
      cwd: ROOT,
      env: {
        ...process.env,
        OIDC_PORT: String(this.port),
        OIDC_CLIENT_ID: this.clientId,
        OIDC_CLIENT_SECRET: this.clientSecret,
        OIDC_REDIRECT_URIS: this.redirectUris.join(","),
        OIDC_PASSWORD,
      },
      // Its start-up warnings (in-memory adapter, Node version) are expected noise.
      stdio: ["ignore", "ignore", "inherit"],
    });
    await waitFor(`${this.issuer}/.well-known/openid-configuration`, this.proc, "oidc-provider");
  }
  /** OAUTH_PROVIDERS for the backend: this provider as `loopback`. */
  backendSetting() {
    return JSON.stringify({ loopback: { name: "Loopback ID", issuer: this.issuer, client_id: this.clientId, client_secret: this.clientSecret } });
  }
  async stop() {
    await stop(this.proc);
  }
}

/** A real SMTP server on loopback (aiosmtpd from the backend's dev requirements) that
 * keeps every message it receives in a Maildir; `url` is the backend's SMTP_URL. */
export class Mailbox {
  async start() {
    this.port = await freePort();
    this.dir = mkdtempSync(path.join(tmpdir(), "auth-wasm-mail-"));
    this.proc = spawn(
      path.join(ROOT, ".venv/bin/python"),
      ["-m", "aiosmtpd", "-n", "-l", `127.0.0.1:${this.port}`, "-c", "aiosmtpd.handlers.Mailbox", path.join(this.dir, "maildir")],
      { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] },
    );
    for (let i = 0; !(await this.listening()); i++) {
      if (this.proc.exitCode !== null || i > 600) throw new Error("aiosmtpd did not start");
      await sleep(100);
    }
  }
  listening() {
    return new Promise((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port: this.port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
  }
  get url() {
    return `smtp://127.0.0.1:${this.port}`;
  }
  /** Every message received so far: headers as sent, a quoted-printable body decoded
   * (long lines such as the link come that way), as a mail client shows it. */
  messages() {
    const fresh = path.join(this.dir, "maildir", "new");
    if (!existsSync(fresh)) return [];
    const decode = (text) => (/^Content-Transfer-Encoding: quoted-printable/im.test(text) ? text.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))) : text);
    return readdirSync(fresh)
      .map((name) => ({ name, at: statSync(path.join(fresh, name)).mtimeMs }))
      .sort((a, b) => a.at - b.at)
      .map(({ name }) => decode(readFileSync(path.join(fresh, name), "utf8")));
  }
  /** The verification links mailed to `to`, oldest first, once there are `count`. */
  async links(to, count = 1) {
    for (;;) {
      const links = this.messages()
        .filter((m) => m.includes(`To: ${to}`))
        .flatMap((m) => m.match(/https?:\/\/\S+\/verify-email\?token=\S+/g) ?? []);
      if (links.length >= count) return links;
      if (this.proc.exitCode !== null) throw new Error("aiosmtpd stopped");
      await sleep(100);
    }
  }
  async stop() {
    await stop(this.proc);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** On the provider's own pages: sign in as `email`, then allow (or deny) access. */
export async function consentAtProvider(page, email, { allow = true } = {}) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(OIDC_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: allow ? "Allow" : "Deny" }).click();
}
