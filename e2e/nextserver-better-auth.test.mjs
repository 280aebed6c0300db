// Issue 23 with Better Auth in the app (AUTH_MODE=better-auth): the JWT Better Auth
// issues for FastAPI is what the browser mirrors into the cookie (its session token, the
// refresh credential, never is), and the app verifies it with the shared secret.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { SESSION_KEY, WWW, Web, Backend, signUp, uniqueEmail, useStack, watchConsole } from "./harness.mjs";

const COOKIE = "auth-wasm-at";
const secret = randomBytes(48).toString("base64url");
const dir = mkdtempSync(path.join(tmpdir(), "auth-wasm-ns-ba-"));
const backend = new Backend({ BETTER_AUTH_SECRET: secret, JWT_ISSUERS: WWW, LOCAL_ACCOUNTS: "0" });
const stack = useStack(
  backend,
  new Web({
    AUTH_MODE: "better-auth",
    BETTER_AUTH_SECRET: secret,
    BETTER_AUTH_URL: WWW,
    BETTER_AUTH_DATABASE_URL: `file:${path.join(dir, "better-auth.db")}`,
  }),
  { onStop: () => rmSync(dir, { recursive: true, force: true }) },
);

const stored = (page) => page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? "null"), SESSION_KEY);
const authCookie = async (context) => (await context.cookies(WWW)).find((c) => c.name === COOKIE);
const serverHtml = (context, p) => context.request.get(`${WWW}${p}`, { maxRedirects: 0 });
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("Next.js server (auth-wasm/next), Better Auth tokens", () => {
  test("signed out is redirected; signed in, the server renders the email and the notes; the cookie holds the JWT, not the session token", async () => {
    const answer = await fetch(`${WWW}/notes`, { redirect: "manual" });
    assert.equal(answer.status, 307);
    assert.equal(new URL(answer.headers.get("location"), WWW).href, `${WWW}/signin?returnTo=%2Fnotes`);
    assert.ok(!/[<>]/.test(await answer.text()), "no page HTML");

    const context = await stack.browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    const email = uniqueEmail("ns-ba");
    await signUp(page, email);
    await page.getByTestId("user-email").filter({ hasText: email }).waitFor();
    await page.goto(`${WWW}/notes`);
    await page.getByLabel("New note").fill("Better Auth, server-rendered");
    await page.getByRole("button", { name: "Add note" }).click();
    await page.getByTestId("notes").getByText("Better Auth, server-rendered").waitFor();

    const session = await stored(page);
    const cookie = await authCookie(context);
    assert.equal(cookie.value, session.access_token, "the JWT Better Auth issued for the API");
    assert.ok(!cookie.value.includes(session.refresh_token), "never the Better Auth session token");
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Lax");

    const dashboard = await serverHtml(context, "/dashboard");
    assert.equal(dashboard.status(), 200);
    assert.ok((await dashboard.text()).includes(`data-testid="user-email">${email}<`));
    const notes = await serverHtml(context, "/notes");
    assert.match(await notes.text(), /<span>Better Auth, server-rendered<\/span>/);

    // Tampered (another user's id in a genuine token's payload): signed out on the server.
    const [header, payload, signature] = cookie.value.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    await context.addCookies([{ name: COOKIE, value: `${header}.${b64({ ...claims, sub: "someone-else" })}.${signature}`, url: WWW }]);
    const tampered = await serverHtml(context, "/dashboard");
    assert.equal(tampered.status(), 307);
    // The session token posted as if it were an access token: refused.
    const status = await page.evaluate(
      async (token) => (await fetch("/api/auth-wasm/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ accessToken: token }) })).status,
      session.refresh_token,
    );
    assert.equal(status, 400);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
