// Refresh that never races (issue 6), against the real backend's rotation and reuse
// detection: many tabs at expiry, no Web Locks, 503s, 429, skewed clocks, dead tabs.
// e2e-engines: chromium firefox webkit
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Lab, labBackend, needs, openLab, uniqueEmail, useStack, watchConsole, startLabClient } from "./harness.mjs";

const TTL = 6;

const backend = labBackend({ ACCESS_TOKEN_TTL: String(TTL) });
const lab = new Lab(process.env.E2E_LAB_PKG);
const chromium = useStack(backend, lab);

// Every context a test opens is closed after it, pass or fail: a leftover tab's
// client would keep refreshing and skew the next test's counts.
const contexts = [];
async function newContext() {
  const context = await chromium.browser.newContext();
  contexts.push(context);
  return context;
}

beforeEach(async () => backend.reset());
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});

/** A page of the lab with a client (restored from storage when signed in before). */
async function tab(context, config = {}) {
  const page = await context.newPage();
  const problems = watchConsole(page);
  await openLab(page, lab);
  await startLabClient(page, { baseUrl: backend.url, ...config });
  return { page, problems };
}

async function signIn(page) {
  const email = uniqueEmail("race");
  await backend.register(email);
  await page.evaluate((email) => window.auth.login({ email, password: "correct horse" }), email);
  return email;
}

const snapshot = (page) => page.evaluate(() => { const s = window.auth.getSnapshot(); return { status: s.status, expiresAt: s.expiresAt, refreshing: s.refreshing, error: s.error?.code ?? null }; });

async function untilExpired(page, extraMs = 300) {
  const { expiresAt } = await snapshot(page);
  const wait = expiresAt + extraMs - (await page.evaluate(() => Date.now()));
  if (wait > 0) await sleep(wait);
}

/** 5 tabs x 20 concurrent requests right at expiry: one refresh, nobody signed out. */
async function stormAtExpiry(context) {
  // refreshMargin 0: every tab's proactive timer fires at expiry too, racing the requests.
  const tabs = [await tab(context, { refreshMargin: 0 })];
  await signIn(tabs[0].page);
  for (let i = 1; i < 5; i++) tabs.push(await tab(context, { refreshMargin: 0 }));
  for (const t of tabs) assert.equal((await snapshot(t.page)).status, "authenticated", "restored from storage");
  await backend.reset();
  await untilExpired(tabs[0].page);
  const statuses = await Promise.all(
    tabs.map((t) => t.page.evaluate((api) => Promise.all(Array.from({ length: 20 }, () => window.auth.fetch(`${api}/notes`).then((r) => r.status))), backend.url)),
  );
  assert.deepEqual(statuses.flat(), Array(100).fill(200));
  const stats = await backend.stats();
  assert.equal(stats["/auth/refresh"], 1, `exactly one refresh: ${JSON.stringify(stats)}`);
  assert.equal(stats["/notes"], 100, "no request needed a replay");
  for (const t of tabs) {
    assert.equal((await snapshot(t.page)).status, "authenticated", "no tab signed out");
    assert.deepEqual(t.problems, []);
  }
  // The session survived reuse detection: it can still refresh.
  assert.equal(await tabs[2].page.evaluate(() => window.auth.refresh().then((s) => s.status)), "authenticated");
}

describe("refresh across tabs", () => {
  test("5 tabs x 20 requests at expiry with Web Locks: one refresh", async () => {
    const context = await newContext();
    await stormAtExpiry(context);
  });

  test("the same without navigator.locks (BroadcastChannel claims): one refresh", { skip: needs("initScript") }, async () => {
    const context = await newContext();
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined, configurable: true }));
    const { page } = await tab(context);
    assert.equal(await page.evaluate(() => navigator.locks), undefined);
    await page.close();
    await stormAtExpiry(context);
  });

  test("tabs that refresh in the task that created their client still send one refresh", async () => {
    const context = await newContext();
    const first = await tab(context);
    await signIn(first.page);
    // This tab's client goes, so nothing refreshes before the new tabs do.
    await first.page.evaluate(() => window.auth.free());
    await untilExpired(first.page);
    const pages = [];
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage();
      await openLab(page, lab);
      pages.push(page);
    }
    // A client's locks and channel start a task after its constructor, unless a refresh
    // needs them first, as here: created and asked for a token in one task.
    const tokens = await Promise.all(
      pages.map((page) => page.evaluate((baseUrl) => new window.AuthClient({ baseUrl }).getAccessToken(), backend.url)),
    );
    assert.ok(tokens.every((t) => typeof t === "string" && t.length > 0), "every tab has a token");
    assert.equal(new Set(tokens).size, 1, "the tabs share the one refreshed token");
    assert.equal((await backend.stats())["/auth/refresh"], 1);
  });

  test("503 twice then 200: the session is kept and refreshes after backoff", async () => {
    const context = await newContext();
    const { page, problems } = await tab(context, { retry: { baseDelay: 200, maxDelay: 1000 } });
    await signIn(page);
    await backend.fault({ path: "/auth/refresh", status: 503, times: 2 });
    const first = await page.evaluate(() => window.auth.refresh().then(() => "ok", (e) => e.code));
    assert.equal(first, "server");
    const during = await snapshot(page);
    assert.equal(during.status, "authenticated", "kept while retrying");
    assert.equal(during.refreshing, true, "snapshot.refreshing while a retry is pending");
    await page.waitForFunction(() => window.events.includes("token_refreshed"), null, { timeout: 15_000 });
    assert.equal((await backend.stats())["/auth/refresh"], 3);
    const done = await snapshot(page);
    assert.equal(done.refreshing, false);
    assert.equal(done.error, null);
    assert.deepEqual(problems, []);
  });

  test("429 with Retry-After: 2: no refresh request before 2 s", async () => {
    const context = await newContext();
    // refreshMargin 0: the proactive timer stays out of this test's window.
    const { page } = await tab(context, { refreshMargin: 0 });
    await signIn(page);
    await backend.fault({ path: "/auth/refresh", status: 429, retry_after: 2 });
    const started = Date.now();
    const first = await page.evaluate(() => window.auth.refresh().then(() => null, (e) => ({ code: e.code, retryAfter: e.retryAfter })));
    assert.deepEqual(first, { code: "rate_limited", retryAfter: 2 });
    // Hammer it meanwhile: callers get the error, the server gets nothing.
    while (Date.now() - started < 1500) {
      const code = await page.evaluate(() => window.auth.refresh().then(() => "ok", (e) => e.code));
      assert.equal(code, "rate_limited");
      await sleep(100);
    }
    assert.equal((await backend.stats())["/auth/refresh"], 1, "nothing sent before Retry-After");
    await sleep(Math.max(0, started + 2300 - Date.now()));
    assert.equal(await page.evaluate(() => window.auth.refresh().then((s) => s.status)), "authenticated");
    assert.equal((await backend.stats())["/auth/refresh"], 2);
  });

  for (const [name, skew] of [["10 minutes fast", 600_000], ["10 minutes slow", -600_000]]) {
    test(`a page clock ${name}: no refresh loop, no expired token sent`, { skip: needs("clock") }, async () => {
      const context = await newContext();
      const page0 = await context.newPage();
      await page0.clock.install({ time: Date.now() + skew });
      await page0.close();
      const { page, problems } = await tab(context);
      await page.clock.install({ time: Date.now() + skew });
      await page.reload();
      await page.waitForFunction(() => window.labReady === true);
      await page.evaluate((api) => { window.auth = new window.AuthClient({ baseUrl: api }); }, backend.url);
      const skewSeen = await page.evaluate(() => Date.now()) - Date.now();
      assert.ok(Math.abs(skewSeen - skew) < 5_000, `the page clock is off by ${skewSeen} ms`);
      await signIn(page);
      await backend.reset();
      const s = await snapshot(page);
      assert.equal(s.status, "authenticated", "a fresh token is not seen as expired");
      assert.ok(Math.abs(s.expiresAt - (await page.evaluate(() => Date.now())) - TTL * 1000) < 3_000, "expiresAt is in the page's clock");
      const fetchNotes = () => page.evaluate((api) => window.auth.fetch(`${api}/notes`).then((r) => r.status), backend.url);
      assert.equal(await fetchNotes(), 200);
      await sleep(TTL * 1000 + 1000);
      assert.equal(await fetchNotes(), 200);
      const stats = await backend.stats();
      assert.equal(stats["/notes"], 2, "no 401 and replay: no expired token was sent");
      assert.ok(stats["/auth/refresh"] >= 1 && stats["/auth/refresh"] <= 3, `refreshes in ${TTL + 1} s: ${stats["/auth/refresh"]} (a loop would be hundreds)`);
      assert.deepEqual(problems, []);
    });
  }

  test("a tab closed while holding the refresh lock does not block the others", async () => {
    const context = await newContext();
    const a = await tab(context);
    await signIn(a.page);
    await a.page.evaluate(() => { navigator.locks.request("auth-wasm:refresh", () => new Promise(() => {})); });
    const b = await tab(context);
    await backend.reset();
    const pending = b.page.evaluate(() => window.auth.refresh().then((s) => s.status, (e) => e.code));
    await sleep(500);
    assert.equal((await backend.stats())["/auth/refresh"] ?? 0, 0, "waiting for the lock");
    await a.page.close();
    assert.equal(await pending, "authenticated");
    assert.equal((await backend.stats())["/auth/refresh"], 1);
  });

  test("a hung tab holding the lock is outwaited after lockTimeout", async () => {
    const context = await newContext();
    const a = await tab(context);
    await signIn(a.page);
    await a.page.evaluate(() => { navigator.locks.request("auth-wasm:refresh", () => new Promise(() => {})); });
    const b = await tab(context, { lockTimeout: 1000 });
    await backend.reset();
    assert.equal(await b.page.evaluate(() => window.auth.refresh().then((s) => s.status, (e) => e.code)), "authenticated");
    assert.equal((await backend.stats())["/auth/refresh"], 1);
  });

  test("sign-in, refresh and sign-out reach other tabs, for session and memory storage too", async () => {
    for (const storage of ["local", "session", "memory"]) {
      const context = await newContext();
      const a = await tab(context, { storage });
      const b = await tab(context, { storage });
      await signIn(a.page);
      await b.page.waitForFunction(() => window.auth.getSnapshot().status === "authenticated", null, { timeout: 2000 });
      assert.ok(await b.page.evaluate(() => window.events.includes("synced")), `${storage}: synced event`);
      await a.page.evaluate(() => window.auth.refresh());
      const tokenA = await a.page.evaluate(() => window.auth.getAccessToken());
      await b.page.waitForFunction((t) => window.auth.getAccessToken().then((x) => x === t), tokenA, { timeout: 2000 });
      await a.page.evaluate(() => window.auth.logout());
      await b.page.waitForFunction(() => window.auth.getSnapshot().status === "anonymous", null, { timeout: 2000 });
    }
  });

  test("free() stops timers, listeners and the channel", async () => {
    const context = await newContext();
    const a = await tab(context, { refreshMargin: 0 });
    await signIn(a.page);
    const b = await tab(context, { refreshMargin: 0 });
    const { expiresAt } = await snapshot(b.page);
    await b.page.evaluate(() => window.auth.free());
    await backend.reset();
    await a.page.close();
    await sleep(Math.max(0, expiresAt + 1500 - Date.now()));
    assert.equal((await backend.stats())["/auth/refresh"] ?? 0, 0, "a freed client's timer never fires");
  });
});
