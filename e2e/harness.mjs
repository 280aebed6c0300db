// Starts the real backend and the production build of www on loopback, drives
// Debian's Chromium with playwright-core, and stops every process by pid.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const ARTIFACTS = path.join(ROOT, "artifacts", "e2e");
mkdirSync(ARTIFACTS, { recursive: true });

const BACKEND_PORT = Number(process.env.E2E_BACKEND_PORT);
const WWW_PORT = Number(process.env.E2E_WWW_PORT);
if (!BACKEND_PORT || !WWW_PORT) throw new Error("E2E_BACKEND_PORT and E2E_WWW_PORT are set by scripts/test-e2e");
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

/** The backend, restartable on the same port, database and secret (scenario 5). */
export class Backend {
  constructor(env = {}) {
    this.dir = mkdtempSync(path.join(tmpdir(), "auth-wasm-e2e-"));
    this.env = {
      ...process.env,
      BETTER_AUTH_SECRET: randomBytes(48).toString("base64url"),
      DATABASE_URL: `sqlite:///${this.dir}/e2e.db`,
      BACKEND_ENV_FILE: "",
      AUTH_TEST_HOOKS: "1",
      PASSWORD_HASH_PROFILE: "fast",
      CORS_ORIGINS: `${WWW},http://localhost:${WWW_PORT}`,
      ...env,
    };
    this.proc = null;
  }
  async start() {
    this.proc = spawn(path.join(ROOT, ".venv/bin/python"), ["-m", "backend", "--host", "127.0.0.1", "--port", String(BACKEND_PORT), "--log-level", "warning"], {
      cwd: ROOT,
      env: this.env,
      stdio: ["ignore", "inherit", "inherit"],
    });
    await waitFor(`${API}/health`, this.proc, "backend");
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
    return (await (await fetch(`${API}/_test/stats`)).json()).requests;
  }
  async reset() {
    await fetch(`${API}/_test/reset`, { method: "POST" });
  }
}

/** `next start` of the build scripts/test-e2e made. */
export class Web {
  async start() {
    this.proc = spawn(path.join(ROOT, "www/node_modules/.bin/next"), ["start", "-H", "127.0.0.1", "-p", String(WWW_PORT)], {
      cwd: path.join(ROOT, "www"),
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
      stdio: ["ignore", "ignore", "inherit"],
    });
    await waitFor(WWW, this.proc, "next start");
  }
  async stop() {
    await stop(this.proc);
  }
}

/** Playwright gives every launch a fresh, empty profile of its own. */
export async function launchBrowser() {
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

/** Uncaught errors, console errors and hydration warnings seen by a page.
 * Chromium logs every 4xx/5xx resource as "Failed to load resource": those are the
 * expected answers of the scenarios (a 401 before a refresh, a stopped backend), not
 * application errors, so they are kept apart. */
export function watchConsole(page) {
  const problems = [];
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
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
  await page.getByRole("button", { name: "Sign in" }).click();
}

export const SESSION_KEY = "auth-wasm:session";
