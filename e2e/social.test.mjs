// Social sign-in end to end against a real OpenID provider on loopback (the npm
// `oidc-provider` package): the backend is its confidential client (code + PKCE,
// nonce), auth-wasm starts the redirect and finishes it. On the lab page: a full
// sign-in, the code replayed, a denied consent, a callback this tab never started, an
// unverified email. In the demo: the provider's button, then FastAPI notes.
// Mix-up (RFC 9700 4.4, RFC 9207): a second provider shares the lab's redirect URI;
// an answer from the other provider (its `iss`, a missing `iss`, another path) is
// refused before its code reaches anyone.
// e2e-engines: chromium firefox webkit
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Backend, LOOPBACK_ORIGINS, Lab, OidcProvider, WWW, Web, consentAtProvider, launchBrowser, needs, openLab, watchConsole } from "./harness.mjs";

let lab;
let provider;
let otherProvider;
let backend;
let web;
let chromium;

before(async () => {
  lab = new Lab(process.env.E2E_LAB_PKG);
  await lab.start();
  provider = new OidcProvider([`${lab.url}/`, `${WWW}/auth/callback`]);
  await provider.start();
  // Another provider with the same redirect URI: the mix-up attacker's (its own
  // issuer and keys; as a real provider it advertises and sends `iss`).
  otherProvider = new OidcProvider([`${lab.url}/`]);
  await otherProvider.start();
  const providers = { ...JSON.parse(provider.backendSetting()), other: { ...JSON.parse(otherProvider.backendSetting()).loopback, name: "Other ID" } };
  // The www build talks to the backend on its fixed test port.
  backend = new Backend({ OAUTH_PROVIDERS: JSON.stringify(providers), CORS_ORIGIN_REGEX: LOOPBACK_ORIGINS });
  await backend.start();
  // Only the demo's scenario uses the www app.
  if (!needs("demo")) {
    web = new Web();
    await web.start();
  }
  chromium = await launchBrowser();
});

after(async () => {
  await chromium?.close();
  await web?.stop();
  await backend?.dispose();
  await provider?.stop();
  await otherProvider?.stop();
  await lab?.stop();
});

/** A fresh browser on the lab page, with a client in `window.auth`. */
async function labPage() {
  const context = await chromium.browser.newContext();
  const page = await context.newPage();
  const problems = watchConsole(page);
  await openLabClient(page);
  return { context, page, problems };
}

async function openLabClient(page, url = `${lab.url}/`) {
  if (page.url() !== url) await openLab(page, lab, url);
  else await page.waitForFunction(() => window.labReady === true);
  await page.evaluate((api) => {
    window.auth = new window.AuthClient({ baseUrl: api });
  }, backend.url);
}

/** signInWith from the lab page, through the provider's pages, back to the lab. */
async function throughProvider(page, email, options) {
  await page.evaluate(() => {
    window.auth.signInWith("loopback", { redirectTo: `${location.origin}/` });
  });
  await page.waitForURL((url) => url.origin === provider.issuer);
  await consentAtProvider(page, email, options);
  await page.waitForURL((url) => url.origin === lab.url && url.searchParams.has("state"));
  const back = page.url();
  await openLabClient(page, back);
  return back;
}

const finish = (page, url) =>
  page.evaluate(
    (url) =>
      window.auth.handleRedirect(url).then(
        (s) => ({ status: s?.status ?? null, email: s?.user?.email ?? null }),
        (e) => ({ error: e.code, isError: e instanceof Error, message: e.message }),
      ),
    url,
  );

test("sign in with the provider: PKCE, state and nonce round trip; the code works once", async () => {
  const { context, page, problems } = await labPage();
  const back = await throughProvider(page, "alice@example.com");
  const query = new URL(back).searchParams;
  assert.ok(query.get("code") && query.get("state"), "the provider sent a code and our state");
  const pending = await page.evaluate(() => sessionStorage.getItem("auth-wasm:social"));
  const kept = JSON.parse(pending);
  assert.equal(kept.verifier.length, 43, "a 32-byte verifier");
  assert.equal(kept.state, query.get("state"));

  assert.deepEqual(await finish(page), { status: "authenticated", email: "alice@example.com" });
  assert.equal(new URL(page.url()).search, "", "code and state left the address bar");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("auth-wasm:social")), null, "the pending sign-in is spent");
  // The backend's tokens work on its API.
  const status = await page.evaluate(async (api) => {
    const r = await window.auth.fetch(`${api}/notes`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: "from the provider" }) });
    return r.status;
  }, backend.url);
  assert.equal(status, 201);
  // Nothing to handle on a plain page.
  assert.deepEqual(await finish(page), { status: null, email: null });

  // The same callback again (the pending record put back, as a replayed link would
  // have it): the provider refuses the spent code.
  await page.evaluate((p) => sessionStorage.setItem("auth-wasm:social", p), pending);
  const replay = await finish(page, back);
  assert.equal(replay.error, "code_used");
  assert.equal(replay.isError, true);
  assert.equal((await backend.stats())["/auth/oauth/loopback/callback"], 2, "the sign-in and its replay reached the backend");
  assert.deepEqual(problems, []);
  await context.close();
});

test("a denied consent is consent_denied, and nobody is signed in", async () => {
  const { context, page } = await labPage();
  const back = await throughProvider(page, "alice@example.com", { allow: false });
  assert.equal(new URL(back).searchParams.get("error"), "access_denied");
  const result = await finish(page);
  assert.equal(result.error, "consent_denied");
  assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), "anonymous");
  await context.close();
});

test("a callback this tab did not start is a state mismatch and never reaches the backend", async () => {
  const { context, page } = await labPage();
  const back = await throughProvider(page, "alice@example.com");
  // Another browser (no pending sign-in) opens the same callback URL: a login CSRF.
  const other = await chromium.browser.newContext();
  const victim = await other.newPage();
  await openLabClient(victim, back);
  await backend.reset();
  assert.equal((await finish(victim)).error, "state_mismatch");
  // And a tampered state in the right tab.
  const forged = new URL(back);
  forged.searchParams.set("state", "forged-state-value");
  assert.equal((await finish(page, forged.href)).error, "state_mismatch");
  assert.equal((await backend.stats())["/auth/oauth/loopback/callback"] ?? 0, 0);
  await other.close();
  await context.close();
});

/** Nothing signed in and nothing stored: the refused answer left no trace. */
async function signedOutAndNothingStored(page) {
  return page.evaluate(() => ({
    status: window.auth.getSnapshot().status,
    session: localStorage.getItem("auth-wasm:session"),
    pending: sessionStorage.getItem("auth-wasm:social"),
  }));
}

test("mix-up: a code the honest provider issued for a sign-in started with another is refused, never sent", { skip: needs("network") }, async () => {
  const { context, page } = await labPage();
  // The victim starts a sign-in with the other (attacker's) provider...
  const authorization = page.waitForRequest((request) => {
    const url = new URL(request.url());
    return url.origin === otherProvider.issuer && url.searchParams.has("code_challenge");
  });
  await page.evaluate(() => {
    window.auth.signInWith("other", { redirectTo: `${location.origin}/` });
  });
  // (what the attacker's authorization endpoint receives)
  const asked = new URL((await authorization).url()).searchParams;
  // Let that navigation land before sending the page elsewhere: Firefox can leave a
  // navigation that interrupts another one waiting for a load that never comes.
  const otherOrigin = new URL(otherProvider.issuer).origin;
  await page.waitForURL((url) => url.origin === otherOrigin);
  // ...whose authorization endpoint starts a sign-in at the honest provider with the
  // victim's PKCE challenge and state, and sends the victim there.
  const attackerStart = await fetch(`${backend.url}/auth/oauth/loopback/start`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ redirect_uri: `${lab.url}/`, code_challenge: asked.get("code_challenge"), state: asked.get("state") }),
  }).then((r) => r.json());
  await page.goto(attackerStart.authorization_url);
  await consentAtProvider(page, "alice@example.com");
  await page.waitForURL((url) => url.origin === lab.url && url.searchParams.has("state"));
  const back = page.url();
  assert.equal(new URL(back).searchParams.get("iss"), provider.issuer, "the honest provider names itself");
  await openLabClient(page, back);
  await backend.reset();
  // The state matches the pending sign-in; the issuer does not.
  const result = await finish(page, back);
  assert.equal(result.error, "state_mismatch");
  assert.equal(result.isError, true);
  assert.equal((await backend.stats())["/auth/oauth/other/callback"] ?? 0, 0, "the code and verifier went nowhere");
  assert.deepEqual(await signedOutAndNothingStored(page), { status: "anonymous", session: null, pending: null });
  await context.close();
});

test("a callback without iss from a provider that promises it is refused", async () => {
  const { context, page } = await labPage();
  const back = new URL(await throughProvider(page, "alice@example.com"));
  assert.ok(back.searchParams.has("iss"));
  back.searchParams.delete("iss");
  await backend.reset();
  assert.equal((await finish(page, back.href)).error, "state_mismatch");
  assert.equal((await backend.stats())["/auth/oauth/loopback/callback"] ?? 0, 0);
  assert.deepEqual(await signedOutAndNothingStored(page), { status: "anonymous", session: null, pending: null });
  await context.close();
});

test("a callback on another provider's redirect path is refused", async () => {
  const { context, page } = await labPage();
  const back = new URL(await throughProvider(page, "alice@example.com"));
  // The sign-in named `${lab}/`; the same answer arriving on another provider's path
  // (one redirect URI per provider, /auth/callback/<provider>) is not its answer.
  const elsewhere = new URL(`/auth/callback/other${back.search}`, back);
  await backend.reset();
  assert.equal((await finish(page, elsewhere.href)).error, "state_mismatch");
  assert.equal((await backend.stats())["/auth/oauth/loopback/callback"] ?? 0, 0);
  assert.deepEqual(await signedOutAndNothingStored(page), { status: "anonymous", session: null, pending: null });
  await context.close();
});

test("signInWith refuses what cannot work before leaving the page", async () => {
  const { context, page } = await labPage();
  const attempt = (provider, redirectTo) =>
    page.evaluate(
      ({ provider, redirectTo }) => window.auth.signInWith(provider, { redirectTo }).then(() => "navigated", (e) => ({ code: e.code, fields: e.fields ?? null })),
      { provider, redirectTo },
    );
  assert.deepEqual(await attempt("nope", `${lab.url}/`), { code: "validation", fields: { provider: "Unknown sign-in provider" } });
  assert.deepEqual(await attempt("loopback", "https://evil.example.test/"), { code: "validation", fields: { redirect_uri: "Not an allowed origin" } });
  assert.equal((await attempt("loopback", "/relative")).code, "config");
  // An IPv6 host that is none passes the engine's parser (it reads the brackets), not the
  // URL parser: the engine is given no redirectTo, and refuses it as it refuses any it
  // cannot read (recorded, as its refusals are).
  const unreadable = "redirectTo must be an absolute http(s) URL of this app";
  assert.deepEqual(
    await page.evaluate(() =>
      window.auth.signInWith("loopback", { redirectTo: "http://[x]/" }).then(
        () => "navigated",
        (e) => [e.code, e.message, window.auth.getSnapshot().error?.message],
      ),
    ),
    ["config", unreadable, unreadable],
  );
  assert.equal((await attempt("../x", `${lab.url}/`)).code, "config");
  assert.equal((await finish(page, "not a url")).error, "config");
  assert.equal(page.url(), `${lab.url}/`, "still on the page");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("auth-wasm:social")), null, "nothing pending");
  await context.close();
});

test("an account whose email the provider has not verified is refused", async () => {
  const { context, page } = await labPage();
  await throughProvider(page, "bob@example.com");
  const result = await finish(page);
  assert.equal(result.error, "unauthorized");
  assert.match(result.message, /not verified/);
  assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), "anonymous");
  await context.close();
});

test("demo: continue with the provider, land signed in, and FastAPI notes work", { skip: needs("demo") }, async () => {
  const context = await chromium.browser.newContext();
  const page = await context.newPage();
  const problems = watchConsole(page);
  await page.goto(`${WWW}/signin`);
  await page.getByRole("button", { name: "Continue with Loopback ID" }).click();
  await page.waitForURL((url) => url.origin === provider.issuer);
  await consentAtProvider(page, "alice@example.com");
  await page.waitForURL(`${WWW}/dashboard`);
  await page.getByTestId("user-email").filter({ hasText: "alice@example.com" }).waitFor();
  await page.goto(`${WWW}/notes`);
  await page.getByLabel("New note").fill("signed in with the provider");
  await page.getByRole("button", { name: "Add note" }).click();
  await page.getByTestId("notes").getByText("signed in with the provider").waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});
