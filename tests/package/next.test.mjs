// Next 16 App Router with no configuration for the package, built with Turbopack (the
// default) and with webpack: a Server Component decodes the token at request time, a
// route handler reads a bearer, the proxy (middleware, Node runtime) a cookie, a client
// component signs in to the reference backend (backend/, an account registered by this
// file) and calls auth.fetch of the user's /auth/me in Chromium, with no console error,
// and a page of the React binding (auth-wasm/react) gets a client from the same entry.
// Turbopack's client bundles get the browser entry (the .wasm emitted under static/);
// webpack's keep the inlined one (the `webpack` condition: Next's client compile has no
// target with async functions, so webpack warned about the browser entry's top-level
// await on every build), as does the server (the `node` condition).
import assert from "node:assert/strict";
import path from "node:path";
import test from "node:test";
import { TOKEN, assertInlinedWasm, assertSeparateWasm, expectedRealChecks, fixture, freePort, pageQuery, pageResult, run, startRealBackend, startServer } from "./lib.mjs";

const dir = fixture("next");
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
    if (bundler === "turbopack") assertSeparateWasm(clientOutput, dir);
    else assertInlinedWasm(clientOutput);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = await startServer(next, ["start", "--port", String(port), "--hostname", "127.0.0.1"], `${base}/`, { cwd: dir, env });

    const { result, errors } = await pageResult(`${base}/${pageQuery(api, account)}`);
    assert.deepEqual(result, { main: clientChecks, server: { sub: "ada", expired: false } });
    assert.deepEqual(errors, []);

    // The React binding works from the same entry: with Turbopack, assertSeparateWasm above
    // also proves its import of the package did not bring the inlined engine along.
    const react = await pageResult(`${base}/react`);
    assert.deepEqual(react.result, { status: "anonymous", sameClass: true });
    assert.deepEqual(react.errors, []);

    const claims = await fetch(`${base}/api/claims`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(await claims.json(), { sub: "ada", expired: false });

    const viaCookie = await fetch(`${base}/api/claims`, { headers: { cookie: `token=${TOKEN}` } });
    assert.equal(viaCookie.headers.get("x-auth-sub"), "ada", "the proxy (middleware) decoded the cookie's token");
    await server.stop();
  });
}
