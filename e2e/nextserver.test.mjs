// Issue 23: the signed-in user on the Next.js server (auth-wasm/next), FastAPI issuing the
// tokens. The production build of www, the real backend, Chromium. The app shares the
// backend's BETTER_AUTH_SECRET (the seed's setup), so it verifies tokens itself; the demo
// suite runs the same app without it (the backend's `me` decides).
import assert from "node:assert/strict";
import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { beforeEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { API, Backend, SESSION_KEY, WWW, Web, signIn, signUp, uniqueEmail, useStack, watchConsole } from "./harness.mjs";

// Long enough for a page to load between refreshes (the client refreshes at half of it).
const ACCESS_TTL = 10;
const COOKIE = "auth-wasm-at";
const backend = new Backend({ ACCESS_TOKEN_TTL: String(ACCESS_TTL), RATE_LIMIT_AUTH: "1000/60", RATE_LIMIT_REFRESH: "1000/60" });
const secret = backend.env.BETTER_AUTH_SECRET;
const stack = useStack(backend, new Web({ BETTER_AUTH_SECRET: secret }));

beforeEach(async () => {
  if (backend.proc) await backend.reset();
});

const stored = (page) => page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? "null"), SESSION_KEY);
const authCookie = async (context) => (await context.cookies(WWW)).find((c) => c.name === COOKIE);
const b64 = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
/** The raw HTML the server sends for `path` with the context's cookies: what the user
 * sees before any script runs. No redirects followed. */
const serverHtml = (context, path) => context.request.get(`${WWW}${path}`, { maxRedirects: 0 });
/** A JWT signed HS256 with `key` (the backend's derived key, or an attacker's). */
function sign(header, claims, key) {
  const data = `${b64(header)}.${b64(claims)}`;
  return `${data}.${createHmac("sha256", key).update(data).digest("base64url")}`;
}
const accessKey = Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), "auth-wasm access token v1", 32));

async function signedIn(context, tag) {
  const page = await context.newPage();
  const problems = watchConsole(page);
  const email = uniqueEmail(tag);
  await signUp(page, email);
  await page.getByTestId("user-email").filter({ hasText: email }).waitFor();
  return { page, problems, email };
}

async function addNote(page, text) {
  await page.goto(`${WWW}/notes`);
  await page.getByLabel("New note").fill(text);
  await page.getByRole("button", { name: "Add note" }).click();
  await page.getByTestId("notes").getByText(text).waitFor();
}

describe("Next.js server (auth-wasm/next), FastAPI tokens", () => {
  test("signed out: protected pages answer a redirect with no page HTML; sign-in returns there, never to another origin", async () => {
    for (const path of ["/dashboard", "/notes", "/notes?filter=ab&page=2", "/sessions/x"]) {
      const answer = await fetch(`${WWW}${path}`, { redirect: "manual" });
      assert.equal(answer.status, 307, path);
      assert.equal(new URL(answer.headers.get("location"), WWW).href, `${WWW}/signin?returnTo=${encodeURIComponent(path)}`, path);
      // Next answers a redirect with its URL as plain text; no markup of the page.
      const body = await answer.text();
      assert.ok(!/[<>]/.test(body) && body.length < 200, `${path}: no page HTML before the user is known: ${body}`);
    }
    // Public pages are not gated.
    assert.equal((await fetch(`${WWW}/`, { redirect: "manual" })).status, 200);

    const context = await stack.browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    const email = uniqueEmail("return");
    await backend.register(email);
    await page.goto(`${WWW}/notes`);
    await page.waitForURL(`${WWW}/signin?returnTo=%2Fnotes`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(`${WWW}/notes`);
    await page.getByText("No notes yet.").waitFor();

    // Another origin (loopback: no request may leave the machine), in the forms browsers
    // read as one: refused, the dashboard instead.
    for (const evil of [`${API}/health`, `//127.0.0.1:${new URL(API).port}/health`, `/\\127.0.0.1:${new URL(API).port}/health`, "javascript:alert(1)"]) {
      await page.goto(`${WWW}/signin?returnTo=${encodeURIComponent(evil)}`);
      await page.waitForURL(`${WWW}/dashboard`);
      assert.equal(new URL(page.url()).origin, WWW, evil);
    }
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("sign-in: a protected page the router prefetched before the server knew the user is not remembered as a redirect to sign-in", async () => {
    // Signed in, the nav's links (Notes among them) render and Next prefetches them while
    // the mirror's POST is still on its way. The POST held here until that prefetch is
    // answered: the order a loaded machine produced once in CI. A proxy that answered the
    // prefetch (no cookie yet) with its redirect had Next's router keep it as where /notes
    // leads, and the sign-in's router.replace("/notes") came back here and stayed.
    const context = await stack.browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    const email = uniqueEmail("prefetch");
    await backend.register(email);
    await page.goto(`${WWW}/notes`);
    await page.waitForURL(`${WWW}/signin?returnTo=%2Fnotes`);
    const firstOf = (request) => (request.redirectedFrom() ? firstOf(request.redirectedFrom()) : request);
    // The last hop (not a redirect's), read to its end or until the router had what it
    // needed and cancelled the rest: the answer the router keeps for /notes.
    let prefetched = false;
    let releasePost;
    const notesPrefetched = new Promise((resolve) => (releasePost = resolve));
    const settled = async (request) => {
      const first = firstOf(request);
      if (new URL(first.url()).pathname !== "/notes" || first.headers()["next-router-prefetch"] === undefined) return;
      const status = (await request.response().catch(() => null))?.status() ?? 0;
      if (status >= 300 && status < 400) return;
      prefetched = true;
      releasePost();
    };
    page.on("requestfinished", settled);
    page.on("requestfailed", settled);
    await page.route(`${WWW}/api/auth-wasm/session`, async (route) => {
      if (route.request().method() === "POST") await notesPrefetched;
      await route.continue();
    });
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(`${WWW}/notes`);
    assert.ok(prefetched, "the nav's link to /notes was prefetched before the cookie was set");
    await page.getByText("No notes yet.").waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("signed in: the server's HTML holds the user's email and notes; the proxy asks the backend nothing", async () => {
    const context = await stack.browser.newContext();
    const { page, problems, email } = await signedIn(context, "ssr");
    await addNote(page, "rendered on the server");
    await page.close();

    await backend.reset();
    const dashboard = await serverHtml(context, "/dashboard");
    assert.equal(dashboard.status(), 200);
    const dashboardHtml = await dashboard.text();
    assert.match(dashboardHtml, new RegExp(`data-testid="user-email">${email.replace(/[.+]/g, "\\$&")}<`));
    const notes = await serverHtml(context, "/notes");
    assert.equal(notes.status(), 200);
    assert.match(await notes.text(), /<span>rendered on the server<\/span>/);
    // The token was verified with the shared key: the only backend call is the notes
    // page's own fetch of the notes, with the bearer from the cookie.
    assert.deepEqual(await backend.stats(), { "/notes": 1 });
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("logout in one tab: the cookie is gone, the next navigation is redirected", async () => {
    const context = await stack.browser.newContext();
    const a = await signedIn(context, "logout");
    const b = await context.newPage();
    await b.goto(`${WWW}/notes`);
    await b.getByText("No notes yet.").waitFor();
    assert.ok(await authCookie(context), "the cookie is set while signed in");

    await a.page.getByRole("button", { name: "Sign out" }).click();
    await a.page.waitForURL(`${WWW}/signin`);
    assert.equal(await authCookie(context), undefined, "the cookie is gone");
    const next = await serverHtml(context, "/notes");
    assert.equal(next.status(), 307);
    assert.equal(new URL(next.headers().location, WWW).href, `${WWW}/signin?returnTo=%2Fnotes`);
    // The other tab's client heard it too and left for sign in; a navigation from there
    // is redirected by the server.
    await b.waitForURL(`${WWW}/signin`);
    await b.goto(`${WWW}/dashboard`);
    await b.waitForURL(`${WWW}/signin?returnTo=%2Fdashboard`);
    assert.deepEqual(a.problems, []);
    await context.close();
  });

  test("an expired access-token cookie: 'unknown', one refresh across three tabs, then the user; no sign-out", async () => {
    const context = await stack.browser.newContext();
    const { page, email } = await signedIn(context, "expired");
    await page.close();
    // No page open: nothing refreshes; the token in storage and in the cookie expires.
    await sleep((ACCESS_TTL + 1) * 1000);
    const cookie = await authCookie(context);
    assert.ok(cookie, "the cookie outlives its token (short grace)");
    assert.ok(claimsOf(cookie.value).exp * 1000 < Date.now(), "it holds an expired token");

    const unknown = await serverHtml(context, "/dashboard");
    assert.equal(unknown.status(), 200, "an expired token is not 'signed out': no redirect");
    const unknownHtml = await unknown.text();
    assert.match(unknownHtml, /data-testid="session-unknown"/);
    assert.doesNotMatch(unknownHtml, new RegExp(email.replace(/[.+]/g, "\\$&")));

    await backend.reset();
    const started = Date.now();
    const tabs = [];
    for (let i = 0; i < 3; i++) {
      const tab = await context.newPage();
      tabs.push({ page: tab, problems: watchConsole(tab) });
    }
    // All at once: each renders "unknown", each client wants to refresh.
    await Promise.all(tabs.map(({ page: tab }) => tab.goto(`${WWW}/dashboard`)));
    await Promise.all(tabs.map(({ page: tab }) => tab.getByTestId("user-email").filter({ hasText: email }).waitFor()));
    const elapsed = (Date.now() - started) / 1000;
    const refreshes = (await backend.stats())["/auth/refresh"] ?? 0;
    // One per lifetime: the tabs share one; the client's own schedule adds one per half
    // lifetime, which only a very slow run reaches.
    assert.ok(refreshes >= 1 && refreshes <= 1 + Math.floor(elapsed / (ACCESS_TTL / 2)), `refreshes: ${refreshes} in ${elapsed}s`);
    for (const { page: tab, problems } of tabs) {
      assert.equal(tab.url(), `${WWW}/dashboard`, "nobody was sent to sign in");
      assert.ok((await stored(tab))?.refresh_token, "the session survived reuse detection");
      assert.deepEqual(problems, []);
    }
    // The cookie now holds the new token: the server knows the user again.
    const after = await authCookie(context);
    assert.ok(claimsOf(after.value).exp * 1000 > Date.now());
    assert.match(await (await serverHtml(context, "/dashboard")).text(), /data-testid="user-email">/);
    await context.close();
  });

  test("the cookie: HttpOnly, SameSite=Lax, the access token only and never the refresh token, following each refresh", async () => {
    const context = await stack.browser.newContext();
    const { page, problems } = await signedIn(context, "cookie");
    const session = await stored(page);
    let cookie = await authCookie(context);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Lax");
    assert.equal(cookie.path, "/");
    assert.equal(cookie.secure, false, "not Secure on loopback http");
    assert.ok(cookie.expires > 0 && cookie.expires - Date.now() / 1000 <= ACCESS_TTL + 3600 + 5, "short-lived: the token's life and a grace");
    assert.equal(cookie.value, session.access_token);
    assert.ok(!cookie.value.includes(session.refresh_token));
    assert.equal(await page.evaluate((name) => document.cookie.includes(name), COOKIE), false, "scripts cannot read it");

    // The client's scheduled refresh: the cookie follows it, still without the refresh token.
    await page.waitForFunction(([key, old]) => JSON.parse(localStorage.getItem(key) ?? "null")?.access_token !== old, [SESSION_KEY, session.access_token], { timeout: ACCESS_TTL * 1000 });
    const renewed = await stored(page);
    for (let i = 0; i < 50 && (cookie = await authCookie(context)).value !== renewed.access_token; i++) await sleep(100);
    assert.equal(cookie.value, renewed.access_token);
    assert.ok(!cookie.value.includes(renewed.refresh_token));

    // The route takes no refresh token (nor anything but a genuine access token)...
    const post = (body, headers = {}) =>
      page.evaluate(
        async ([b, h]) => (await fetch("/api/auth-wasm/session", { method: "POST", headers: { "Content-Type": "application/json", ...h }, body: JSON.stringify(b) })).status,
        [body, headers],
      );
    assert.equal(await post({ accessToken: renewed.refresh_token }), 400);
    assert.equal(await post({ refreshToken: renewed.refresh_token }), 400);
    assert.equal((await authCookie(context)).value, renewed.access_token, "unchanged by refused posts");
    // ...and no write from another origin (login CSRF).
    const crossSite = await context.request.post(`${WWW}/api/auth-wasm/session`, {
      headers: { Origin: API, "Content-Type": "application/json" },
      data: JSON.stringify({ accessToken: renewed.access_token }),
    });
    assert.equal(crossSite.status(), 403);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("a forged or tampered cookie is 'signed out' on the server (redirected, cookie cleared)", async () => {
    const context = await stack.browser.newContext();
    const { page, email } = await signedIn(context, "forged");
    const token = (await stored(page)).access_token;
    await page.close();
    const [header, payload, signature] = token.split(".");
    const claims = claimsOf(token);
    const now = Math.floor(Date.now() / 1000);
    const cases = {
      "tampered payload": `${header}.${b64({ ...claims, email: "someone-else@example.com" })}.${signature}`,
      "another key": sign({ alg: "HS256", typ: "at+jwt" }, claims, randomBytes(32)),
      "alg none": `${b64({ alg: "none", typ: "at+jwt" })}.${payload}.`,
      "no typ (another kind of JWT)": sign({ alg: "HS256" }, claims, accessKey),
      "another audience": sign({ alg: "HS256", typ: "at+jwt" }, { ...claims, aud: "urn:other" }, accessKey),
      garbage: "not-a-jwt",
    };
    // The control: a token the test signs like the backend is taken (so the cases fail
    // for what they change, not for how the test signs).
    const genuine = sign({ alg: "HS256", typ: "at+jwt" }, { ...claims, exp: now + 300 }, accessKey);
    await context.addCookies([{ name: COOKIE, value: genuine, url: WWW }]);
    const ok = await serverHtml(context, "/dashboard");
    assert.equal(ok.status(), 200);
    assert.match(await ok.text(), new RegExp(email.replace(/[.+]/g, "\\$&")));
    for (const [name, value] of Object.entries(cases)) {
      await context.addCookies([{ name: COOKIE, value, url: WWW }]);
      const answer = await serverHtml(context, "/dashboard");
      assert.equal(answer.status(), 307, name);
      assert.equal(new URL(answer.headers().location, WWW).href, `${WWW}/signin?returnTo=%2Fdashboard`, name);
      assert.match(answer.headers()["set-cookie"] ?? "", new RegExp(`^${COOKIE}=; Path=/; Max-Age=0`), `${name}: cleared`);
    }
    await context.close();
  });
});
