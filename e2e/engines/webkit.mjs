// WebKitGTK through WebKitWebDriver (WebDriver classic over HTTP) and MiniBrowser on a
// private Xvfb display, behind the part of Playwright's API the suites use. A
// context is a WebDriver session (its own MiniBrowser, its own storage); a page is a
// window of it. WebDriver classic runs one command at a time per session, so a
// page's evaluate starts the function and then polls for its result: the pages of a
// context run their scripts concurrently, as tabs do. What classic WebDriver cannot
// give (network responses; scripts before load only on the lab page) is listed in
// harness.mjs.
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { locators, waitForUrl } from "./dom.mjs";

export const WEBDRIVER = "/usr/bin/WebKitWebDriver";

/** MiniBrowser ships inside the WebKitGTK library package, under the multiarch dir. */
export function miniBrowser() {
  if (process.env.E2E_MINIBROWSER) return process.env.E2E_MINIBROWSER;
  for (const arch of readdirSync("/usr/lib")) {
    for (const api of ["webkitgtk-6.0", "webkit2gtk-4.1", "webkit2gtk-4.0"]) {
      const candidate = `/usr/lib/${arch}/${api}/MiniBrowser`;
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error("MiniBrowser not found (Debian: libwebkit2gtk-4.1-0)");
}

function stop(proc) {
  return new Promise((resolve) => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once("exit", () => resolve());
    proc.kill("SIGTERM");
  });
}

/** Xvfb picks a free display itself and writes its number to fd 3. */
async function startXvfb() {
  const proc = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"], { stdio: ["ignore", "ignore", "ignore", "pipe"] });
  const display = await new Promise((resolve, reject) => {
    let out = "";
    proc.once("exit", (code) => reject(new Error(`Xvfb exited with ${code}`)));
    proc.stdio[3].on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve(`:${out.trim()}`);
    });
  });
  return { proc, display };
}

async function freeLoopbackPort() {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

class WebDriverError extends Error {}

async function call(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok || json.value?.error) throw new WebDriverError(`${method} ${path}: ${json.value?.error ?? response.status}: ${json.value?.message ?? ""}`);
  return json.value;
}

// In the page: what WebDriver classic does not report (console output, uncaught
// errors and rejections), kept from the page's first evaluate on and handed back with
// every result. Earlier output (the page's own start) is not seen.
const WATCH = `
  if (!window.__e2eSeen) {
    const seen = (window.__e2eSeen = []);
    const text = (v) => (v instanceof Error ? v.name + ": " + v.message : typeof v === "string" ? v : (() => { try { return JSON.stringify(v); } catch { return String(v); } })());
    addEventListener("error", (e) => seen.push({ kind: "pageerror", text: e.error ? text(e.error) : e.message }));
    addEventListener("unhandledrejection", (e) => seen.push({ kind: "pageerror", text: text(e.reason) }));
    for (const [method, type] of [["log", "log"], ["info", "info"], ["warn", "warning"], ["error", "error"], ["debug", "debug"]]) {
      const original = console[method];
      console[method] = function (...args) {
        seen.push({ kind: "console", type, text: args.map(text).join(" ") });
        return original.apply(this, args);
      };
    }
  }`;

// In the page: start the function, report its result if it settles at once, else
// leave it in a slot for `COLLECT` to pick up.
const START = (source) => `${WATCH}
  const [arg, id, done] = arguments;
  const slots = (window.__e2eSlots ??= {});
  const slot = (slots[id] = { done: false });
  const settle = (ok, value) => { slot.done = true; slot.ok = ok; slot.undefined = value === undefined; slot.value = value === undefined ? null : value; };
  Promise.resolve().then(() => (${source})(arg)).then((v) => settle(true, v), (e) => settle(false, e instanceof Error ? e.name + ": " + e.message : String(e)));
  setTimeout(() => { if (slot.done) delete slots[id]; slot.href = location.href; slot.seen = window.__e2eSeen.splice(0); done(slot); }, 0);`;
const COLLECT = `
  const slots = window.__e2eSlots ?? {};
  const slot = slots[arguments[0]];
  if (!slot) return { lost: true };
  if (slot.done) delete slots[arguments[0]];
  slot.href = location.href;
  slot.seen = (window.__e2eSeen ?? []).splice(0);
  return slot;`;

class Session {
  constructor(base) {
    this.base = base;
    this.queue = Promise.resolve();
    this.current = null;
    this.initScripts = [];
  }
  async create() {
    const value = await call(this.base, "POST", "/session", {
      capabilities: { alwaysMatch: { "webkitgtk:browserOptions": { binary: miniBrowser(), args: ["--automation"] } } },
    });
    this.id = value.sessionId;
    this.home = await call(this.base, "GET", `/session/${this.id}/window`);
    this.current = this.home;
  }
  /** Run `fn` alone on this session with `handle` the current window. */
  on(handle, fn) {
    const run = this.queue.then(async () => {
      if (handle && this.current !== handle) {
        await this.cmd("POST", "/window", { handle });
        this.current = handle;
      }
      return fn();
    });
    this.queue = run.catch(() => {});
    return run;
  }
  cmd(method, path, body) {
    return call(this.base, method, `/session/${this.id}${path}`, body);
  }
  async dispose() {
    await this.queue;
    await call(this.base, "DELETE", `/session/${this.id}`).catch(() => {});
  }
}

function page(session, handle) {
  // Playwright's page.url() is synchronous: here the address as of the last command
  // that saw it (goto, reload, waitForURL, and every evaluate reports location.href).
  let lastUrl = "about:blank";
  const handlers = { console: [], pageerror: [] };
  const report = (seen = []) => {
    for (const item of seen) {
      if (item.kind === "console") for (const h of handlers.console) h({ type: () => item.type, text: () => item.text });
      else for (const h of handlers.pageerror) h(new Error(item.text));
    }
  };
  const evaluateSource = async (source, arg) => {
    const id = randomBytes(6).toString("hex");
    let slot = await session.on(handle, () => session.cmd("POST", "/execute/async", { script: START(source), args: [arg ?? null, id] }));
    while (!slot.done && !slot.lost) {
      report(slot.seen);
      await sleep(20);
      slot = await session.on(handle, () => session.cmd("POST", "/execute/sync", { script: COLLECT, args: [id] }));
    }
    if (slot.href) lastUrl = slot.href;
    report(slot.seen);
    if (slot.lost) throw new Error("evaluate: the page navigated away before the result");
    if (!slot.ok) throw new Error(`evaluate: ${slot.value}`);
    // JSON has no undefined: the page says when the result was.
    return slot.undefined ? undefined : slot.value;
  };
  const evaluate = (fn, arg) => evaluateSource(fn.toString(), arg);
  const currentUrl = async () => (lastUrl = await session.on(handle, () => session.cmd("GET", "/url")));
  return {
    evaluate,
    async goto(to) {
      if (session.initScripts.length && /^https?:/.test(to)) to = `${to.split("#")[0]}#e2e-init=${encodeURIComponent(JSON.stringify(session.initScripts))}`;
      await session.on(handle, () => session.cmd("POST", "/url", { url: to }));
      await currentUrl();
    },
    async reload() {
      await session.on(handle, () => session.cmd("POST", "/refresh", {}));
      await currentUrl();
    },
    url: () => lastUrl,
    close: () =>
      session.on(handle, async () => {
        await session.cmd("DELETE", "/window");
        // New Window needs an open current window: back to the blank one.
        await session.cmd("POST", "/window", { handle: session.home });
        session.current = session.home;
      }),
    async waitForFunction(fn, arg, { timeout = 30_000 } = {}) {
      const deadline = Date.now() + timeout;
      while (!(await evaluate(fn, arg))) {
        if (Date.now() > deadline) throw new Error(`waitForFunction timed out: ${fn}`);
        await sleep(50);
      }
    },
    waitForTimeout: (ms) => sleep(ms),
    waitForURL: (expected, { timeout } = {}) => waitForUrl(currentUrl, expected, timeout),
    // Console output and page errors as the page's watcher saw them (WATCH).
    on(event, handler) {
      if (!handlers[event]) throw new Error(`page.on(${event}) is not available over WebDriver classic`);
      handlers[event].push(handler);
    },
    ...locators(evaluateSource),
  };
}

class Context {
  constructor(session) {
    this.session = session;
  }
  async newPage() {
    // The session's first window stays blank: closing a session's last window would
    // end the session, and a test may close every page it opened.
    const { handle } = await this.session.on(null, () => this.session.cmd("POST", "/window/new", { type: "window" }));
    return page(this.session, handle);
  }
  /** WebDriver classic cannot run a script before a page's own: the lab page runs
   * the ones its address carries (e2e/lab/index.html), so `goto` adds them there. */
  async addInitScript(fn) {
    this.session.initScripts.push(fn.toString());
  }
  /** The cookies a request to `url` would carry, read from a blank window sent there. */
  cookies(url) {
    return this.session.on(this.session.home, async () => {
      await this.session.cmd("POST", "/url", { url });
      const cookies = await this.session.cmd("GET", "/cookie");
      await this.session.cmd("POST", "/url", { url: "about:blank" });
      return cookies.map((c) => ({ name: c.name, value: c.value, path: c.path, domain: c.domain, httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite }));
    });
  }
  close() {
    return this.session.dispose();
  }
}

/** One WebKitWebDriver per context: the driver serves a single session at a time. */
async function startDriver(display) {
  const port = await freeLoopbackPort();
  const proc = spawn(WEBDRIVER, [`--port=${port}`], { env: { ...process.env, DISPLAY: display }, stdio: ["ignore", "ignore", "inherit"] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await call(base, "GET", "/status");
      return { proc, base };
    } catch (e) {
      if (proc.exitCode !== null || i > 200) {
        await stop(proc);
        throw new Error(`WebKitWebDriver did not start: ${e.message}`);
      }
      await sleep(25);
    }
  }
}

export async function launchWebKit() {
  const xvfb = await startXvfb();
  const open = new Set();
  return {
    browser: {
      async newContext() {
        const driver = await startDriver(xvfb.display);
        const session = new Session(driver.base);
        try {
          await session.create();
        } catch (e) {
          await stop(driver.proc);
          throw e;
        }
        const context = new Context(session);
        const closeSession = context.close.bind(context);
        const entry = async () => {
          open.delete(entry);
          await closeSession();
          await stop(driver.proc);
        };
        open.add(entry);
        context.close = entry;
        return context;
      },
    },
    async close() {
      for (const close of [...open]) await close();
      await stop(xvfb.proc);
    },
  };
}
