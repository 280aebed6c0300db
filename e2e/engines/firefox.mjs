// Debian's Firefox ESR over WebDriver BiDi (puppeteer-core), behind the part of
// Playwright's Browser/BrowserContext/Page API the suites use, so a scenario is
// written once. What BiDi cannot give is listed in harness.mjs (ENGINE_LACKS).
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

function wrapPage(page) {
  const listeners = [];
  const wrapped = {
    raw: page,
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
    /** Playwright's: the first request `predicate` accepts (it gets `url()`). */
    waitForRequest: (predicate, { timeout = 30_000 } = {}) => page.waitForRequest((request) => predicate({ url: () => request.url() }), { timeout }),
    waitForURL: (expected, { timeout } = {}) => waitForUrl(async () => page.url(), expected, timeout),
    on(event, handler) {
      if (event === "response") {
        page.on("response", (response) => handler({ headerValue: async (name) => response.headers()[name.toLowerCase()] ?? null }));
      } else if (event === "console" || event === "pageerror") {
        page.on(event, handler);
      } else {
        throw new Error(`page.on(${event}) is not adapted for Firefox`);
      }
      listeners.push(event);
    },
    ...locators((source, arg) => page.evaluate(fromSource(source), arg)),
  };
  return wrapped;
}

class Context {
  constructor(context) {
    this.context = context;
    this.initScripts = [];
  }
  async newPage() {
    const page = await this.context.newPage({ type: "window" });
    for (const script of this.initScripts) await page.evaluateOnNewDocument(script);
    return wrapPage(page);
  }
  async addInitScript(fn) {
    this.initScripts.push(fn);
  }
  /** Playwright's shape: the cookies a request to `url` would carry. */
  async cookies(url) {
    const target = new URL(url);
    const all = await this.context.cookies();
    return all
      .filter((c) => (c.domain.replace(/^\./, "") === target.hostname) && target.pathname.startsWith(c.path))
      .map((c) => ({ name: c.name, value: c.value, path: c.path, domain: c.domain, httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite }));
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
  });
  return {
    browser: {
      async newContext() {
        return new Context(await browser.createBrowserContext());
      },
    },
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
