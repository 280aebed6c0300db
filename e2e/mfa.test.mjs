// Two-factor sign-in end to end: enrol TOTP against the real backend (with the
// password again: step-up), then sign in with the password and a code computed here
// (RFC 6238), a wrong code, a recovery code, a recovery code used twice, a challenge
// that dies after five wrong codes, and a code in another script's digits.
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
  const post = (path, body) =>
    page.evaluate(async ({ url, body }) => {
      const r = await window.auth.fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      return { status: r.status, body: await r.json() };
    }, { url: `${backend.url}${path}`, body });
  // A session alone cannot turn two-factor on: the password is asked again.
  const noPassword = await post("/auth/mfa/totp/enroll", {});
  assert.deepEqual([noPassword.status, noPassword.body.code], [403, "invalid_credentials"]);
  const enrolled = await post("/auth/mfa/totp/enroll", { password: "correct horse" });
  const { secret, otpauth_uri: uri } = enrolled.body;
  assert.match(uri, /^otpauth:\/\/totp\//);
  const confirmed = await post("/auth/mfa/totp/confirm", { code: totp(secret), password: "correct horse" });
  const codes = confirmed.body.recovery_codes;
  assert.equal(codes.length, 10);
  assert.match(codes[0], /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/, "80-bit recovery codes");
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

  // Five wrong codes end a sign-in: the password again, then a new challenge works.
  await page.evaluate(() => window.auth.logout());
  await signIn();
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await verify({ code: totp(secret, 5) }));
  assert.deepEqual(answers, ["invalid_code", "invalid_code", "invalid_code", "invalid_code", "challenge_expired"]);
  await signIn();
  // Digits of another script are a validation error (not a server error).
  assert.equal(await verify({ code: "١٢٣٤٥٦" }), "validation");
  assert.equal(await verify({ recoveryCode: codes[2].toUpperCase().replaceAll("-", " ") }), "authenticated");
  // Without a pending sign-in there is nothing to verify.
  await page.evaluate(() => window.auth.logout());
  assert.equal(await verify({ code: totp(secret) }), "challenge_expired");
  assert.deepEqual(problems, []);
  await context.close();
});
