// End-to-end scenarios of issue 5: the production build of www, the real backend,
// a real browser. scripts/test-e2e builds www and picks the ports.
// e2e-engines: chromium firefox
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { API, artifact, Backend, SESSION_KEY, WWW, Web, signIn, signUp, totp, uniqueEmail, useStack, watchConsole } from "./harness.mjs";

// A few seconds, so scenario 2 can outlive a token; the refresh margin is capped at half.
const ACCESS_TTL = 4;
const backend = new Backend({ ACCESS_TOKEN_TTL: String(ACCESS_TTL), RATE_LIMIT_AUTH: "5/60", RATE_LIMIT_REFRESH: "1000/60" });
const chromium = useStack(backend, new Web());

beforeEach(async () => {
  if (backend.proc) await backend.reset();
});

async function newPage(context) {
  const page = await context.newPage();
  const problems = watchConsole(page);
  return { page, problems };
}

const stored = (page) => page.evaluate((key) => localStorage.getItem(key), SESSION_KEY);

describe("www demo", () => {
  test("1. sign up, reload stays signed in, sign out clears storage", async () => {
    const context = await chromium.browser.newContext();
    const { page, problems } = await newPage(context);
    const email = uniqueEmail("one");
    await signUp(page, email);
    await page.getByTestId("user-email").filter({ hasText: email }).waitFor();
    assert.match(await page.getByTestId("claims").innerText(), new RegExp(email.replace(/[.+]/g, "\\$&")));
    assert.ok(await stored(page), "session stored in localStorage");

    // Reload: the sign-in page must never appear, not even for a frame.
    await page.addInitScript(() => {
      window.__sawSignIn = false;
      new MutationObserver(() => {
        if (document.querySelector("form") && /Sign in/.test(document.querySelector("h1")?.textContent ?? "")) window.__sawSignIn = true;
      }).observe(document, { childList: true, subtree: true });
    });
    await page.reload();
    await page.getByTestId("user-email").filter({ hasText: email }).waitFor();
    assert.equal(await page.evaluate(() => window.__sawSignIn), false, "no sign-in flash on reload");
    assert.equal(page.url(), `${WWW}/dashboard`);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${WWW}/signin`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(await stored(page), null, "storage cleared");
    assert.equal((await backend.stats())["/auth/logout"], 1, "the backend revoked the session");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("2. past the access token's lifetime a note still saves, through a refresh", async () => {
    const context = await chromium.browser.newContext();
    const { page, problems } = await newPage(context);
    await signUp(page, uniqueEmail("two"));
    await page.goto(`${WWW}/notes`);
    await page.getByText("No notes yet.").waitFor();
    await sleep((ACCESS_TTL + 1.5) * 1000);
    await page.getByLabel("New note").fill("written after expiry");
    await page.getByRole("button", { name: "Add note" }).click();
    await page.getByTestId("notes").getByText("written after expiry").waitFor();
    assert.equal(await page.getByTestId("notes-error").count(), 0, "no error shown");
    const stats = await backend.stats();
    assert.ok((stats["/auth/refresh"] ?? 0) >= 1, `the backend recorded a refresh: ${JSON.stringify(stats)}`);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("3. signing out in one tab signs out the other within two seconds", async () => {
    const context = await chromium.browser.newContext();
    const a = await newPage(context);
    const email = uniqueEmail("three");
    await signUp(a.page, email);
    const b = await newPage(context);
    await b.page.goto(`${WWW}/dashboard`);
    await b.page.getByTestId("user-email").filter({ hasText: email }).waitFor();
    await a.page.getByRole("button", { name: "Sign out" }).click();
    await b.page.getByRole("heading", { name: "Sign in" }).waitFor({ timeout: 2000 });
    assert.equal(b.page.url(), `${WWW}/signin`);
    assert.deepEqual([...a.problems, ...b.problems], []);
    await context.close();
  });

  test("4. a wrong password says so; too many tries show the wait", async () => {
    const context = await chromium.browser.newContext();
    const { page, problems } = await newPage(context);
    const email = uniqueEmail("four");
    await fetch(`${API}/auth/register`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password: "correct horse" }) });
    await signIn(page, email, "wrong password");
    const alert = page.getByTestId("form-error");
    await alert.filter({ hasText: "don't match an account" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "form-error", "focus moves to the error");
    let limited = false;
    for (let i = 0; i < 8 && !limited; i++) {
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("button", { name: "Sign in" }).waitFor();
      limited = /Too many attempts\. Try again in \d+ seconds\./.test(await alert.innerText());
    }
    assert.ok(limited, "the rate-limit message with its wait");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("5. backend down: a network error, the session kept; back up: recovers", async () => {
    const context = await chromium.browser.newContext();
    const { page, problems } = await newPage(context);
    await signUp(page, uniqueEmail("five"));
    await page.goto(`${WWW}/notes`);
    await page.getByText("No notes yet.").waitFor();
    await backend.stop();
    await page.getByLabel("New note").fill("while offline");
    await page.getByRole("button", { name: "Add note" }).click();
    await page.getByTestId("notes-error").filter({ hasText: "Can't reach the server" }).waitFor();
    assert.ok(await stored(page), "session kept");
    assert.equal(page.url(), `${WWW}/notes`);
    await backend.start();
    await page.getByRole("button", { name: "Retry" }).click();
    await page.getByText("No notes yet.").waitFor();
    await page.getByLabel("New note").fill("back online");
    await page.getByRole("button", { name: "Add note" }).click();
    await page.getByTestId("notes").getByText("back online").waitFor();
    assert.equal(page.url(), `${WWW}/notes`, "never sent to sign in");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("6. garbage or a tampered token in storage: starts signed out, no crash", async () => {
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const forged = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: "someone", exp: now + 3600, iat: now })}.forged-signature`;
    const cases = {
      garbage: "{not json at all",
      "unknown version": JSON.stringify({ v: 99, access_token: "x" }),
      "malformed token": JSON.stringify({ v: 1, access_token: "eyJhbGciOiJIUzI1NiJ9.%%%.sig", refresh_token: "r" }),
      "tampered token": JSON.stringify({ v: 1, access_token: forged, refresh_token: "not-a-real-refresh-token" }),
    };
    for (const [name, value] of Object.entries(cases)) {
      const context = await chromium.browser.newContext();
      await context.addInitScript(([key, v]) => {
        if (!sessionStorage.getItem("seeded")) {
          localStorage.setItem(key, v);
          sessionStorage.setItem("seeded", "1");
        }
      }, [SESSION_KEY, value]);
      const { page, problems } = await newPage(context);
      await page.goto(`${WWW}/dashboard`);
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      // No cookie for the server: the proxy sends the user to sign in, and back after.
      assert.equal(page.url(), `${WWW}/signin?returnTo=%2Fdashboard`, name);
      assert.equal(await stored(page), null, `${name}: removed from storage`);
      assert.deepEqual(problems, [], name);
      await context.close();
    }
  });

  test("7. every page: no console errors or hydration warnings, a screenshot each", async () => {
    const context = await chromium.browser.newContext({ viewport: { width: 1100, height: 760 } });
    const { page, problems } = await newPage(context);
    for (const route of ["/", "/signin", "/signup"]) {
      await page.goto(`${WWW}${route}`);
      await page.waitForLoadState("networkidle");
      await page.screenshot({ path: artifact(`${route === "/" ? "home" : route.slice(1)}.png`), fullPage: true });
    }
    // A failed sign-up, to show field errors.
    await page.getByLabel("Email").fill("not-an-email");
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.locator(".field-error").first().waitFor();
    assert.equal(await page.locator("[aria-invalid=true]").count(), 2);
    await page.screenshot({ path: artifact("signup-errors.png"), fullPage: true });
    await signUp(page, uniqueEmail("seven"));
    await page.getByTestId("countdown").waitFor();
    await page.screenshot({ path: artifact("dashboard.png"), fullPage: true });
    await page.goto(`${WWW}/notes`);
    await page.getByLabel("New note").fill("Buy milk");
    await page.getByRole("button", { name: "Add note" }).click();
    await page.getByTestId("notes").getByText("Buy milk").waitFor();
    await page.screenshot({ path: artifact("notes.png"), fullPage: true });
    await page.goto(`${WWW}/sessions`);
    await page.getByText("this device").waitFor();
    await page.screenshot({ path: artifact("sessions.png"), fullPage: true });
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("8. two-factor: turn it on in Security, then sign in with the password and a code", async () => {
    const context = await chromium.browser.newContext();
    const { page, problems } = await newPage(context);
    const email = uniqueEmail("eight");
    await signUp(page, email);
    await page.getByRole("link", { name: "Security" }).click();
    // Changing two-factor asks for the password again (step-up).
    await page.getByLabel("Your password").fill("not my password");
    await page.getByRole("button", { name: "Turn on two-factor" }).click();
    await page.getByRole("alert").getByText("current password").waitFor();
    await page.getByLabel("Your password").fill("correct horse");
    await page.getByRole("button", { name: "Turn on two-factor" }).click();
    const secret = (await page.getByTestId("totp-secret").innerText()).trim();
    await page.getByLabel("Code from the app").fill(totp(secret));
    await page.getByRole("button", { name: "Turn on two-factor" }).click();
    await page.getByTestId("recovery-codes").waitFor();
    assert.equal(await page.getByTestId("recovery-codes").locator("li").count(), 10);
    await page.screenshot({ path: artifact("security-recovery-codes.png"), fullPage: true });
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${WWW}/signin`);

    await signIn(page, email);
    await page.getByRole("heading", { name: "Two-factor sign-in" }).waitFor();
    assert.equal(await stored(page), null, "no tokens before the second step");
    await page.getByLabel("Authentication code").fill(totp(secret, 5));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByTestId("form-error").getByText("didn't work").waitFor();
    // The next step's code: enrolment used the current one.
    await page.getByLabel("Authentication code").fill(totp(secret, 1));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL(`${WWW}/dashboard`);
    assert.ok(await stored(page), "signed in");
    assert.deepEqual(problems, []);
    await context.close();
  });
});
