// Passkeys end to end in Chromium, with the DevTools protocol's virtual authenticator
// (CTAP2, internal transport, resident keys, user verification): sign up with a passkey,
// sign out, sign in with it, add a second one, remove one, unknown and cancelled
// ceremonies, the autofill; then the demo's passkey flow. WebAuthn needs a domain RP ID,
// so the pages are opened on http://localhost (the backend's RP ID), never 127.0.0.1.
// Chromium only: Firefox over BiDi has no virtual authenticator, and WebKitGTK's
// MiniBrowser no WebAuthn (docs/design-notes.md, "Passkeys").
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Backend, Lab, WWW, Web, authenticator, freePort, labBackend, openLab, uniqueEmail, useStack, watchConsole } from "./harness.mjs";

const LAB_PORT = await freePort();
const LAB = `http://localhost:${LAB_PORT}`;
const backend = labBackend({ CORS_ORIGINS: LAB, WEBAUTHN_RP_ID: "localhost" });
const lab = new Lab(process.env.E2E_LAB_PKG, LAB_PORT);
const stack = useStack(backend, lab);

async function labPage() {
  const context = await stack.browser.newContext();
  const page = await context.newPage();
  const problems = watchConsole(page);
  await openLab(page, lab, `${LAB}/`);
  await page.evaluate((api) => {
    window.auth = new window.AuthClient({ baseUrl: api });
  }, backend.url);
  const device = await authenticator(context, page);
  return { context, page, problems, device };
}

/** `auth.<method>(...args)` in the page: the resolved value, or `{ error: code }`. */
const run = (page, method, ...args) =>
  page.evaluate(
    ({ method, args }) =>
      window.auth[method](...args).then(
        (value) => (value && typeof value === "object" && "status" in value ? { status: value.status, sub: value.claims?.sub ?? null } : value ?? null),
        (err) => ({ error: err.code, isAuthError: err instanceof window.authWasm.AuthError }),
      ),
    { method, args },
  );

describe("passkeys on the lab page", () => {
  test("sign up with a passkey, sign out, sign in with it: the session a password gives", async () => {
    const { context, page, problems, device } = await labPage();
    const email = uniqueEmail("pk");
    const signedUp = await run(page, "signUpWithPasskey", { email, name: "Pia", passkeyName: "Laptop" });
    assert.equal(signedUp.status, "authenticated");
    const me = await page.evaluate((api) => window.auth.fetch(`${api}/auth/me`).then((r) => r.json()), backend.url);
    assert.deepEqual([me.email, me.name], [email, "Pia"]);
    // A discoverable credential for the RP ID, and it asked for user verification.
    const { credentials } = await device.cdp.send("WebAuthn.getCredentials", { authenticatorId: device.id });
    assert.deepEqual(credentials.map((c) => [c.isResidentCredential, c.rpId]), [[true, "localhost"]]);

    await run(page, "logout");
    assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), "anonymous");
    const signedIn = await run(page, "signInWithPasskey");
    assert.deepEqual(signedIn, { status: "authenticated", sub: me.id });
    // Stored and restored like any session; refreshes like one.
    await page.reload();
    await page.waitForFunction(() => window.labReady === true);
    const restored = await page.evaluate(async (api) => {
      window.auth = new window.AuthClient({ baseUrl: api });
      const snapshot = await window.auth.refresh();
      return snapshot.status;
    }, backend.url);
    assert.equal(restored, "authenticated");
    const [listed] = await run(page, "passkeys");
    assert.equal(listed.name, "Laptop");
    assert.ok(listed.lastUsedAt, "the sign-in is recorded");
    assert.equal(typeof listed.backupEligible, "boolean");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("add a second passkey, sign in with it, remove the first; never the last one; an unknown passkey is refused", async () => {
    const { context, page, problems, device } = await labPage();
    assert.equal((await run(page, "signUpWithPasskey", { email: uniqueEmail("pk2"), passkeyName: "Laptop" })).status, "authenticated");
    // The same authenticator holds one of the account's passkeys: excluded.
    assert.deepEqual(await run(page, "registerPasskey", { name: "Again" }), { error: "validation", isAuthError: true });
    // Keep the first credential (private key included) to present it again later.
    const [first] = (await device.cdp.send("WebAuthn.getCredentials", { authenticatorId: device.id })).credentials;
    await device.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: device.id });
    const phone = await device.add();
    const added = await run(page, "registerPasskey", { name: "Phone" });
    assert.equal(added.name, "Phone");
    assert.deepEqual((await run(page, "passkeys")).map((p) => p.name), ["Laptop", "Phone"]);

    await run(page, "logout");
    assert.equal((await run(page, "signInWithPasskey")).status, "authenticated", "with the phone's passkey");
    const [laptop] = await run(page, "passkeys");
    assert.equal(await run(page, "renamePasskey", added.id, "Work phone").then((p) => p.name), "Work phone");
    assert.equal(await run(page, "removePasskey", laptop.id), null);
    assert.deepEqual((await run(page, "passkeys")).map((p) => p.name), ["Work phone"]);
    assert.deepEqual(await run(page, "removePasskey", added.id), { error: "validation", isAuthError: true }, "the last way in stays");

    // The removed passkey still lives in an authenticator: the backend no longer knows it.
    await run(page, "logout");
    await device.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: phone.authenticatorId });
    const old = await device.add();
    await device.cdp.send("WebAuthn.addCredential", { authenticatorId: old.authenticatorId, credential: first });
    assert.deepEqual(await run(page, "signInWithPasskey"), { error: "invalid_credentials", isAuthError: true });
    assert.equal(await page.evaluate(() => window.auth.getSnapshot().error?.code), "invalid_credentials");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("a cancelled or aborted ceremony rejects with aborted and changes nothing", async () => {
    const { context, page, problems, device } = await labPage();
    assert.equal((await run(page, "signUpWithPasskey", { email: uniqueEmail("pk3") })).status, "authenticated");
    await run(page, "logout");
    // The person fails (or refuses) the verification: the browser's NotAllowedError.
    await device.cdp.send("WebAuthn.setUserVerified", { authenticatorId: device.id, isUserVerified: false });
    assert.deepEqual(await run(page, "signInWithPasskey"), { error: "aborted", isAuthError: true });
    assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), "anonymous");
    await device.cdp.send("WebAuthn.setUserVerified", { authenticatorId: device.id, isUserVerified: true });
    // Nobody touches the authenticator; the app gives up through its signal.
    await device.cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId: device.id, enabled: false });
    const aborted = await page.evaluate(() => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      return window.auth.signInWithPasskey({ signal: controller.signal }).then(
        (s) => s.status,
        (err) => err.code,
      );
    });
    assert.equal(aborted, "aborted");
    await device.cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId: device.id, enabled: true });
    assert.equal((await run(page, "signInWithPasskey")).status, "authenticated", "the next ceremony works");
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("the autofill signs in with the passkey picked; a button's sign-in takes over a waiting one", async () => {
    const { context, page, problems, device } = await labPage();
    assert.equal((await run(page, "signUpWithPasskey", { email: uniqueEmail("pk4") })).status, "authenticated");
    await run(page, "logout");
    assert.equal(await page.evaluate(() => PublicKeyCredential.isConditionalMediationAvailable()), true, "Chromium offers passkeys in autofill");
    await page.evaluate(() => document.body.insertAdjacentHTML("beforeend", '<input id="email" autocomplete="username webauthn">'));
    // The virtual authenticator answers a conditional request at once, as a person
    // picking the passkey from the field's suggestions would.
    assert.equal((await run(page, "signInWithPasskey", { autofill: true })).status, "authenticated");
    await run(page, "logout");

    // Nobody picks anything: the autofill waits, until a button's ceremony takes over.
    await device.cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId: device.id, enabled: false });
    await page.evaluate(() => {
      window.autofill = window.auth.signInWithPasskey({ autofill: true }).then(
        (s) => (s ? s.status : null),
        (err) => err.code,
      );
    });
    const pending = await page.evaluate(() => Promise.race([window.autofill, new Promise((r) => setTimeout(() => r("pending"), 500))]));
    assert.equal(pending, "pending");
    const button = await page.evaluate(() => {
      const stop = new AbortController();
      setTimeout(() => stop.abort(), 300);
      return window.auth.signInWithPasskey({ signal: stop.signal }).then(
        (s) => s.status,
        (err) => err.code,
      );
    });
    assert.deepEqual([await page.evaluate(() => window.autofill), button], ["aborted", "aborted"], "the autofill's wait ended when the button's began");
    await device.cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId: device.id, enabled: true });
    assert.equal((await run(page, "signInWithPasskey")).status, "authenticated");

    // A browser without passkey autofill: nothing to wait for.
    await run(page, "logout");
    await page.evaluate(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    assert.equal(await run(page, "signInWithPasskey", { autofill: true }), null);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test("without WebAuthn the calls reject with config", async () => {
    const context = await stack.browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      delete window.PublicKeyCredential;
    });
    await openLab(page, lab, `${LAB}/`);
    await page.evaluate((api) => {
      window.auth = new window.AuthClient({ baseUrl: api });
    }, backend.url);
    assert.deepEqual(await run(page, "signInWithPasskey"), { error: "config", isAuthError: true });
    assert.deepEqual(await run(page, "signUpWithPasskey", { email: uniqueEmail("pk5") }), { error: "config", isAuthError: true });
    await context.close();
  });
});

// The demo: www served on http://localhost (its backend's default CORS origins include
// it, and its RP ID is then localhost).
const demoBackend = new Backend({ RATE_LIMIT_AUTH: "1000/60" });
const demo = useStack(demoBackend, new Web());
const DEMO = `http://localhost:${new URL(WWW).port}`;

describe("the demo's passkeys", () => {
  test("add, rename and remove a passkey on the security page; sign in with it from the sign-in page", async () => {
    const context = await demo.browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    await page.goto(`${DEMO}/signup`);
    const device = await authenticator(context, page);
    const email = uniqueEmail("demo-pk");
    await page.getByLabel("Name").fill("Ada Lovelace");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct horse");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${DEMO}/dashboard`);

    await page.goto(`${DEMO}/security`);
    const section = page.getByTestId("passkeys");
    await section.getByLabel("Name of the new passkey").fill("Demo laptop");
    await section.getByLabel("Current password").fill("correct horse");
    await section.getByRole("button", { name: "Add a passkey" }).click();
    await section.getByTestId("passkey").filter({ hasText: "Demo laptop" }).waitFor();
    await section.getByRole("button", { name: "Rename" }).click();
    await section.getByLabel("New name").fill("Ada's laptop");
    await section.getByRole("button", { name: "Save" }).click();
    await section.getByTestId("passkey").filter({ hasText: "Ada's laptop" }).waitFor();

    // Signed out, the sign-in page offers the passkey in the email field's autofill; the
    // virtual authenticator picks it at once, as a person choosing it there would.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${DEMO}/dashboard`);
    await page.getByTestId("user-email").filter({ hasText: email }).waitFor();
    let stats = await demoBackend.stats();
    assert.deepEqual([stats["/auth/logout"], stats["/auth/passkeys/signin"]], [1, 1]);

    // Where the browser has no passkey autofill: the button.
    await page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    await page.reload();
    await page.getByTestId("user-email").filter({ hasText: email }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${DEMO}/signin`);
    assert.equal(await page.getByLabel("Email").getAttribute("autocomplete"), "username webauthn");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForURL(`${DEMO}/dashboard`);
    await page.getByTestId("user-email").filter({ hasText: email }).waitFor();
    stats = await demoBackend.stats();
    assert.deepEqual([stats["/auth/logout"], stats["/auth/passkeys/signin"]], [2, 2]);

    await page.goto(`${DEMO}/security`);
    await section.getByTestId("passkey").filter({ hasText: "Ada's laptop" }).getByRole("button", { name: "Remove" }).click();
    await section.getByText("No passkeys yet.").waitFor();
    const { credentials } = await device.cdp.send("WebAuthn.getCredentials", { authenticatorId: device.id });
    assert.equal(credentials.length, 1, "the authenticator keeps it; the account no longer accepts it");
    assert.deepEqual(problems, []);
    await context.close();
  });
});
