// Better Auth as it ships (AUTH_MODE=better-auth-jwks): its jwt plugin signs with EdDSA
// key pairs of its own and publishes them at /api/auth/jwks; FastAPI verifies through
// that JWKS (JWT_JWKS_URL). The HS256 mode's scenarios (better-auth-suite.mjs), then
// key rotation: Better Auth makes a new key pair every ROTATION seconds, and FastAPI
// takes tokens of the new key (one re-read of the JWKS) and of the old one until they
// expire.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { API, WWW, signUp, uniqueEmail, watchConsole } from "./harness.mjs";
import { betterAuthScenarios, claimsOf, headerOf, stored } from "./better-auth-suite.mjs";

// Longer than the suite's JWT lifetime (6 s), so a token outlives no key's turn.
const ROTATION = 12;
const { chromium } = betterAuthScenarios({
  jwks: true,
  web: { BETTER_AUTH_JWKS_ROTATION: String(ROTATION) },
  // FastAPI re-reads the JWKS for an unknown key at most this often (60 s by default):
  // shorter than ROTATION so every rotation of this suite is picked up.
  backend: { JWT_JWKS_MIN_REFETCH: "2" },
});

const exchange = async (sessionToken) => {
  const r = await fetch(`${WWW}/api/auth/token`, { headers: { Authorization: `Bearer ${sessionToken}` } });
  assert.equal(r.status, 200);
  return (await r.json()).token;
};
const notesWith = (jwt) => fetch(`${API}/notes`, { headers: { Authorization: `Bearer ${jwt}` } });

test("a rotated key: new tokens verify at once, old ones until they expire", async () => {
  // The errors scenario before this one used up Better Auth's sign-up/in limit (3 per
  // 10 s per client): start with an empty window.
  await sleep(10_500);
  const context = await chromium.browser.newContext();
  const page = await context.newPage();
  const problems = watchConsole(page);
  await signUp(page, uniqueEmail("rotation"));
  const { refresh_token: sessionToken } = await stored(page);
  await page.goto(`${WWW}/notes`);

  // Exchange once a second until Better Auth signs with a new key; the last token of
  // the old key is a second old at most.
  let old = await exchange(sessionToken);
  let fresh = old;
  for (let i = 0; i < ROTATION + 5 && headerOf(fresh).kid === headerOf(old).kid; i++) {
    old = fresh;
    await sleep(1000);
    fresh = await exchange(sessionToken);
  }
  const [oldKid, newKid] = [headerOf(old).kid, headerOf(fresh).kid];
  assert.notEqual(newKid, oldKid, `a new key within ${ROTATION + 5} s`);
  const { keys } = await (await fetch(`${WWW}/api/auth/jwks`)).json();
  assert.ok([oldKid, newKid].every((kid) => keys.some((k) => k.kid === kid)), "both keys published");

  assert.equal((await notesWith(fresh)).status, 200, "the new key's token, after FastAPI reads the JWKS again");
  assert.ok(claimsOf(old).exp * 1000 > Date.now(), "the old token has not expired yet");
  assert.equal((await notesWith(old)).status, 200, "the old key's token until it expires");
  // The page goes on through the rotation: a note added with whichever token it holds.
  await page.getByLabel("New note").fill("after the rotation");
  await page.getByRole("button", { name: "Add note" }).click();
  await page.getByTestId("notes").getByText("after the rotation").waitFor();
  assert.equal(await page.getByTestId("notes-error").count(), 0);

  // Past its expiry (and FastAPI's 5 s leeway) the old token is refused; the key is not.
  await sleep(Math.max(0, claimsOf(old).exp * 1000 + 6_000 - Date.now()));
  assert.equal((await notesWith(old)).status, 401);
  const later = await exchange(sessionToken);
  assert.equal((await notesWith(later)).status, 200);
  assert.deepEqual(problems, []);
  await context.close();
});
