// No secret leaks: through sign-up, failed and good sign-ins, refreshes, a rejected
// refresh and sign-out, everything a page can see is collected (console output, page
// errors, every error message and snapshot, storage, cookies visible to script) and
// searched for the password and the refresh tokens.
// e2e-engines: chromium firefox webkit
import assert from "node:assert/strict";
import { test } from "node:test";
import { Lab, labBackend, needs, openLab, uniqueEmail, useStack } from "./harness.mjs";

// Distinctive, so a hit can only be a leak.
const PASSWORD = "Leak-Canary-Passphrase-7d1f";

// Reassigned by the cookie-transport test (exercise() talks to `backend`); useStack
// stops the one it was given.
let backend = labBackend();
const lab = new Lab(process.env.E2E_LAB_PKG);
const chromium = useStack(backend, lab);

/** Drive a session through every path that reports something; return what a page
 * saw and the refresh tokens the backend handed out on the way. */
async function exercise(page, config) {
  const seen = [];
  const cookies = [];
  page.on("console", (m) => seen.push(`console.${m.type()}: ${m.text()}`));
  // Refresh cookies as the backend set them (script never sees these headers).
  // Each header is read asynchronously: the reads are kept and awaited before the
  // count is used (a read still in flight at the end made the count short).
  const reads = [];
  if (!needs("network")) page.on("response", (response) => {
    reads.push(
      response.headerValue("set-cookie").then((header) => {
        const value = header?.match(/refresh_token=([^;]+)/)?.[1];
        if (value && value !== '""') cookies.push(value);
      }, () => {}),
    );
  });
  page.on("pageerror", (e) => seen.push(`pageerror: ${e.message}\n${e.stack}`));
  await openLab(page, lab);
  const email = uniqueEmail("leak");
  const report = await page.evaluate(async ({ api, email, password, config }) => {
    const out = [];
    const tokens = [];
    const auth = new window.AuthClient({ baseUrl: api, ...config });
    const note = (label, value) => out.push(`${label}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
    const error = (e) => ({ name: e.name, message: e.message, code: e.code, status: e.status, fields: e.fields, stack: e.stack, json: JSON.stringify(e) });
    auth.subscribe((s, e) => note(`event ${e}`, s));
    const attempt = async (label, fn) => {
      try {
        note(`${label} ok`, await fn());
      } catch (e) {
        note(`${label} error`, error(e));
        console.error(e); // what an app's catch-all logger would do
      }
    };
    const remember = () => {
      const stored = localStorage.getItem("auth-wasm:session");
      if (stored) tokens.push(JSON.parse(stored).refresh_token);
    };
    await attempt("register short password", () => auth.register({ email, password: "short" }));
    await attempt("register", () => auth.register({ email, password, name: "Leak" }));
    remember();
    await attempt("register again", () => auth.register({ email, password }));
    await attempt("logout", () => auth.logout());
    await attempt("login wrong", () => auth.login({ email, password: `${password}-wrong` }));
    await attempt("login", () => auth.login({ email, password }));
    remember();
    await attempt("refresh", () => auth.refresh());
    remember();
    await attempt("me", () => auth.me());
    // A refresh the server rejects (the family revoked by replaying an old token).
    if (tokens[0]) await fetch(`${api}/auth/refresh`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: tokens[0] }) });
    await attempt("refresh rejected", () => auth.refresh());
    note("snapshot", auth.getSnapshot());
    note("localStorage", { ...localStorage });
    note("sessionStorage", { ...sessionStorage });
    note("document.cookie", document.cookie);
    await attempt("login again", () => auth.login({ email, password }));
    remember();
    await attempt("logout again", () => auth.logout());
    note("after logout", { ...localStorage });
    return { out, tokens: tokens.filter(Boolean) };
  }, { api: backend.url, email, password: PASSWORD, config });
  await Promise.all(reads);
  return { seen: [...seen, ...report.out], tokens: report.tokens, cookies };
}

function assertAbsent(texts, secret, what) {
  const hits = texts.filter((t) => t.includes(secret));
  assert.deepEqual(hits, [], `${what} appeared in what the page saw`);
}

test("body transport: no password anywhere; refresh tokens only in the stored session", async () => {
  const context = await chromium.browser.newContext();
  try {
    const { seen, tokens } = await exercise(await context.newPage(), {});
    assert.ok(seen.length > 20, "the scenario reported");
    assert.ok(tokens.length >= 3, "refresh tokens were issued");
    assertAbsent(seen, PASSWORD, "the password");
    // The stored session holds the current refresh token by design (body transport):
    // leave out the storage dumps, search everything else.
    const elsewhere = seen.filter((t) => !t.startsWith("localStorage:") && !t.startsWith("after logout:"));
    for (const token of tokens) assertAbsent(elsewhere, token, "a refresh token");
  } finally {
    await context.close();
  }
});

test("cookie transport: neither the password nor any refresh token is visible to the page at all", { skip: needs("network") }, async () => {
  const cookieBackend = labBackend({ REFRESH_TOKEN_TRANSPORT: "cookie" });
  await cookieBackend.start();
  const saved = backend;
  backend = cookieBackend;
  const context = await chromium.browser.newContext();
  try {
    const { seen, tokens, cookies } = await exercise(await context.newPage(), { storage: "memory", refreshTransport: "cookie" });
    assert.deepEqual(tokens, [], "nothing stored");
    assert.ok(cookies.length >= 3, `refresh cookies were issued (${cookies.length})`);
    assertAbsent(seen, PASSWORD, "the password");
    for (const cookie of cookies) assertAbsent(seen, cookie, "a refresh cookie");
  } finally {
    await context.close();
    backend = saved;
    await cookieBackend.dispose();
  }
});
