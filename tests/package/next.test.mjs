// Next 16 App Router with no configuration for the package, built with Turbopack (the
// default) and with webpack: a Server Component decodes the token at request time, a
// route handler reads a bearer, the proxy (middleware, Node runtime) a cookie, and a
// client component signs in and calls auth.fetch in Chromium, with no console error.
import assert from "node:assert/strict";
import path from "node:path";
import test from "node:test";
import { EXPECTED_CHECKS, TOKEN, fixture, freePort, pageQuery, pageResult, run, startServer, startStubBackend } from "./lib.mjs";

const dir = fixture("next");
const next = path.join(dir, "node_modules", ".bin", "next");
const api = await startStubBackend();
const { expired: _clientSkipsExpiry, ...clientChecks } = EXPECTED_CHECKS;

for (const bundler of ["turbopack", "webpack"]) {
  test(`next build (${bundler}), next start, the pages in Chromium`, async () => {
    const env = { NEXT_DIST_DIR: `.next-${bundler}` };
    const build = run(next, ["build", bundler === "webpack" ? "--webpack" : "--turbopack"], { cwd: dir, env });
    assert.doesNotMatch(build, /⚠|warn/i, build);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = await startServer(next, ["start", "--port", String(port), "--hostname", "127.0.0.1"], `${base}/`, { cwd: dir, env });

    const { result, errors } = await pageResult(`${base}/${pageQuery(api)}`);
    assert.deepEqual(result, { main: clientChecks, server: { sub: "ada", expired: false } });
    assert.deepEqual(errors, []);

    const claims = await fetch(`${base}/api/claims`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(await claims.json(), { sub: "ada", expired: false });

    const viaCookie = await fetch(`${base}/api/claims`, { headers: { cookie: `token=${TOKEN}` } });
    assert.equal(viaCookie.headers.get("x-auth-sub"), "ada", "the proxy (middleware) decoded the cookie's token");
    await server.stop();
  });
}
