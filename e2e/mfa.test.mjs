// Two-factor sign-in end to end: enrol TOTP against the real backend, then sign in
// with the password and a code computed here (RFC 6238), a wrong code, a recovery
// code, and a recovery code used twice.
// e2e-engines: chromium firefox webkit
import assert from "node:assert/strict";
import { test } from "node:test";
import { Lab, labBackend, openLab, totp, uniqueEmail, useStack, watchConsole } from "./harness.mjs";


const backend = labBackend();
const lab = new Lab(process.env.E2E_LAB_PKG);
const chromium = useStack(backend, lab);

test("enrol TOTP, then sign in with the password and a code; recovery codes work once", async () => {
  const context = await chromium.browser.newContext();
  const page = await context.newPage();
  const problems = watchConsole(page);
  await openLab(page, lab);
  const email = uniqueEmail("mfa");
  await backend.register(email);
  await page.evaluate(async ({ api, email }) => {
    window.auth = new window.AuthClient({ baseUrl: api });
    window.events = [];
    window.auth.subscribe((_s, e) => window.events.push(e));
    await window.auth.login({ email, password: "correct horse" });
  }, { api: backend.url, email });

  // Enrolment goes through auth.fetch: the bearer rules apply to it like any API call.
  const { secret, uri } = await page.evaluate(async (api) => {
    const r = await window.auth.fetch(`${api}/auth/mfa/totp/enroll`, { method: "POST" });
    const body = await r.json();
    return { secret: body.secret, uri: body.otpauth_uri };
  }, backend.url);
  assert.match(uri, /^otpauth:\/\/totp\//);
  const codes = await page.evaluate(async ({ api, code }) => {
    const r = await window.auth.fetch(`${api}/auth/mfa/totp/confirm`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }) });
    return (await r.json()).recovery_codes;
  }, { api: backend.url, code: totp(secret) });
  assert.equal(codes.length, 10);
  await page.evaluate(() => window.auth.logout());

  const signIn = () => page.evaluate((email) => window.auth.login({ email, password: "correct horse" }).then((s) => ({ status: s.status, mfa: s.mfa })), email);
  const verify = (input) => page.evaluate((input) => window.auth.verifyMfa(input).then((s) => s.status, (e) => e.code), input);

  assert.deepEqual(await signIn(), { status: "mfa_required", mfa: { methods: ["totp", "recovery_code"] } });
  assert.ok((await page.evaluate(() => window.events)).includes("mfa_required"));
  assert.equal(await page.evaluate(() => window.auth.getAccessToken()), null, "no tokens before the second step");
  const wrong = totp(secret, 5);
  assert.equal(await verify({ code: wrong }), "invalid_code");
  assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), "mfa_required", "another try");
  // The next step's code: the confirmation used the current one.
  assert.equal(await verify({ code: totp(secret, 1) }), "authenticated");
  assert.equal(await page.evaluate((api) => window.auth.fetch(`${api}/notes`).then((r) => r.status), backend.url), 200);

  await page.evaluate(() => window.auth.logout());
  await signIn();
  assert.equal(await verify({ recoveryCode: codes[0] }), "authenticated");
  await page.evaluate(() => window.auth.logout());
  await signIn();
  assert.equal(await verify({ recoveryCode: codes[0] }), "invalid_code", "a recovery code works once");
  assert.equal(await verify({ recoveryCode: codes[1] }), "authenticated");
  // Without a pending sign-in there is nothing to verify.
  await page.evaluate(() => window.auth.logout());
  assert.equal(await verify({ code: totp(secret) }), "challenge_expired");
  assert.deepEqual(problems, []);
  await context.close();
});
