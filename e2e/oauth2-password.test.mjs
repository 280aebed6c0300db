// The real client against FastAPI's documented OAuth2 password flow (issue 20, "FastAPI's
// OAuth2 password flow" in docs/backends.md): the form login at /token, a JWT bearer,
// /users/me/, and no refresh token, so the session ends when the access token does.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Lab, openLab, useStack, watchConsole, startLabClient } from "./harness.mjs";
import { OAuth2PasswordServer } from "./backends/servers.mjs";

const TTL = 6;

const server = new OAuth2PasswordServer({ accessSeconds: TTL });
const lab = new Lab(process.env.E2E_LAB_PKG);
const stack = useStack(server, lab);

/** docs/backends.md's recipe (leeway 0: this test waits for the real expiry). */
const recipe = (baseUrl) => ({ baseUrl, protocol: "oauth2-password", endpoints: { me: "/users/me/" }, leeway: 0 });

const contexts = [];
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});

async function tab() {
  const context = await stack.browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const problems = watchConsole(page);
  const requests = [];
  page.on("request", (r) => requests.push({ method: r.method(), url: r.url(), type: r.headers()["content-type"] ?? null }));
  await openLab(page, lab);
  await startLabClient(page, recipe(server.url));
  return { page, problems, requests };
}

const login = (page, username, password) =>
  page.evaluate(
    ({ username, password }) =>
      window.auth.login({ username, password }).then(
        (s) => ({ status: s.status, sub: s.claims?.sub ?? null }),
        (e) => ({ code: e.code, status: e.status, message: e.message }),
      ),
    { username, password },
  );

describe("FastAPI OAuth2 password flow", () => {
  test("login posts the form to /token; me() and the API take the bearer", async () => {
    const { page, problems, requests } = await tab();
    assert.deepEqual(await login(page, server.username, server.password), { status: "authenticated", sub: "johndoe" });
    assert.deepEqual(
      requests.filter((r) => r.url === `${server.url}/token`),
      [{ method: "POST", url: `${server.url}/token`, type: "application/x-www-form-urlencoded" }],
    );
    const me = await page.evaluate(() => window.auth.me());
    assert.deepEqual(me, { username: "johndoe", email: "johndoe@example.com", full_name: "John Doe", disabled: false });
    assert.equal(await page.evaluate((api) => window.auth.fetch(`${api}/users/me/`).then((r) => r.status), server.url), 200);
    assert.deepEqual(problems, []);
  });

  test("a wrong password is invalid_credentials with the server's words", async () => {
    const { page } = await tab();
    assert.deepEqual(await login(page, server.username, "not the password"), {
      code: "invalid_credentials",
      status: 401,
      message: "Incorrect username or password",
    });
    assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), "anonymous");
  });

  test("no refresh token: at expiry the session is expired and getAccessToken() is null; nothing is sent", async () => {
    const { page, problems, requests } = await tab();
    await login(page, server.username, server.password);
    const expiresAt = await page.evaluate(() => window.auth.getSnapshot().expiresAt);
    await sleep(Math.max(0, expiresAt + 500 - (await page.evaluate(() => Date.now()))));
    const sent = requests.length;
    assert.equal(await page.evaluate(() => window.auth.getAccessToken()), null);
    assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), "expired");
    assert.deepEqual(await page.evaluate(() => window.events), ["signed_in", "session_expired"]);
    // Nothing can renew it: refresh() says so, and the expired session is let go.
    assert.equal(await page.evaluate(() => window.auth.refresh().then(() => "refreshed", (e) => e.code)), "session_expired");
    assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), "anonymous");
    assert.equal(requests.length, sent, "no refresh was attempted");
    assert.deepEqual(problems, []);
  });
});
