// The Better Auth bridge's scenarios, run against either way Better Auth signs the JWTs
// FastAPI takes (better-auth.test.mjs: HS256 under a key both derive from the shared
// secret; better-auth-jwks.test.mjs: the jwt plugin's own EdDSA keys, read by FastAPI
// from Better Auth's JWKS). FastAPI's own accounts are off; auth-wasm speaks both.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { API, Backend, SESSION_KEY, WWW, Web, signUp, uniqueEmail, useStack, watchConsole } from "./harness.mjs";

export const JWT_TTL = 6;
// The API's audience is the backend's default (urn:auth-wasm:api), which the www
// signer also uses by default.
export const AUDIENCE = "urn:auth-wasm:api";

export const stored = (page) => page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? "null"), SESSION_KEY);
export const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
export const headerOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[0], "base64url").toString());

/** The stack and the shared scenarios. `jwks`: Better Auth signs with its own key pairs
 * (AUTH_MODE=better-auth-jwks) and FastAPI reads them from its JWKS; `web` and
 * `backend`: more settings for each side. Returns the stack and the backend. */
export function betterAuthScenarios({ jwks = false, web = {}, backend: backendEnv = {} } = {}) {
  const secret = randomBytes(48).toString("base64url");
  const dir = mkdtempSync(path.join(tmpdir(), "auth-wasm-ba-"));
  const backend = new Backend({
    // With the JWKS, FastAPI keeps a secret of its own (Backend makes one): it holds
    // nothing that could mint a Better Auth token.
    ...(jwks ? {} : { BETTER_AUTH_SECRET: secret }),
    JWT_ISSUERS: WWW,
    LOCAL_ACCOUNTS: "0",
    ...(jwks ? { JWT_JWKS_URL: `${WWW}/api/auth/jwks` } : {}),
    ...backendEnv,
  });
  const chromium = useStack(backend, new Web({
    AUTH_MODE: jwks ? "better-auth-jwks" : "better-auth",
    BETTER_AUTH_SECRET: secret,
    BETTER_AUTH_URL: WWW,
    BETTER_AUTH_DATABASE_URL: `file:${path.join(dir, "better-auth.db")}`,
    BETTER_AUTH_JWT_TTL: `${JWT_TTL}s`,
    ...web,
  }), { onStop: () => rmSync(dir, { recursive: true, force: true }) });

  const isExchange = (r) => r.url() === `${WWW}/api/auth/token`;
  const isNotes = (r) => r.url() === `${API}/notes`;

  async function addNote(page, text) {
    await page.getByLabel("New note").fill(text);
    await page.getByRole("button", { name: "Add note" }).click();
    await page.getByTestId("notes").getByText(text).waitFor();
    assert.equal(await page.getByTestId("notes-error").count(), 0, "no error shown");
  }

  describe(jwks ? "Better Auth mode, EdDSA through its JWKS" : "Better Auth mode, HS256", () => {
    test("sign up with Better Auth, FastAPI takes its JWT, expiry re-exchanged, sign out ends it", async () => {
      const context = await chromium.browser.newContext();
      const page = await context.newPage();
      const problems = watchConsole(page);
      const email = uniqueEmail("ba");
      await signUp(page, email);
      await page.getByTestId("user-email").filter({ hasText: email }).waitFor();
      const first = await stored(page);
      const claims = claimsOf(first.access_token);
      if (jwks) {
        // The plugin as it ships: EdDSA, the key named, no `typ`.
        const header = headerOf(first.access_token);
        assert.equal(header.alg, "EdDSA");
        assert.ok(header.kid, "names its key");
        const published = await (await fetch(`${WWW}/api/auth/jwks`)).json();
        assert.ok(published.keys.some((k) => k.kid === header.kid && k.crv === "Ed25519" && !("d" in k)), "its public key is in the JWKS");
      } else {
        assert.equal(headerOf(first.access_token).typ, "at+jwt");
      }
      assert.equal(claims.iss, WWW);
      assert.equal(claims.aud, AUDIENCE);
      assert.equal(claims.email, email);
      assert.equal(claims.exp - claims.iat, JWT_TTL);
      assert.ok(first.refresh_token, "the Better Auth session token is the refresh credential");
      // Better Auth owns the accounts: FastAPI creates none and signs nobody in.
      const local = await fetch(`${API}/auth/register`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password: "correct horse" }) });
      assert.equal(local.status, 404);
      assert.equal((await local.json()).code, "local_accounts_disabled");

      const notesAnswers = [];
      page.on("response", (r) => isNotes(r) && r.request().method() !== "OPTIONS" && notesAnswers.push(r.status()));
      await page.goto(`${WWW}/notes`);
      await addNote(page, "stored in FastAPI");
      // Two re-exchanges on this one page (at half the JWT's lifetime each). Better
      // Auth's session token survives an exchange: the second must not wait for another
      // tab's "successor" (it used to, and failed after 5 s with a network error).
      const exchanges = [];
      await page.waitForResponse((r) => isExchange(r) && exchanges.push(r.status()) === 2);
      assert.deepEqual(exchanges, [200, 200]);
      const sent = page.waitForRequest((r) => isNotes(r) && r.method() === "POST");
      await addNote(page, "after two re-exchanges");
      const used = claimsOf((await sent).headers().authorization.replace(/^Bearer /, ""));
      assert.ok(used.iat > claims.iat, "sent with a re-exchanged JWT");
      const second = await stored(page);
      assert.notEqual(second.access_token, first.access_token, "re-exchanged");
      assert.equal(second.refresh_token, first.refresh_token, "same Better Auth session");
      // No 401 and replay: every JWT the client sent was good.
      assert.ok(notesAnswers.every((status) => status < 300), `notes answers: ${notesAnswers}`);
      const stats = await backend.stats();
      // One more: the server's render of /notes read the list with the cookie's bearer (issue 23).
      assert.equal(stats["/notes"], notesAnswers.length + 1, `every notes call reached FastAPI once: ${JSON.stringify(stats)}`);

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      assert.equal(await stored(page), null);
      // The Better Auth session is gone: its token no longer buys a JWT...
      const exchange = await fetch(`${WWW}/api/auth/token`, { headers: { Authorization: `Bearer ${first.refresh_token}` } });
      assert.equal(exchange.status, 401);
      // ...and the last JWT stops working at FastAPI when it expires.
      await sleep(Math.max(0, claimsOf(second.access_token).exp * 1000 + 6_000 - Date.now()));
      const late = await fetch(`${API}/notes`, { headers: { Authorization: `Bearer ${second.access_token}` } });
      assert.equal(late.status, 401);
      assert.deepEqual(problems, []);
      await context.close();
    });

    // The CI flake of 2026-11-30: the notes page opened with its JWT due, so its first
    // read of the list waited behind the re-exchange, and the note added meanwhile joined
    // the same exchange. Both left together; the list, read before the note was stored,
    // answered last and replaced the list the note had been added to. Here every step
    // of that order is forced with routes instead of left to timing.
    test("a note added while the page's first read waits behind a re-exchange stays listed", async () => {
      const context = await chromium.browser.newContext();
      const page = await context.newPage();
      const problems = watchConsole(page);
      await signUp(page, uniqueEmail("race"));
      const { access_token: jwt } = await stored(page);
      const older = await fetch(`${API}/notes`, { method: "POST", headers: { Authorization: `Bearer ${jwt}`, "Content-Type": "application/json" }, body: JSON.stringify({ text: "older note" }) });
      assert.equal(older.status, 201);

      // Exchanges wait for `release`; the first one held proves the JWT is due.
      let release;
      const released = new Promise((resolve) => (release = resolve));
      let due;
      const isDue = new Promise((resolve) => (due = resolve));
      await context.route(`${WWW}/api/auth/token`, async (route) => {
        due();
        await released;
        // The dashboard's own exchange died with its page.
        await route.continue().catch(() => {});
      });
      await isDue;

      // The list read goes out first and reaches FastAPI before the note does; its answer
      // reaches the page only after the note is on screen.
      let listRead;
      const isListRead = new Promise((resolve) => (listRead = resolve));
      let noteShown;
      const isNoteShown = new Promise((resolve) => (noteShown = resolve));
      let firstRead = true;
      await page.route(`${API}/notes`, async (route) => {
        const method = route.request().method();
        if (method === "GET" && firstRead) {
          firstRead = false;
          const response = await route.fetch();
          listRead();
          await isNoteShown;
          await route.fulfill({ response });
        } else if (method === "POST") {
          await isListRead;
          await route.continue();
        } else {
          await route.continue();
        }
      });

      // The server renders the list when it can (issue 23); its read fails here, so the
      // page reads the list itself: the case this test is about.
      await backend.fault({ path: "/notes", status: 503, times: 1 });
      await page.goto(`${WWW}/notes`);
      await page.getByLabel("New note").fill("added during the exchange");
      await page.getByRole("button", { name: "Add note" }).click();
      // The note's request is waiting for the token (the button stays busy) ...
      await page.locator("button[type=submit]:disabled", { hasText: "Add note" }).waitFor();
      // ... when the exchange both wait for answers.
      release();
      await page.getByTestId("notes").getByText("added during the exchange").waitFor();
      noteShown();
      // The late list has arrived once the older note shows; the new one is still there.
      await page.getByTestId("notes").getByText("older note").waitFor();
      assert.equal(await page.getByTestId("notes").getByText("added during the exchange").count(), 1, "the late list did not undo the note");
      assert.equal(await page.getByTestId("notes-error").count(), 0);
      assert.deepEqual(problems, []);
      await context.close();
    });

    test("a session revoked in Better Auth signs the client out at the next exchange", async () => {
      const context = await chromium.browser.newContext();
      const page = await context.newPage();
      const problems = watchConsole(page);
      await signUp(page, uniqueEmail("revoked"));
      const { refresh_token: sessionToken } = await stored(page);
      const revoked = await fetch(`${WWW}/api/auth/sign-out`, {
        method: "POST",
        headers: { Authorization: `Bearer ${sessionToken}`, Origin: WWW, "Content-Type": "application/json" },
        body: "{}",
      });
      assert.equal(revoked.status, 200);
      // The proactive exchange (half the JWT's lifetime) fails: signed out, sign-in page.
      await page.getByRole("heading", { name: "Sign in" }).waitFor({ timeout: JWT_TTL * 1000 + 5_000 });
      assert.equal(await stored(page), null);
      assert.deepEqual(problems, []);
      await context.close();
    });

    test("Better Auth's errors arrive as AuthError codes", async () => {
      // Better Auth limits sign-in/up to 3 per 10 s per client: start with empty windows.
      await sleep(10_500);
      const context = await chromium.browser.newContext();
      const page = await context.newPage();
      const email = uniqueEmail("errors");
      await signUp(page, email);
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();

      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("wrong password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByTestId("form-error").filter({ hasText: "don't match an account" }).waitFor();

      await page.goto(`${WWW}/signup`);
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("correct horse");
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByTestId("form-error").filter({ hasText: "already exists" }).waitFor();

      await page.getByLabel("Email").fill(uniqueEmail("short"));
      await page.getByLabel("Password").fill("short");
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByTestId("form-error").filter({ hasText: "fix the highlighted" }).waitFor().catch(async (e) => {
        throw new Error(`form says: ${await page.getByTestId("form-error").innerText()}`, { cause: e });
      });
      await page.locator("#password-error").waitFor();
      assert.equal(await page.getByLabel("Password").getAttribute("aria-invalid"), "true");

      // Its rate limiter answers 429 with X-Retry-After: rate_limited with the wait.
      await page.goto(`${WWW}/signin`);
      let limited = false;
      for (let i = 0; i < 6 && !limited; i++) {
        await page.getByLabel("Email").fill(email);
        await page.getByLabel("Password").fill("wrong password");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.getByRole("button", { name: "Sign in" }).waitFor();
        await page.getByTestId("form-error").waitFor();
        limited = /Too many attempts\. Try again in \d+ seconds\./.test(await page.getByTestId("form-error").innerText());
      }
      assert.ok(limited, "rate_limited with retryAfter from X-Retry-After");
      await context.close();
    });
  });
  return { chromium, backend };
}
