// Issue 16 finding 1 in the browser: email verification through a real SMTP server on
// loopback (aiosmtpd), and social linking against the real OpenID provider
// (oidc-provider): an unverified account is never linked by email; a signed-in user
// links and unlinks a provider with linkWith / identities / unlink.
// e2e-engines: chromium firefox
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Backend, Mailbox, OidcProvider, WWW, Web, consentAtProvider, launchBrowser, signUp, uniqueEmail, watchConsole } from "./harness.mjs";

let mailbox;
let provider;
let backend;
let web;
let chromium;

before(async () => {
  mailbox = new Mailbox();
  await mailbox.start();
  provider = new OidcProvider([`${WWW}/auth/callback`]);
  await provider.start();
  // The www build talks to the backend on its fixed test port; links point at www
  // (the first CORS origin).
  backend = new Backend({ SMTP_URL: mailbox.url, OAUTH_PROVIDERS: provider.backendSetting(), RATE_LIMIT_AUTH: "1000/60" });
  await backend.start();
  web = new Web();
  await web.start();
  chromium = await launchBrowser();
});

after(async () => {
  await chromium?.close();
  await web?.stop();
  await backend?.dispose();
  await provider?.stop();
  await mailbox?.stop();
});

async function newPage() {
  const context = await chromium.browser.newContext();
  const page = await context.newPage();
  return { context, page, problems: watchConsole(page) };
}

const userOf = (page) => page.evaluate(() => JSON.parse(localStorage.getItem("auth-wasm:session") ?? "null")?.user ?? null);

test("sign up, read the mail, open its link: verified, the banner is gone; a link works once", async () => {
  const { context, page, problems } = await newPage();
  const email = uniqueEmail("verify");
  await signUp(page, email);
  await page.getByTestId("user-email").filter({ hasText: email }).waitFor();
  // Signed in at once, but unverified: the banner, and another mail on request.
  const banner = page.getByTestId("verify-banner");
  await banner.waitFor();
  await banner.getByRole("button", { name: "Send it again" }).click();
  await page.getByTestId("verify-banner-note").filter({ hasText: "Sent" }).waitFor();
  const links = await mailbox.links(email, 2);
  assert.equal(links.length, 2);
  assert.ok(links.every((link) => link.startsWith(`${WWW}/verify-email?token=`)), links.join(" "));

  await page.goto(links[0]);
  await page.getByTestId("verify-result").filter({ hasText: "verified" }).waitFor();
  assert.equal(new URL(page.url()).search, "", "the token left the address bar");
  assert.equal((await userOf(page))?.email_verified, true, "verifyEmail refreshed the signed-in user");
  await page.getByRole("link", { name: "Go to your dashboard" }).click();
  await page.getByTestId("user-email").filter({ hasText: email }).waitFor();
  assert.equal(await banner.count(), 0, "no banner once verified");

  // The other link: the address is verified, so it is spent too.
  await page.goto(links[1]);
  await page.getByTestId("form-error").filter({ hasText: "already used" }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test("the verify page works signed out too, and a forged link is refused", async () => {
  const { context, page } = await newPage();
  const email = uniqueEmail("signedout");
  await backend.register(email);
  const [link] = await mailbox.links(email);
  await page.goto(`${link.slice(0, -4)}AAAA`);
  await page.getByTestId("form-error").filter({ hasText: "not valid" }).waitFor();
  await page.goto(link);
  await page.getByTestId("verify-result").waitFor();
  await page.getByRole("main").getByRole("link", { name: "Sign in" }).waitFor();
  await context.close();
});

test("pre-account takeover: a password account nobody verified is not joined by the provider's sign-in", async () => {
  // Someone registers alice@example.com (the provider's verified account) with their own password.
  await backend.register("alice@example.com", "attacker's password");
  const { context, page } = await newPage();
  await page.goto(`${WWW}/signin`);
  await page.getByRole("button", { name: "Continue with Loopback ID" }).click();
  await page.waitForURL((url) => url.origin === provider.issuer);
  await consentAtProvider(page, "alice@example.com");
  await page.waitForURL((url) => url.pathname === "/auth/callback");
  await page.getByTestId("form-error").filter({ hasText: "not verified" }).waitFor();
  assert.equal(await userOf(page), null, "nobody signed in");
  // Nothing was linked: the attacker's account has no provider.
  const login = await fetch(`${backend.url}/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: "alice@example.com", password: "attacker's password" }) });
  const { access_token: token } = await login.json();
  const listed = await (await fetch(`${backend.url}/auth/identities`, { headers: { Authorization: `Bearer ${token}` } })).json();
  assert.deepEqual(listed.identities, []);
  await context.close();
});

test("link the provider on the security page, sign in with it, unlink it", async () => {
  const { context, page, problems } = await newPage();
  const email = uniqueEmail("linker");
  await signUp(page, email);
  await page.goto(`${WWW}/security`);
  const row = page.getByTestId("identity-loopback");
  await row.getByRole("button", { name: "Link" }).click();
  await page.waitForURL((url) => url.origin === provider.issuer);
  await consentAtProvider(page, "alice@example.com");
  // handleRedirect finishes the link and the demo goes back to the security page.
  await page.waitForURL(`${WWW}/security`);
  await row.getByText("linked").waitFor();
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("auth-wasm:session")));
  assert.equal(stored.user?.email ?? email, email, "still the same user");
  const listed = await (await fetch(`${backend.url}/auth/identities`, { headers: { Authorization: `Bearer ${stored.access_token}` } })).json();
  assert.deepEqual(
    listed.identities.map((i) => i.provider),
    ["loopback"],
  );

  // Signed out, "Continue with Loopback ID" as alice now opens this account.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${WWW}/signin`);
  // Forget the provider's own session, so it asks who signs in again.
  await context.clearCookies();
  await page.getByRole("button", { name: "Continue with Loopback ID" }).click();
  await page.waitForURL((url) => url.origin === provider.issuer);
  await consentAtProvider(page, "alice@example.com");
  await page.waitForURL(`${WWW}/dashboard`);
  await page.getByTestId("user-email").filter({ hasText: email }).waitFor();

  // Unlink: the password still signs in, so the provider may go.
  await page.goto(`${WWW}/security`);
  await row.getByRole("button", { name: "Unlink" }).click();
  await row.getByRole("button", { name: "Link" }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});
