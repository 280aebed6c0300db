// Better Auth's own sign-in features through auth-wasm (`protocol: "better-auth"`), in
// the demo (AUTH_MODE=better-auth): social sign-in with the real OpenID provider
// (oidc-provider on loopback) configured as a Better Auth generic OAuth provider, and
// its two-factor plugin (a password sign-in answers mfa_required, verifyMfa finishes).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Backend, OidcProvider, SESSION_KEY, WWW, Web, consentAtProvider, totp, uniqueEmail, useStack, watchConsole } from "./harness.mjs";

const secret = randomBytes(48).toString("base64url");
const dir = mkdtempSync(path.join(tmpdir(), "auth-wasm-ba-features-"));
// Better Auth's callback for the generic OAuth provider `loopback`.
const provider = new OidcProvider([`${WWW}/api/auth/callback/loopback`]);
const web = new Web({
  AUTH_MODE: "better-auth",
  BETTER_AUTH_SECRET: secret,
  BETTER_AUTH_URL: WWW,
  BETTER_AUTH_DATABASE_URL: `file:${path.join(dir, "better-auth.db")}`,
});
// Before the stack: Better Auth reads the provider's discovery document when it starts.
before(async () => {
  await provider.start();
  web.env.BETTER_AUTH_OIDC_PROVIDERS = JSON.stringify({
    loopback: { name: "Loopback ID", issuer: provider.issuer, client_id: provider.clientId, client_secret: provider.clientSecret },
  });
});
const chromium = useStack(new Backend({ BETTER_AUTH_SECRET: secret, JWT_ISSUERS: WWW, LOCAL_ACCOUNTS: "0" }), web, {
  onStop: async () => {
    await provider.stop();
    rmSync(dir, { recursive: true, force: true });
  },
});

const stored = (page) => page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? "null"), SESSION_KEY);
const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
/** A Better Auth call from outside the browser, as the app's origin. */
const betterAuth = (route, body, sessionToken) =>
  fetch(`${WWW}/api/auth${route}`, {
    method: "POST",
    headers: { Origin: WWW, "Content-Type": "application/json", ...(sessionToken ? { Authorization: `Bearer ${sessionToken}` } : {}) },
    body: JSON.stringify(body),
  });

async function noteThroughFastApi(page, text) {
  await page.goto(`${WWW}/notes`);
  await page.getByLabel("New note").fill(text);
  await page.getByRole("button", { name: "Add note" }).click();
  await page.getByTestId("notes").getByText(text).waitFor();
  assert.equal(await page.getByTestId("notes-error").count(), 0);
}

describe("Better Auth's social sign-in and two-factor through auth-wasm", () => {
  test("signInWith and handleRedirect through Better Auth's generic OAuth provider", async () => {
    const context = await chromium.browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    await page.goto(`${WWW}/signin`);
    const start = page.waitForResponse((r) => r.url() === `${WWW}/api/auth/sign-in/social`);
    await page.getByRole("button", { name: "Continue with Loopback ID" }).click();
    assert.equal((await start).status(), 200);
    await page.waitForURL((url) => url.origin === provider.issuer);
    await consentAtProvider(page, "alice@example.com");
    // Better Auth's callback, then the app's: /auth/callback?state=<this tab's>.
    await page.getByTestId("user-email").filter({ hasText: "alice@example.com" }).waitFor();
    assert.equal(new URL(page.url()).pathname, "/dashboard");
    const session = await stored(page);
    const claims = claimsOf(session.access_token);
    assert.equal(claims.email, "alice@example.com");
    assert.equal(claims.iss, WWW);
    assert.ok(session.refresh_token, "Better Auth's session token");
    // The session token is Better Auth's: it buys JWTs; FastAPI takes them.
    assert.equal((await fetch(`${WWW}/api/auth/token`, { headers: { Authorization: `Bearer ${session.refresh_token}` } })).status, 200);
    await noteThroughFastApi(page, "signed in with Loopback ID");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("a denial at the provider is consent_denied; a callback this tab did not start is refused", async () => {
    const context = await chromium.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${WWW}/signin`);
    await page.getByRole("button", { name: "Continue with Loopback ID" }).click();
    await page.waitForURL((url) => url.origin === provider.issuer);
    await consentAtProvider(page, "alice@example.com", { allow: false });
    await page.getByTestId("form-error").filter({ hasText: "wasn't allowed at the provider" }).waitFor();
    assert.equal(await stored(page), null);
    // A link to the callback page with a state of someone else's making.
    await page.goto(`${WWW}/auth/callback?state=forged`);
    await page.getByTestId("form-error").waitFor();
    assert.equal(await stored(page), null);
    await context.close();
  });

  test("a password sign-in that needs the second factor is mfa_required; verifyMfa finishes it (a code, then a recovery code)", async () => {
    // Better Auth allows 3 sign-in/up and 3 two-factor calls per 10 s per client.
    await sleep(10_500);
    const email = uniqueEmail("ba-2fa");
    const signUp = await betterAuth("/sign-up/email", { email, password: "correct horse", name: "Ada" });
    assert.equal(signUp.status, 200);
    const sessionToken = signUp.headers.get("set-auth-token");
    const enabled = await betterAuth("/two-factor/enable", { password: "correct horse" }, sessionToken);
    assert.equal(enabled.status, 200);
    const { totpURI, backupCodes } = await enabled.json();
    const totpSecret = new URL(totpURI).searchParams.get("secret");
    assert.equal((await betterAuth("/two-factor/verify-totp", { code: totp(totpSecret) }, sessionToken)).status, 200, "enrolment confirmed");
    assert.ok(backupCodes.length > 0);
    await sleep(10_500);

    const context = await chromium.browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    await page.goto(`${WWW}/signin`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse");
    await page.getByRole("button", { name: "Sign in" }).click();
    // mfa_required: the demo's second step, no session yet.
    await page.getByRole("heading", { name: "Two-factor sign-in" }).waitFor();
    assert.equal(await stored(page), null);
    await page.getByLabel("Authentication code").fill(totp(totpSecret, 5));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByTestId("form-error").filter({ hasText: "That code didn't work" }).waitFor();
    assert.equal(await stored(page), null, "a wrong code signs nobody in");
    await page.getByLabel("Authentication code").fill(totp(totpSecret));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByTestId("user-email").filter({ hasText: email }).waitFor();
    const session = await stored(page);
    assert.equal(claimsOf(session.access_token).email, email);
    await noteThroughFastApi(page, "after the second factor");

    // Again with one of the recovery codes (Better Auth's backup codes).
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Use a recovery code" }).click();
    await page.getByLabel("Recovery code").fill(backupCodes[0]);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByTestId("user-email").filter({ hasText: email }).waitFor();
    assert.notEqual((await stored(page)).refresh_token, session.refresh_token, "a new Better Auth session");
    assert.deepEqual(problems, []);
    await context.close();
  });
});
