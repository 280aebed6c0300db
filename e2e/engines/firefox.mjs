// Debian's Firefox ESR over WebDriver BiDi (puppeteer-core), behind the part of
// Playwright's Browser/BrowserContext/Page API the suites use (the demo's routes,
// screenshots and request waits included), so a scenario is written once. What BiDi
// cannot give is listed in harness.mjs (ENGINE_LACKS).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import puppeteer from "puppeteer-core";
import { locators, waitForUrl } from "./dom.mjs";

export const FIREFOX = "/usr/bin/firefox-esr";

// Every page of a suite is a tab the test drives at once: none may be throttled as a
// background tab would be (1 s timer floor, budgets), or the refresh races would
// measure Firefox's scheduler, not the client.
const PREFS = {
  "dom.min_background_timeout_value": 4,
  "dom.min_background_timeout_value_without_budget_throttling": 4,
  "dom.timeout.enable_budget_timer_throttling": false,
  "dom.timeout.throttling_delay": -1,
  "browser.tabs.remote.autostart": true,
  "datareporting.policy.dataSubmissionEnabled": false,
  "app.update.enabled": false,
};

/** A one-argument function from its source: puppeteer sends functions by source. */
const fromSource = (source) => new Function("arg", `return (${source})(arg);`);

/** Playwright's Request and Response shapes over puppeteer's. */
const requestShape = (request) => ({ url: () => request.url(), method: () => request.method(), headers: () => request.headers() });
const responseShape = (response) => ({
  url: () => response.url(),
  status: () => response.status(),
  request: () => requestShape(response.request()),
  headerValue: async (name) => response.headers()[name.toLowerCase()] ?? null,
});

/** Playwright's route URL: the exact address, or a glob where `*` stays within a path
 * segment and `**` does not. */
function urlMatcher(pattern) {
  if (typeof pattern === "function") return (url) => pattern(new URL(url));
  if (pattern instanceof RegExp) return (url) => pattern.test(url);
  if (!pattern.includes("*")) return (url) => url === pattern;
  const source = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*\*|\*/g, (m) => (m === "**" ? ".*" : "[^/]*"));
  const glob = new RegExp(`^${source}$`);
  return (url) => glob.test(url);
}

/** Playwright's Route over an intercepted puppeteer request: continue, abort, fulfill
 * (also with `response`, what `fetch` got) and fetch (made here, in Node, with the
 * request's method, headers and body: the page's cookies go only as far as its headers). */
function routeOf(request) {
  return {
    request: () => requestShape(request),
    continue: () => request.continue(),
    abort: () => request.abort(),
    async fetch() {
      // Node's fetch sets the connection's own headers itself.
      const headers = Object.fromEntries(Object.entries(request.headers()).filter(([name]) => !["host", "connection", "content-length", "keep-alive", "transfer-encoding"].includes(name.toLowerCase())));
      const answer = await fetch(request.url(), { method: request.method(), headers, body: request.hasPostData() ? await request.fetchPostData() : undefined, redirect: "manual" });
      return { status: answer.status, headers: Object.fromEntries(answer.headers), body: Buffer.from(await answer.arrayBuffer()) };
    },
    async fulfill({ response, status, headers, contentType, body } = {}) {
      await request.respond({
        status: status ?? response?.status ?? 200,
        headers: headers ?? response?.headers ?? {},
        contentType,
        body: body ?? response?.body ?? "",
      });
    },
  };
}

/** Routes of a page and of its context (Playwright's order: the page's first, the
 * newest first). Interception starts with the first route: until then requests go
 * untouched, as before. */
class Routes {
  constructor(page, contextRoutes) {
    this.page = page;
    this.own = [];
    this.contextRoutes = contextRoutes;
    this.intercepting = false;
  }
  async add(pattern, handler) {
    this.own.unshift({ matches: urlMatcher(pattern), handler });
    await this.intercept();
  }
  async intercept() {
    if (this.intercepting) return;
    this.intercepting = true;
    await this.page.setRequestInterception(true);
    this.page.on("request", (request) => {
      if (request.isInterceptResolutionHandled()) return;
      const route = [...this.own, ...this.contextRoutes].find((r) => r.matches(request.url()));
      if (!route) return void request.continue().catch(() => {});
      Promise.resolve(route.handler(routeOf(request), requestShape(request))).catch((error) => console.error(`route handler for ${request.url()}:`, error));
    });
  }
}

function wrapPage(page, contextRoutes) {
  const routes = new Routes(page, contextRoutes);
  const wrapped = {
    raw: page,
    routes,
    goto: (url) => page.goto(url),
    reload: () => page.reload(),
    url: () => page.url(),
    close: () => page.close(),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    async waitForFunction(fn, arg, { timeout = 30_000 } = {}) {
      const handle = await page.waitForFunction(fn, { timeout, polling: 50 }, arg);
      return handle.dispose();
    },
    waitForTimeout: (ms) => sleep(ms),
    /** Playwright's: the first request (or response) `predicate` accepts. */
    waitForRequest: async (predicate, { timeout = 30_000 } = {}) => requestShape(await page.waitForRequest((request) => predicate(requestShape(request)), { timeout })),
    waitForResponse: async (predicate, { timeout = 30_000 } = {}) => responseShape(await page.waitForResponse((response) => predicate(responseShape(response)), { timeout })),
    waitForURL: (expected, { timeout } = {}) => waitForUrl(async () => page.url(), expected, timeout),
    /** "networkidle" as Playwright's: no request for 500 ms. */
    async waitForLoadState(state = "load", { timeout = 30_000 } = {}) {
      if (state === "networkidle") return page.waitForNetworkIdle({ idleTime: 500, timeout });
      const ready = state === "domcontentloaded" ? ["interactive", "complete"] : ["complete"];
      await page.waitForFunction((states) => states.includes(document.readyState), { timeout, polling: 50 }, ready);
    },
    addInitScript: async (fn, arg) => {
      await page.evaluateOnNewDocument(fn, arg);
    },
    screenshot: ({ path: file, fullPage = false } = {}) => page.screenshot({ path: file, fullPage }),
    route: (pattern, handler) => routes.add(pattern, handler),
    on(event, handler) {
      if (event === "response") {
        page.on("response", (response) => handler(responseShape(response)));
      } else if (event === "console" || event === "pageerror") {
        page.on(event, handler);
      } else {
        throw new Error(`page.on(${event}) is not adapted for Firefox`);
      }
    },
    ...locators((source, arg) => page.evaluate(fromSource(source), arg)),
  };
  return wrapped;
}

class Context {
  constructor(context, { viewport } = {}) {
    this.context = context;
    this.viewport = viewport;
    this.initScripts = [];
    this.routes = [];
    this.pages = [];
  }
  async newPage() {
    const page = await this.context.newPage({ type: "window" });
    if (this.viewport) await page.setViewport(this.viewport);
    for (const { fn, arg } of this.initScripts) await page.evaluateOnNewDocument(fn, arg);
    const wrapped = wrapPage(page, this.routes);
    if (this.routes.length) await wrapped.routes.intercept();
    this.pages.push(wrapped);
    return wrapped;
  }
  async addInitScript(fn, arg) {
    this.initScripts.push({ fn, arg });
  }
  /** Every page of the context, those open and those to come. */
  async route(pattern, handler) {
    this.routes.unshift({ matches: urlMatcher(pattern), handler });
    for (const page of this.pages) if (!page.raw.isClosed()) await page.routes.intercept();
  }
  /** Playwright's shape: the cookies a request to `url` would carry. */
  async cookies(url) {
    const target = new URL(url);
    const all = await this.context.cookies();
    return all
      .filter((c) => (c.domain.replace(/^\./, "") === target.hostname) && target.pathname.startsWith(c.path))
      .map((c) => ({ name: c.name, value: c.value, path: c.path, domain: c.domain, httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite }));
  }
  async clearCookies() {
    const all = await this.context.cookies();
    if (all.length) await this.context.deleteCookie(...all);
  }
  close() {
    return this.context.close();
  }
}

export async function launchFirefox() {
  const profile = mkdtempSync(path.join(tmpdir(), "auth-wasm-firefox-"));
  const browser = await puppeteer.launch({
    browser: "firefox",
    protocol: "webDriverBiDi",
    executablePath: FIREFOX,
    headless: true,
    userDataDir: profile,
    extraPrefsFirefox: PREFS,
    // Launch waits as long as a test may (puppeteer's default, 30 s, was too short for the
    // run's first Firefox once, in CI on this two-core machine: every test of that file
    // then failed in its hook; scripts/lib/wasm-test-firefox.mjs waits as long).
    timeout: 120_000,
  });
  return {
    browser: {
      async newContext(options) {
        return new Context(await browser.createBrowserContext(), options);
      },
    },
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
