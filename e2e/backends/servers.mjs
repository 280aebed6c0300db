// Token servers other than the reference backend, for the recipes of docs/backends.md:
// Django REST framework SimpleJWT (e2e/backends/simplejwt/) and FastAPI's OAuth2
// password flow (e2e/backends/oauth2_password/). Each runs from .venv (the packages are
// pinned in backend/requirements-dev.txt) on 127.0.0.1 at a free port, with a temporary
// directory of its own, and is stopped by its pid.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, ROOT } from "../harness.mjs";

const PYTHON = path.join(ROOT, ".venv/bin/python");

/** Run a command to its end; its output is shown only when it fails. */
function run(args, options) {
  return new Promise((resolve, reject) => {
    const proc = spawn(PYTHON, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    proc.stdout.on("data", (d) => (output += d));
    proc.stderr.on("data", (d) => (output += d));
    proc.once("error", reject);
    proc.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(" ")} exited with ${code}:\n${output}`))));
  });
}

class PythonServer {
  constructor(name) {
    this.name = name;
    this.dir = mkdtempSync(path.join(tmpdir(), `auth-wasm-${name}-`));
    this.proc = null;
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  /** Spawn `args` with `env` and wait until `probe` answers below 500. */
  async spawn(args, options, probe) {
    this.port = await freePort();
    this.proc = spawn(PYTHON, args(this.port), { ...options, stdio: ["ignore", "ignore", "inherit"] });
    for (let i = 0; ; i++) {
      if (this.proc.exitCode !== null) throw new Error(`${this.name} exited with ${this.proc.exitCode}`);
      if (i > 600) throw new Error(`${this.name} did not start`);
      try {
        if ((await fetch(`${this.url}${probe}`)).status < 500) return;
      } catch {
        // not up yet
      }
      await sleep(100);
    }
  }
  async stop() {
    const proc = this.proc;
    if (proc && proc.exitCode === null) {
      await new Promise((resolve) => {
        proc.once("exit", resolve);
        proc.kill("SIGTERM");
      });
    }
    this.proc = null;
  }
  /** Stopped, and its files removed (useStack's end). */
  async dispose() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The Django project of e2e/backends/simplejwt (rotation and blacklisting on, SQLite),
 * migrated, with one user made by `createsuperuser`, served by `runserver`. */
export class SimpleJwtServer extends PythonServer {
  constructor({ accessSeconds = 300 } = {}) {
    super("simplejwt");
    this.username = "ada";
    this.password = randomBytes(12).toString("base64url");
    this.env = {
      ...process.env,
      SIMPLEJWT_SECRET_KEY: randomBytes(48).toString("base64url"),
      SIMPLEJWT_DATABASE: path.join(this.dir, "db.sqlite3"),
      SIMPLEJWT_ACCESS_SECONDS: String(accessSeconds),
    };
  }
  async start() {
    const cwd = path.join(ROOT, "e2e/backends/simplejwt");
    await run(["manage.py", "migrate", "--noinput"], { cwd, env: this.env });
    await run(["manage.py", "createsuperuser", "--noinput", "--username", this.username, "--email", "ada@example.com"], {
      cwd,
      env: { ...this.env, DJANGO_SUPERUSER_PASSWORD: this.password },
    });
    await this.spawn((port) => ["manage.py", "runserver", `127.0.0.1:${port}`, "--noreload"], { cwd, env: this.env }, "/api/me/");
  }
}

/** The FastAPI app of e2e/backends/oauth2_password (FastAPI's documented /token form
 * login, JWT bearer, no refresh token), with one user, under uvicorn. */
export class OAuth2PasswordServer extends PythonServer {
  constructor({ accessSeconds = 300 } = {}) {
    super("oauth2-password");
    this.username = "johndoe";
    this.password = randomBytes(12).toString("base64url");
    this.env = {
      ...process.env,
      OAUTH2_SECRET_KEY: randomBytes(32).toString("hex"),
      OAUTH2_USERNAME: this.username,
      OAUTH2_PASSWORD: this.password,
      OAUTH2_ACCESS_SECONDS: String(accessSeconds),
    };
  }
  async start() {
    await this.spawn(
      (port) => ["-m", "uvicorn", "app:app", "--app-dir", path.join(ROOT, "e2e/backends/oauth2_password"), "--host", "127.0.0.1", "--port", String(port), "--log-level", "warning"],
      { cwd: ROOT, env: this.env },
      "/users/me/",
    );
  }
}
