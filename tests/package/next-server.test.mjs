// auth-wasm/next from the packed tarball, in plain Node (no Next): what the server
// decides about a cookie's token, the proxy's redirect, the route handler's cookie (its
// Secure flag off loopback too, which the e2e suites on loopback cannot see), and the
// return-URL check. The same code runs in the demo (e2e/nextserver*.test.mjs).
import assert from "node:assert/strict";
import { createHmac, hkdfSync } from "node:crypto";
import path from "node:path";
import test from "node:test";
import { pathToFileURL } from "node:url";
import { fixture } from "./lib.mjs";

const entry = (name) => pathToFileURL(path.join(fixture("node"), "node_modules", "auth-wasm", name)).href;
const { createNextAuth, matchesPath, safeReturnTo } = await import(entry("next.js"));

const SECRET = "a-shared-secret-of-at-least-32-bytes-0123456789";
const KEY = Buffer.from(hkdfSync("sha256", SECRET, Buffer.alloc(0), "auth-wasm access token v1", 32));
const APP = "http://127.0.0.1:3000";
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);
function sign(claims, { header = { alg: "HS256", typ: "at+jwt" }, key = KEY } = {}) {
  const data = `${b64(header)}.${b64(claims)}`;
  return `${data}.${createHmac("sha256", key).update(data).digest("base64url")}`;
}
const CLAIMS = { sub: "u1", email: "ada@example.com", name: "Ada", iss: "urn:auth-wasm:backend", aud: "urn:auth-wasm:api" };
const auth = createNextAuth({ secret: SECRET, issuer: "urn:auth-wasm:backend", audience: "urn:auth-wasm:api" });

test("readSession: genuine, expired (unknown), missing (unknown), and every forgery signed out", async () => {
  const genuine = await auth.readSession(sign({ ...CLAIMS, exp: now() + 60 }));
  assert.equal(genuine.status, "authenticated");
  assert.deepEqual(genuine.user, { id: "u1", email: "ada@example.com", name: "Ada" });
  assert.deepEqual(await auth.readSession(sign({ ...CLAIMS, exp: now() - 1 })), { status: "unknown", reason: "expired", user: null, claims: null, expiresAt: null });
  assert.equal((await auth.readSession(undefined)).reason, "missing");
  const token = sign({ ...CLAIMS, exp: now() + 60 });
  const [h, , s] = token.split(".");
  const forgeries = {
    tampered: `${h}.${b64({ ...CLAIMS, sub: "u2", exp: now() + 60 })}.${s}`,
    "another key": sign({ ...CLAIMS, exp: now() + 60 }, { key: Buffer.alloc(32, 1) }),
    "the raw secret (not the derived key)": sign({ ...CLAIMS, exp: now() + 60 }, { key: Buffer.from(SECRET) }),
    "alg none": `${b64({ alg: "none", typ: "at+jwt" })}.${b64({ ...CLAIMS, exp: now() + 60 })}.`,
    "no typ": sign({ ...CLAIMS, exp: now() + 60 }, { header: { alg: "HS256" } }),
    "another audience": sign({ ...CLAIMS, aud: "urn:other", exp: now() + 60 }),
    "another issuer": sign({ ...CLAIMS, iss: "https://evil.example", exp: now() + 60 }),
    "no exp": sign(CLAIMS),
    "no sub": sign({ ...CLAIMS, sub: undefined, exp: now() + 60 }),
    "expired and tampered": `${h}.${b64({ ...CLAIMS, sub: "u2", exp: now() - 1 })}.${s}`,
    garbage: "not.a.jwt",
    // A part of a length no base64url text has (4n+1): atob threw, and readSession with it.
    "a header of 4n+1 characters": `A.${b64({ ...CLAIMS, exp: now() + 60 })}.${s}`,
    "a signature of 4n+1 characters": `${h}.${b64({ ...CLAIMS, exp: now() + 60 })}.${s}A`,
  };
  for (const [name, value] of Object.entries(forgeries)) assert.equal((await auth.readSession(value)).status, "signed_out", name);
  // The seed's raw-secret setup: the raw secret signs, no typ needed.
  const raw = createNextAuth({ secret: SECRET, rawSecret: true });
  assert.equal((await raw.readSession(sign({ sub: "u1", exp: now() + 60 }, { header: { alg: "HS256", typ: "JWT" }, key: Buffer.from(SECRET) }))).status, "authenticated");
});

test("protect: a body-less 307 to sign-in with the path and query, a bad cookie cleared; valid and expired-genuine pass", async () => {
  const request = (pathAndQuery, cookie) => new Request(`${APP}${pathAndQuery}`, { headers: cookie ? { cookie: `auth-wasm-at=${cookie}` } : {} });
  const paths = ["/dashboard", /^\/admin(\/|$)/];
  assert.equal(await auth.protect(request("/"), { paths }), undefined);
  assert.equal(await auth.protect(request("/dashboardx"), { paths }), undefined, "a segment boundary");
  const denied = await auth.protect(request("/dashboard/a?b=1"), { paths });
  assert.equal(denied.status, 307);
  assert.equal(denied.headers.get("location"), `${APP}/signin?returnTo=%2Fdashboard%2Fa%3Fb%3D1`);
  assert.equal(await denied.text(), "");
  assert.equal(denied.headers.get("set-cookie"), null, "no cookie, nothing to clear");
  const forged = await auth.protect(request("/admin", sign({ ...CLAIMS, exp: now() + 60 }, { key: Buffer.alloc(32) })), { paths });
  assert.equal(forged.status, 307);
  assert.match(forged.headers.get("set-cookie"), /^auth-wasm-at=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax$/);
  // A cookie no token could be (set by a sibling subdomain, say): the sign-in page, not a throw.
  assert.equal((await auth.protect(request("/dashboard", "A.b.c"), { paths })).status, 307);
  assert.equal(await auth.protect(request("/dashboard", sign({ ...CLAIMS, exp: now() + 60 })), { paths }), undefined);
  assert.equal(await auth.protect(request("/dashboard", sign({ ...CLAIMS, exp: now() - 5 })), { paths }), undefined, "expired: the page renders 'unknown'");
  assert.equal(matchesPath("/notes", ["/notes/"]), true);
});

test("sessionRoute: same-origin JSON only, genuine access tokens only; HttpOnly, Lax, Secure off loopback", async () => {
  const token = sign({ ...CLAIMS, exp: now() + 60 });
  const post = (body, headers = {}, url = `${APP}/api/auth-wasm/session`) =>
    auth.sessionRoute.POST(new Request(url, { method: "POST", headers: { origin: new URL(url).origin, "content-type": "application/json", ...headers }, body: JSON.stringify(body) }));
  assert.equal((await post({ accessToken: token }, { origin: "https://evil.example" })).status, 403, "another origin");
  assert.equal((await post({ accessToken: token }, { "sec-fetch-site": "cross-site" })).status, 403);
  assert.equal((await post({ accessToken: token }, { "content-type": "text/plain" })).status, 415, "a form cannot send it");
  assert.equal((await post({ accessToken: "opaque-refresh-token-a1b2c3" })).status, 400, "a refresh token is not taken");
  assert.equal((await post({ accessToken: sign({ ...CLAIMS, exp: now() - 1 }) })).status, 400, "nor an expired token");
  const ok = await post({ accessToken: token });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { status: "authenticated", changed: true });
  const cookie = ok.headers.get("set-cookie");
  assert.match(cookie, new RegExp(`^auth-wasm-at=${token.replace(/\./g, "\\.")}; Path=/; Max-Age=(\\d+); HttpOnly; SameSite=Lax$`));
  assert.ok(Number(cookie.match(/Max-Age=(\d+)/)[1]) <= 60 + 3600, "the token's life and the grace");
  // The same user again: nothing changed for the server.
  const again = await post({ accessToken: token }, { cookie: `auth-wasm-at=${token}` });
  assert.equal((await again.json()).changed, false);
  // A public host (a proxy in front): Secure.
  const remote = await post({ accessToken: token }, { origin: "https://app.example.com", host: "app.example.com" }, "https://app.example.com/api/auth-wasm/session");
  assert.match(remote.headers.get("set-cookie"), /; HttpOnly; SameSite=Lax; Secure$/);
  const cleared = await auth.sessionRoute.DELETE(new Request(`${APP}/api/auth-wasm/session`, { method: "DELETE", headers: { origin: APP, cookie: `auth-wasm-at=${token}` } }));
  assert.deepEqual(await cleared.json(), { status: "signed_out", changed: true });
  assert.match(cleared.headers.get("set-cookie"), /^auth-wasm-at=; Path=\/; Max-Age=0;/);
});

test("safeReturnTo (auth-wasm/next and /next/client share it): a path on this origin or nothing", () => {
  assert.equal(safeReturnTo("/notes?x=1#top", APP), "/notes?x=1#top");
  for (const bad of ["https://evil.example/", "//evil.example/x", "/\\evil.example", "/.//evil.example", "/..//evil.example", "/\t/evil.example", "javascript:alert(1)", "notes", "", null, undefined]) {
    assert.equal(safeReturnTo(bad, APP), null, String(bad));
  }
});
