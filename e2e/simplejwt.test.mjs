// The real client against Django REST framework SimpleJWT as it ships (issue 20 part 3):
// a Django project (e2e/backends/simplejwt) with ROTATE_REFRESH_TOKENS and
// BLACKLIST_AFTER_ROTATION on, answering `{access, refresh}` and taking `{refresh}`,
// which the client reads through `fields`. The recipe of docs/backends.md, proven.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Lab, openLab, useStack, watchConsole, startLabClient } from "./harness.mjs";
import { SimpleJwtServer } from "./backends/servers.mjs";

// Short access tokens, so the storm meets real expiry; the tests that must not see a
// background refresh finish well within one lifetime (refreshMargin 0: due at expiry).
const TTL = 8;

const server = new SimpleJwtServer({ accessSeconds: TTL });
const lab = new Lab(process.env.E2E_LAB_PKG);
const stack = useStack(server, lab);

/** docs/backends.md's SimpleJWT recipe. */
const recipe = (baseUrl) => ({
  baseUrl,
  endpoints: { login: "/api/token/", refresh: "/api/token/refresh/", logout: "/api/token/blacklist/", me: "/api/me/" },
  fields: { accessToken: "access", refreshToken: "refresh", refreshBody: "refresh" },
  refreshMargin: 0,
});

const contexts = [];
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});

/** A context whose refresh requests are counted (every tab of it). */
async function newContext() {
  const context = await stack.browser.newContext();
  contexts.push(context);
  context.refreshes = 0;
  context.on("request", (r) => {
    if (r.method() === "POST" && r.url() === `${server.url}/api/token/refresh/`) context.refreshes++;
  });
  return context;
}

async function tab(context) {
  const page = await context.newPage();
  const problems = watchConsole(page);
  await openLab(page, lab);
  await startLabClient(page, recipe(server.url));
  return { page, problems };
}

const login = (page, username, password) =>
  page.evaluate(
    ({ username, password }) =>
      window.auth.login({ username, password }).then(
        (s) => ({ status: s.status, userId: s.claims?.user_id ?? null }),
        (e) => ({ code: e.code, status: e.status, message: e.message, fields: e.fields ?? null, isAuthError: e instanceof window.authWasm.AuthError }),
      ),
    { username, password },
  );

const snapshot = (page) => page.evaluate(() => { const s = window.auth.getSnapshot(); return { status: s.status, expiresAt: s.expiresAt, error: s.error?.code ?? null }; });
/** The refresh token the client stored (the test reads it to check the server's view). */
const storedRefresh = (page) => page.evaluate(() => JSON.parse(localStorage.getItem("auth-wasm:session") ?? "null")?.refresh_token ?? null);

/** What SimpleJWT says of a refresh token now (a request from Node, not the client). */
async function serverRefresh(refresh) {
  const r = await fetch(`${server.url}/api/token/refresh/`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh }) });
  return { status: r.status, body: await r.json() };
}

describe("Django REST framework SimpleJWT", () => {
  test("login reads {access, refresh}; the API and me() take the bearer", async () => {
    const context = await newContext();
    const { page, problems } = await tab(context);
    assert.deepEqual(await login(page, server.username, server.password), { status: "authenticated", userId: "1" });
    assert.ok(await storedRefresh(page), "the refresh token is kept");
    const me = await page.evaluate(() => window.auth.me());
    assert.deepEqual(me, { id: 1, username: "ada", email: "ada@example.com" });
    assert.equal(await page.evaluate((api) => window.auth.fetch(`${api}/api/me/`).then((r) => r.status), server.url), 200);
    assert.equal(context.refreshes, 0);
    assert.deepEqual(problems, []);
  });

  test("refresh sends {refresh}, takes the rotated token, and the spent one is blacklisted", async () => {
    const context = await newContext();
    const { page, problems } = await tab(context);
    await login(page, server.username, server.password);
    const first = await storedRefresh(page);
    assert.equal(await page.evaluate(() => window.auth.refresh().then((s) => s.status)), "authenticated");
    const second = await storedRefresh(page);
    assert.ok(second && second !== first, "rotated");
    assert.equal(context.refreshes, 1);
    assert.deepEqual(await serverRefresh(first), { status: 401, body: { detail: "Token is blacklisted", code: "token_not_valid" } });
    assert.equal(await page.evaluate((api) => window.auth.fetch(`${api}/api/me/`).then((r) => r.status), server.url), 200);
    assert.deepEqual(problems, []);
  });

  test("5 tabs x 20 requests at each expiry: one refresh per token lifetime, nobody signed out", async () => {
    const context = await newContext();
    const tabs = [await tab(context)];
    await login(tabs[0].page, server.username, server.password);
    for (let i = 1; i < 5; i++) tabs.push(await tab(context));
    for (const t of tabs) assert.equal((await snapshot(t.page)).status, "authenticated", "restored from storage");
    for (let lifetime = 1; lifetime <= 2; lifetime++) {
      const { expiresAt } = await snapshot(tabs[0].page);
      await sleep(Math.max(0, expiresAt + 300 - (await tabs[0].page.evaluate(() => Date.now()))));
      const statuses = await Promise.all(
        tabs.map((t) => t.page.evaluate((api) => Promise.all(Array.from({ length: 20 }, () => window.auth.fetch(`${api}/api/me/`).then((r) => r.status))), server.url)),
      );
      assert.deepEqual(statuses.flat(), Array(100).fill(200), `lifetime ${lifetime}`);
      // A second refresh with a rotated token would be refused (blacklisted) and sign out.
      assert.equal(context.refreshes, lifetime, `exactly one refresh in lifetime ${lifetime}`);
    }
    for (const t of tabs) {
      assert.equal((await snapshot(t.page)).status, "authenticated", "no tab signed out");
      assert.deepEqual(t.problems, []);
    }
  });

  test("a blacklisted refresh token signs out (refresh_failed)", async () => {
    const context = await newContext();
    const { page, problems } = await tab(context);
    await login(page, server.username, server.password);
    const refresh = await storedRefresh(page);
    const r = await fetch(`${server.url}/api/token/blacklist/`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh }) });
    assert.equal(r.status, 200, "blacklisted by the server");
    const failed = await page.evaluate(() => window.auth.refresh().then(() => null, (e) => ({ code: e.code, status: e.status })));
    assert.deepEqual(failed, { code: "refresh_failed", status: 401 });
    assert.deepEqual(await snapshot(page), { status: "anonymous", expiresAt: null, error: "refresh_failed" });
    assert.ok(await page.evaluate(() => window.events.includes("session_expired")));
    assert.equal(await storedRefresh(page), null, "nothing left in storage");
    assert.deepEqual(problems, []);
  });

  test("logout blacklists the refresh token (endpoints.logout)", async () => {
    const context = await newContext();
    const { page, problems } = await tab(context);
    await login(page, server.username, server.password);
    const refresh = await storedRefresh(page);
    await page.evaluate(() => window.auth.logout());
    assert.equal((await snapshot(page)).status, "anonymous");
    assert.deepEqual(await serverRefresh(refresh), { status: 401, body: { detail: "Token is blacklisted", code: "token_not_valid" } });
    assert.deepEqual(problems, []);
  });

  test("errors: 401 is invalid_credentials, 400 field errors are validation with fields, a bad path is config", async () => {
    const context = await newContext();
    const { page } = await tab(context);
    assert.deepEqual(await login(page, server.username, "not the password"), {
      code: "invalid_credentials",
      status: 401,
      message: "No active account found with the given credentials",
      fields: null,
      isAuthError: true,
    });
    // A blank username reaches the server (an empty one the client refuses itself):
    // DRF trims it and answers {"username": ["This field may not be blank."]}.
    const blank = await login(page, " ", "x");
    assert.deepEqual(blank, {
      code: "validation",
      status: 400,
      message: "Some fields are invalid",
      fields: { username: "This field may not be blank." },
      isAuthError: true,
    });
    assert.equal((await snapshot(page)).error, "validation");
    assert.equal(context.refreshes, 0);
    // A mistyped path fails the constructor, before any request.
    const bad = await page.evaluate((cfg) => {
      try {
        new window.AuthClient({ ...cfg, fields: { ...cfg.fields, accessToken: "data..access" } });
        return null;
      } catch (e) {
        return { code: e.code, message: e.message, isAuthError: e instanceof window.authWasm.AuthError };
      }
    }, recipe(server.url));
    assert.deepEqual(bad, { code: "config", message: 'fields.accessToken must be member names joined by dots, like "data.token"', isAuthError: true });
  });
});
