// Memory-only mode: the access token only in memory, the refresh token only in an
// httpOnly cookie (backend REFRESH_TOKEN_TRANSPORT=cookie). A reload comes back by a
// silent refresh; a cross-site form post can neither refresh nor log out.
// e2e-engines: chromium firefox webkit
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { ENGINE, Lab, labBackend, openLab, uniqueEmail, useStack, watchConsole, startLabClient } from "./harness.mjs";

const CONFIG = { storage: "memory", refreshTransport: "cookie" };
// Secure, as in production (the test hooks need dev mode, which would turn it off:
// REFRESH_COOKIE_SECURE keeps it), hence the __Secure- name: Chromium and Firefox keep
// such a cookie from http on loopback, a potentially trustworthy origin. WebKit drops a
// Secure cookie set by a plain-http answer, loopback or not: there the backend runs as
// plain-http development must, with REFRESH_COOKIE_SECURE=0.
const SECURE = ENGINE !== "webkit";
const REFRESH_COOKIE = SECURE ? "__Secure-refresh_token" : "refresh_token";
let context;

const backend = labBackend({ REFRESH_TOKEN_TRANSPORT: "cookie", REFRESH_COOKIE_SECURE: SECURE ? "1" : "0" });
const lab = new Lab(process.env.E2E_LAB_PKG);
const chromium = useStack(backend, lab);

beforeEach(async () => {
  await backend.reset();
  context = await chromium.browser.newContext();
});
afterEach(async () => context.close());

/** A client on the lab page; `reloaded`: the page was just reloaded, so wait for its
 * client to load instead of navigating again (a second navigation would cut the
 * reload's module and wasm fetches short, which Firefox reports as page errors). */
async function open(page, { reloaded = false } = {}) {
  if (reloaded) await page.waitForFunction(() => window.labReady === true);
  else await openLab(page, lab);
  await startLabClient(page, { baseUrl: backend.url, ...CONFIG });
}

const snapshot = (page) => page.evaluate(() => { const s = window.auth.getSnapshot(); return { status: s.status, storage: s.storage, refreshing: s.refreshing, error: s.error?.code ?? null }; });

async function signedIn(page) {
  const email = uniqueEmail("cookie");
  await backend.register(email);
  await open(page);
  await page.evaluate((email) => window.auth.login({ email, password: "correct horse" }), email);
  return email;
}

test("tokens never reach storage or script; a reload restores by a silent refresh", async () => {
  const page = await context.newPage();
  const problems = watchConsole(page);
  const email = await signedIn(page);
  assert.deepEqual(await snapshot(page), { status: "authenticated", storage: "memory", refreshing: false, error: null });
  const visible = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookies: document.cookie }));
  assert.deepEqual(visible, { local: 0, session: 0, cookies: "" }, "nothing readable by script");
  const cookies = await context.cookies(`${backend.url}/auth/refresh`);
  const cookie = cookies.find((c) => c.name === REFRESH_COOKIE);
  assert.ok(cookie, "the browser holds the refresh cookie");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, SECURE);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(cookie.path, "/auth");

  await backend.reset();
  await page.reload();
  await open(page, { reloaded: true });
  // Operations wait for the restore: the first token is already the restored one.
  assert.match(await page.evaluate(() => window.auth.getAccessToken()), /^eyJ/);
  assert.equal((await snapshot(page)).status, "authenticated");
  assert.equal((await page.evaluate(() => window.auth.me())).email, email);
  assert.equal((await backend.stats())["/auth/refresh"], 1, "one silent refresh");
  assert.equal(await page.evaluate((api) => window.auth.fetch(`${api}/notes`).then((r) => r.status), backend.url), 200);

  // refresh() rotates the cookie; logout clears it and revokes the session.
  const before = (await context.cookies(`${backend.url}/auth/refresh`)).find((c) => c.name === REFRESH_COOKIE).value;
  assert.equal(await page.evaluate(() => window.auth.refresh().then((s) => s.status)), "authenticated");
  const rotated = (await context.cookies(`${backend.url}/auth/refresh`)).find((c) => c.name === REFRESH_COOKIE).value;
  assert.notEqual(rotated, before);
  await page.evaluate(() => window.auth.logout());
  assert.equal((await context.cookies(`${backend.url}/auth/refresh`)).some((c) => c.name === REFRESH_COOKIE), false, "cleared");
  await page.reload();
  await open(page, { reloaded: true });
  await page.waitForFunction(() => !window.auth.getSnapshot().refreshing);
  assert.deepEqual(await snapshot(page), { status: "anonymous", storage: "memory", refreshing: false, error: null }, "no cookie: signed out, not an error");
  assert.deepEqual(problems, []);
});

test("a cross-site form post can neither refresh nor log out", async () => {
  const page = await context.newPage();
  await signedIn(page);
  const cookie = (await context.cookies(`${backend.url}/auth/refresh`)).find((c) => c.name === REFRESH_COOKIE).value;
  await backend.reset();
  // Another site (localhost is not 127.0.0.1) posts forms at the cookie endpoints.
  const evil = await context.newPage();
  const otherSite = lab.url.replace("127.0.0.1", "localhost");
  for (const path of ["/auth/refresh", "/auth/logout"]) {
    await evil.goto(`${otherSite}/evil.html?target=${encodeURIComponent(backend.url + path)}`);
    await evil.waitForURL(`${backend.url}${path}`);
    const answer = JSON.parse(await evil.locator("body").innerText());
    assert.equal(answer.code, "csrf", path);
  }
  // A same-site script without the header is refused as well.
  const noHeader = await page.evaluate((api) => fetch(`${api}/auth/refresh`, { method: "POST", credentials: "include" }).then((r) => r.status), backend.url);
  assert.equal(noHeader, 403);
  const stats = await backend.stats();
  assert.equal(stats["/auth/refresh"], 2, "the attacks reached the server");
  assert.equal(stats["/auth/logout"], 1);
  // Nothing was spent or revoked: the same cookie still refreshes the session.
  assert.equal((await context.cookies(`${backend.url}/auth/refresh`)).find((c) => c.name === REFRESH_COOKIE).value, cookie);
  assert.equal(await page.evaluate(() => window.auth.refresh().then((s) => s.status)), "authenticated");
});

test("with Web Locks, tabs in memory mode refresh one after another, never with a spent cookie", async () => {
  const first = await context.newPage();
  await signedIn(first);
  const second = await context.newPage();
  await open(second);
  await second.waitForFunction(() => window.auth.getSnapshot().status === "authenticated");
  await backend.reset();
  // Two overlapping calls in each tab, started together in the page (a driver that
  // sends one command at a time would otherwise start them one after another).
  const twice = () => Promise.all([1, 2].map(() => window.auth.refresh().then((s) => s.status, (e) => e.code)));
  const results = (await Promise.all([first, second].map((p) => p.evaluate(twice)))).flat();
  assert.deepEqual(results, Array(4).fill("authenticated"));
  for (const p of [first, second]) assert.equal((await snapshot(p)).status, "authenticated");
  assert.ok((await backend.stats())["/auth/refresh"] <= 2, "one per tab at most");
});
