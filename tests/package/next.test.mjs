// Next 16 App Router with no configuration for the package, built with Turbopack (the
// default) and with webpack: a Server Component decodes the token at request time, a
// route handler reads a bearer, the proxy (middleware, Node runtime) a cookie, a client
// component signs in to the reference backend (backend/, an account registered by this
// file) and calls auth.fetch of the user's /auth/me in Chromium, with no console error,
// and a page of the React binding (auth-wasm/react) gets a client from the same entry
// (and bundles auth-wasm/next/client's mirror). auth-wasm/next on the server: the proxy
// protects /members, a route handler sets the HttpOnly cookie from a genuine token only,
// and a Server Component reads the session from it.
// Both bundlers' client bundles carry the package's entry with the wasm inlined, in one
// chunk (one engine), as does the server.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import path from "node:path";
import test from "node:test";
import { TOKEN, assertInlinedWasm, expectedRealChecks, fixture, freePort, pageQuery, pageResult, run, startRealBackend, startServer } from "./lib.mjs";

const dir = fixture("next");
/** The fixture's secret (app/server-auth.js) and an HS256 token for "ada" signed with `key`. */
const FIXTURE_SECRET = "fixture-secret-for-auth-wasm-next-0123456789";
function signedToken(key) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const data = `${part({ alg: "HS256", typ: "JWT" })}.${part({ sub: "ada", exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${data}.${createHmac("sha256", key).update(data).digest("base64url")}`;
}
const next = path.join(dir, "node_modules", ".bin", "next");
const { api, account } = await startRealBackend();
const { expired: _clientSkipsExpiry, ...clientChecks } = expectedRealChecks(account.email);

for (const bundler of ["turbopack", "webpack"]) {
  test(`next build (${bundler}), next start, the pages in Chromium`, async () => {
    const env = { NEXT_DIST_DIR: `.next-${bundler}` };
    const build = run(next, ["build", bundler === "webpack" ? "--webpack" : "--turbopack"], { cwd: dir, env });
    // Next's one notice on a CI machine's first build (CI=true, no .next/cache) says
    // nothing about the package; any other warning fails the test.
    const warnings = build.split("\n").filter((line) => /⚠|warn/i.test(line) && !/No build cache found/.test(line));
    assert.deepEqual(warnings, [], build);
    const clientOutput = path.join(dir, env.NEXT_DIST_DIR, "static");
    assertInlinedWasm(clientOutput);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = await startServer(next, ["start", "--port", String(port), "--hostname", "127.0.0.1"], `${base}/`, { cwd: dir, env });

    const { result, errors } = await pageResult(`${base}/${pageQuery(api, account)}`);
    assert.deepEqual(result, { main: clientChecks, server: { sub: "ada", expired: false } });
    assert.deepEqual(errors, []);

    // The React binding works from the same entry: assertInlinedWasm above also proves its
    // import of the package brought no second engine along.
    const react = await pageResult(`${base}/react`);
    assert.deepEqual(react.result, { status: "anonymous", sameClass: true });
    assert.deepEqual(react.errors, []);

    const claims = await fetch(`${base}/api/claims`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(await claims.json(), { sub: "ada", expired: false });

    const viaCookie = await fetch(`${base}/api/claims`, { headers: { cookie: `token=${TOKEN}` } });
    assert.equal(viaCookie.headers.get("x-auth-sub"), "ada", "the proxy (middleware) decoded the cookie's token");

    // auth-wasm/next: the proxy protects /members, the route handler sets the HttpOnly
    // cookie from a genuine token only, a Server Component reads the session from it.
    const members = await fetch(`${base}/members`, { redirect: "manual" });
    assert.equal(members.status, 307);
    assert.equal(new URL(members.headers.get("location"), base).href, `${base}/?returnTo=%2Fmembers`);
    const post = (token) =>
      fetch(`${base}/api/session`, { method: "POST", headers: { origin: base, "content-type": "application/json" }, body: JSON.stringify({ accessToken: token }) });
    assert.equal((await post(signedToken("not the secret"))).status, 400, "a token signed with another key is refused");
    const set = await post(signedToken(FIXTURE_SECRET));
    assert.equal(set.status, 200);
    const cookie = set.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^auth-wasm-at=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    const session = async (headers) => JSON.parse((await (await fetch(`${base}/server-session`, { headers })).text()).match(/<pre id="session">(.*?)<\/pre>/)[1].replaceAll("&quot;", '"'));
    assert.deepEqual(await session({ cookie: cookie.split(";")[0] }), { status: "authenticated", sub: "ada" });
    assert.deepEqual(await session({}), { status: "unknown", sub: null });
    assert.equal((await fetch(`${base}/members`, { redirect: "manual", headers: { cookie: cookie.split(";")[0] } })).status, 200);
    await server.stop();
  });
}
