// The client's API in headless Chromium against the real backend: both token
// protocols, restore, garbage storage, refresh-and-replay, the bearer's origins,
// every error code produced for real, snapshots and listeners.
// e2e-engines: chromium firefox webkit
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { Lab, labBackend, openLab, uniqueEmail, useStack, watchConsole } from "./harness.mjs";

let context;
let page;
let problems;

const backend = labBackend();
const lab = new Lab(process.env.E2E_LAB_PKG);
const chromium = useStack(backend, lab);

beforeEach(async () => {
  await backend.reset();
  context = await chromium.browser.newContext();
  page = await context.newPage();
  problems = watchConsole(page);
  await openLab(page, lab);
  // In-page helpers: a client on the test backend, and what a rejection was.
  await page.evaluate((api) => {
    window.API = api;
    // The same server under another origin: must never receive the bearer.
    window.OTHER = api.replace("127.0.0.1", "localhost");
    window.client = (extra = {}) => new window.AuthClient({ baseUrl: api, ...extra });
    window.rejection = (promise) =>
      promise.then(
        () => ({ rejected: false }),
        (e) => ({ rejected: true, isError: e instanceof Error, isAuthError: e instanceof window.authWasm.AuthError, name: e.name, code: e.code, status: e.status, retryAfter: e.retryAfter, fields: e.fields }),
      );
    window.signUp = async (c) => {
      const email = `user-${Date.now()}-${Math.random().toString(16).slice(2)}@example.com`;
      await c.register({ email, password: "correct horse", name: "Ada" });
      return email;
    };
    window.stored = () => localStorage.getItem("auth-wasm:session");
    window.expiredJwt = (sub) => {
      const b64 = (s) => btoa(s).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      const now = Math.floor(Date.now() / 1000);
      return `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(JSON.stringify({ sub, iat: now - 1000, exp: now - 100 }))}.c2ln`;
    };
  }, backend.url);
});

afterEach(async () => {
  await context.close();
});

const run = (fn, arg) => page.evaluate(fn, arg);

test("json protocol: register, me, logout (revoked at the server too)", async () => {
  const r = await run(async () => {
    const c = window.client();
    const email = await window.signUp(c);
    const snap = c.getSnapshot();
    const me = await c.me();
    const refreshToken = JSON.parse(window.stored()).refresh_token;
    const userAfterMe = c.getSnapshot().user.email;
    await c.logout();
    const reuse = await fetch(`${window.API}/auth/refresh`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: refreshToken }) });
    return { email, status: snap.status, claimEmail: snap.claims.email, future: snap.expiresAt > Date.now(), storage: snap.storage, me: me.email, userAfterMe, after: c.getSnapshot().status, stored: window.stored(), reuse: reuse.status };
  });
  assert.equal(r.status, "authenticated");
  assert.equal(r.claimEmail, r.email);
  assert.ok(r.future);
  assert.equal(r.storage, "local");
  assert.equal(r.me, r.email);
  assert.equal(r.userAfterMe, r.email);
  assert.equal(r.after, "anonymous");
  assert.equal(r.stored, null, "logout clears storage");
  assert.equal(r.reuse, 401, "the server revoked the session");
  assert.equal((await backend.stats())["/auth/logout"], 1);
  assert.deepEqual(problems, []);
});

test("oauth2-password protocol: login, rotating refresh, me, wrong password", async () => {
  const email = uniqueEmail("oauth");
  await backend.register(email);
  const r = await run(async (email) => {
    const c = window.client({ protocol: "oauth2-password", endpoints: { login: "/auth/token", refresh: "/auth/token", me: "/auth/me" } });
    await c.login({ username: email, password: "correct horse" });
    const status = c.getSnapshot().status;
    const before = JSON.parse(window.stored()).refresh_token;
    await c.refresh();
    const after = JSON.parse(window.stored()).refresh_token;
    const me = await c.me();
    const bad = await window.rejection(c.login({ username: "nobody@example.com", password: "wrong pass" }));
    return { status, rotated: before !== after, me: me.email, bad };
  }, email);
  assert.equal(r.status, "authenticated");
  assert.ok(r.rotated, "the refresh token rotated");
  assert.equal(r.me, email);
  assert.equal(r.bad.code, "invalid_credentials");
  assert.ok(r.bad.isAuthError);
  assert.equal((await backend.stats())["/auth/token"], 3);
});

test("a new client restores the stored session", async () => {
  const r = await run(async () => {
    const email = await window.signUp(window.client());
    const second = window.client();
    return { email, status: second.getSnapshot().status, claim: second.getSnapshot().claims.email, token: await second.getAccessToken(), header: await second.authHeader() };
  });
  assert.equal(r.status, "authenticated");
  assert.equal(r.claim, r.email);
  assert.match(r.token, /^eyJ/);
  assert.match(r.header.Authorization, /^Bearer eyJ/);
});

test("strings and answers longer than any buffer, not ASCII, cross the wasm's memory as it grows", async () => {
  const r = await run(async () => {
    // 600,000 UTF-16 code units, ~1.4 MB of UTF-8 (up to 1.8 MB asked for): the engine's
    // input and answer buffers grow past the wasm's first memory (js/engine.js `#call`).
    const key = "ключ🙂".repeat(100000);
    const first = window.client({ storageKey: key });
    const email = `${Date.now()}-${Math.random().toString(16).slice(2)}@example.com`;
    await first.register({ email, password: "correct horse", name: "Zoë 🙂 Ада" });
    const second = window.client({ storageKey: key });
    const user = /** @type {any} */ (second.getSnapshot().user);
    return {
      stored: localStorage.getItem(`${key}:session`) !== null,
      status: second.getSnapshot().status,
      name: user?.name,
      email: window.authWasm.decodeJwt(/** @type {string} */ (await second.getAccessToken())).email === email,
    };
  });
  assert.deepEqual(r, { stored: true, status: "authenticated", name: "Zoë 🙂 Ада", email: true });
});

test("a sign-out another tab stored while the client started is adopted", async () => {
  const r = await run(async () => {
    await window.signUp(window.client());
    const c = window.client();
    const events = [];
    c.subscribe((snap, event) => events.push([snap.status, event]));
    const restored = c.getSnapshot().status;
    // Written before the client listens for storage events (it starts to a task after
    // the constructor): a page gets no storage event for its own write either, so only
    // the start's catch-up can see it.
    localStorage.removeItem("auth-wasm:session");
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { restored, now: c.getSnapshot().status, events };
  });
  assert.deepEqual(r, { restored: "authenticated", now: "anonymous", events: [["anonymous", "synced"]] });
});

test("garbage or tampered storage starts anonymous and is removed", async () => {
  for (const garbage of ["not json", '{"v":99,"access_token":"x"}', '{"v":1,"access_token":"eyJhbGci.bad.sig"}', "[]"]) {
    const r = await run(async (garbage) => {
      localStorage.setItem("auth-wasm:session", garbage);
      const c = window.client();
      return { status: c.getSnapshot().status, stored: window.stored(), token: await c.getAccessToken(), header: Object.keys(await c.authHeader()).length };
    }, garbage);
    assert.deepEqual(r, { status: "anonymous", stored: null, token: null, header: 0 }, garbage);
  }
});

test("a 401 triggers one refresh and one replay, a POST body included", async () => {
  await run(() => window.signUp((window.c = window.client())));
  await backend.fault({ path: "/notes", status: 401, times: 1 });
  assert.equal(await run(() => window.c.fetch(`${window.API}/notes`).then((r) => r.status)), 200);
  let stats = await backend.stats();
  assert.equal(stats["/auth/refresh"], 1);
  assert.equal(stats["/notes"], 2);
  await backend.fault({ path: "/notes", status: 401, times: 1 });
  const posted = await run(async () => {
    const r = await window.c.fetch(`${window.API}/notes`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: "replayed" }) });
    return { status: r.status, text: (await r.json()).text };
  });
  assert.deepEqual(posted, { status: 201, text: "replayed" });
});

test("twenty concurrent calls with an expired token send one refresh", async () => {
  const r = await run(async () => {
    const first = window.client();
    await window.signUp(first);
    const session = JSON.parse(window.stored());
    session.access_token = window.expiredJwt(first.getSnapshot().claims.sub);
    session.expires_at = null;
    localStorage.setItem("auth-wasm:session", JSON.stringify(session));
    first.free();
    await fetch(`${window.API}/_test/reset`, { method: "POST" });
    const c = window.client();
    const before = c.getSnapshot().status;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? c.fetch(`${window.API}/notes`).then((r) => r.status) : c.getAccessToken())));
    return { before, results, after: c.getSnapshot().status };
  });
  assert.equal(r.before, "expired");
  r.results.forEach((v, i) => (i % 2 === 0 ? assert.equal(v, 200) : assert.match(v, /^eyJ/)));
  assert.equal((await backend.stats())["/auth/refresh"], 1, "one refresh for twenty callers");
  assert.equal(r.after, "authenticated");
});

test("an expired token without a refresh token gives null, status expired, session_expired", async () => {
  const r = await run(async () => {
    localStorage.setItem("auth-wasm:session", JSON.stringify({ v: 1, access_token: window.expiredJwt("42"), refresh_token: null }));
    const c = window.client({ leeway: 0 });
    const events = [];
    c.subscribe((_s, e) => events.push(e));
    const status = c.getSnapshot().status;
    const token = await c.getAccessToken();
    await c.getAccessToken();
    const said = [...events];
    return { status, token, error: c.getSnapshot().error.code, refresh: await window.rejection(c.refresh()), said };
  });
  assert.equal(r.status, "expired");
  assert.equal(r.token, null);
  assert.equal(r.error, "session_expired");
  assert.equal(r.refresh.code, "session_expired");
  assert.deepEqual(r.said, ["session_expired"], "said once, however often asked");
});

test("the bearer goes only to allowed origins; Request and URL inputs work", async () => {
  const r = await run(async () => {
    const c = window.client();
    await window.signUp(c);
    const has = async (response) => (await response.json()).has_authorization;
    const allowed = window.client({ allowedOrigins: [window.OTHER] });
    return {
      own: await has(await c.fetch(`${window.API}/_test/echo`)),
      other: await has(await c.fetch(`${window.OTHER}/_test/echo`)),
      otherAllowed: await has(await allowed.fetch(`${window.OTHER}/_test/echo`)),
      request: await has(await c.fetch(new Request(`${window.OTHER}/_test/echo`))),
      url: await has(await c.fetch(new URL(`${window.API}/_test/echo`))),
    };
  });
  assert.deepEqual(r, { own: true, other: false, otherAllowed: true, request: false, url: true });
});

test("a caller's Authorization header is kept and not replayed", async () => {
  const status = await run(async () => {
    const c = window.client();
    await window.signUp(c);
    await fetch(`${window.API}/_test/reset`, { method: "POST" });
    return (await c.fetch(`${window.API}/notes`, { headers: { Authorization: "Bearer callers-own" } })).status;
  });
  assert.equal(status, 401, "the caller's token reached the server unchanged");
  assert.equal((await backend.stats())["/auth/refresh"] ?? 0, 0, "and no refresh was attempted for it");
});

test("every error code, produced for real, is an AuthError", async () => {
  const email = await run(async () => {
    window.c = window.client();
    const email = await window.signUp(window.c);
    await window.c.logout();
    return email;
  });
  const login = (password = "correct horse") => run(({ email, password }) => window.rejection(window.c.login({ email, password })), { email, password });

  let e = await login("wrong password");
  assert.deepEqual([e.code, e.status, e.isError, e.isAuthError, e.name], ["invalid_credentials", 401, true, true, "AuthError"]);
  assert.equal(await run(() => window.c.getSnapshot().error.code), "invalid_credentials");

  e = await run((email) => window.rejection(window.c.register({ email, password: "correct horse" })), email);
  assert.equal(e.code, "user_exists");
  e = await run(() => window.rejection(window.c.register({ email: "not-an-email", password: "short" })));
  assert.equal(e.code, "validation");
  assert.equal(typeof e.fields.password, "string");
  assert.equal(typeof e.fields.email, "string");

  await backend.fault({ path: "/auth/login", status: 429, retry_after: 7 });
  e = await login();
  assert.deepEqual([e.code, e.retryAfter], ["rate_limited", 7]);
  await backend.fault({ path: "/auth/login", status: 503 });
  e = await login();
  assert.deepEqual([e.code, e.status], ["server", 503]);
  for (const body of ["html", "empty"]) {
    await backend.fault({ path: "/auth/login", status: 200, body });
    assert.equal((await login()).code, "invalid_response", body);
  }
  assert.equal(await run(() => window.c.getSnapshot().status), "anonymous", "nothing was half-signed-in");

  // A dead backend: a closed loopback port.
  e = await run(() => window.rejection(new window.AuthClient({ baseUrl: "http://127.0.0.1:9", storageKey: "dead" }).login({ email: "a@b.co", password: "x" })));
  assert.equal(e.code, "network");

  assert.equal((await login()).rejected, false);
  await backend.fault({ path: "/notes", status: 401, times: 2 });
  e = await run(() => window.rejection(window.c.fetch(`${window.API}/notes`)));
  assert.equal(e.code, "unauthorized");
  assert.equal(await run(() => window.c.getSnapshot().status), "authenticated", "a 401 after a good refresh does not sign out");

  await backend.fault({ path: "/auth/refresh", status: 401 });
  e = await run(() => window.rejection(window.c.refresh()));
  assert.equal(e.code, "refresh_failed");
  assert.deepEqual(await run(() => [window.c.getSnapshot().status, window.stored()]), ["anonymous", null]);
  assert.equal((await run(() => window.rejection(window.c.refresh()))).code, "session_expired");

  const sync = await run(() => {
    const cyclic = { baseUrl: "http://localhost:8000" };
    cyclic.self = cyclic;
    const code = (fn) => {
      try {
        fn();
        return null;
      } catch (err) {
        return err instanceof window.authWasm.AuthError ? err.code : `not an AuthError: ${err}`;
      }
    };
    return {
      decode: code(() => window.authWasm.decodeJwt("not.a.jwt")),
      expired: window.authWasm.isExpired("garbage"),
      config: code(() => new window.AuthClient({ baseUrl: "http://api.example.com" })),
      missing: code(() => new window.AuthClient(undefined)),
      // No options object (the engine refuses the JSON text, or none when JSON cannot
      // write it): one message for all.
      notObject: [undefined, null, "x", [], () => {}, { baseUrl: 1n }, cyclic].map((config) => {
        try {
          new window.AuthClient(config);
          return null;
        } catch (err) {
          return `${err.code}: ${err.message}`;
        }
      }),
    };
  });
  const notObject = "config: AuthClient needs a config object with baseUrl";
  assert.deepEqual(sync, { decode: "invalid_token", expired: true, config: "config", missing: "config", notObject: Array(7).fill(notObject) });

  e = await run(() => {
    const controller = new AbortController();
    controller.abort();
    return window.rejection(window.c.fetch(`${window.API}/notes`, { signal: controller.signal }));
  });
  assert.equal(e.code, "aborted");
});

test("snapshot identity and listeners (a throwing listener stops no one)", async () => {
  const r = await run(async () => {
    const c = window.client();
    const a = c.getSnapshot();
    const same = a === c.getSnapshot();
    const events = [];
    window.addEventListener("error", (e) => e.preventDefault());
    c.subscribe(() => {
      throw new Error("listener bug");
    });
    const unsubscribe = c.subscribe((_s, e) => events.push(e));
    await window.signUp(c);
    const b = c.getSnapshot();
    const changed = a !== b && b === c.getSnapshot();
    unsubscribe();
    await c.logout();
    return { same, changed, frozen: Object.isFrozen(b), events };
  });
  assert.ok(r.same, "same object until a change");
  assert.ok(r.changed);
  assert.ok(r.frozen);
  assert.ok(r.events.includes("signed_in"), "a throwing listener did not stop the next");
  assert.ok(!r.events.includes("signed_out"), "unsubscribed");
});

test("decodeJwt returns the claims; isExpired takes a leeway", async () => {
  const r = await run(() => {
    const t = window.expiredJwt("7");
    return { sub: window.authWasm.decodeJwt(t).sub, short: window.authWasm.isExpired(t, 30), long: window.authWasm.isExpired(t, 1e6) };
  });
  assert.deepEqual(r, { sub: "7", short: true, long: false });
});

test("sessions: list the devices, revoke one, sign out everywhere", async () => {
  const email = uniqueEmail("devices");
  await backend.register(email);
  const device = async () => {
    const ctx = await chromium.browser.newContext();
    const p = await ctx.newPage();
    await openLab(p, lab);
    await p.evaluate(({ api, email }) => (window.c = new window.AuthClient({ baseUrl: api })).login({ email, password: "correct horse" }), { api: backend.url, email });
    return { ctx, p };
  };
  const [a, b, c] = [await device(), await device(), await device()];
  try {
    const list = await a.p.evaluate(() => window.c.sessions());
    assert.equal(list.length, 4, "registering signed in too, then three devices");
    assert.equal(list.filter((s) => s.current).length, 1, "one is this device");
    assert.deepEqual(Object.keys(list[0]).sort(), ["createdAt", "current", "id", "ip", "lastUsedAt", "userAgent"]);
    const bSid = await b.p.evaluate(() => window.c.getSnapshot().claims.sid);
    await a.p.evaluate((id) => window.c.revokeSession(id), bSid);
    const after = await a.p.evaluate(() => window.c.sessions());
    assert.equal(after.length, 3);
    assert.ok(!after.some((s) => s.id === bSid));
    // The revoked device's next call fails and signs it out.
    const revoked = await b.p.evaluate((api) => window.c.fetch(`${api}/notes`).then((r) => r.status, (e) => e.code), backend.url);
    assert.equal(revoked, "unauthorized");
    assert.equal(await b.p.evaluate(() => window.c.getSnapshot().status), "anonymous");
    // Everywhere: this device and the others.
    await a.p.evaluate(() => window.c.logout({ everywhere: true }));
    assert.equal(await a.p.evaluate(() => window.c.getSnapshot().status), "anonymous");
    assert.equal(await c.p.evaluate((api) => window.c.fetch(`${api}/notes`).then((r) => r.status, (e) => e.code), backend.url), "unauthorized");
    assert.equal(await a.p.evaluate(() => window.c.sessions().then(() => "listed", (e) => e.code)), "session_expired");
  } finally {
    for (const d of [a, b, c]) await d.ctx.close();
  }
});
