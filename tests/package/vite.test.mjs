// Vite 7: the production build (served by vite preview) and the dev server, each driven in
// Chromium: the page and a module Worker create a client, decode a token, sign in to the
// reference backend (backend/, an account registered by this file) and call auth.fetch of
// the user's /auth/me, with no console error. Both get the package's entry (the wasm
// inlined, no top-level await: Vite's default iife Worker holds it). The second page,
// browser.html, runs the same checks through `auth-wasm/browser`: the build emits the .wasm
// beside the JS and the page's preload hint points at it; dev, whose pre-bundling moves the
// package's files, gets the inlined entry (the `development` condition).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import test from "node:test";
import { assertSeparateWasm, carryingInlined, expectedRealChecks, filesUnder, fixture, freePort, pageQuery, pageResult, run, startRealBackend, startServer } from "./lib.mjs";

const dir = fixture("vite");
const vite = path.join(dir, "node_modules", ".bin", "vite");
const { api, account } = await startRealBackend();
const expected = expectedRealChecks(account.email);

async function assertPages(base, { wasmFetches }) {
  const page = await pageResult(`${base}${pageQuery(api, account)}`);
  assert.deepEqual(page.result, { main: expected, worker: expected });
  assert.deepEqual(page.errors, []);
  const separate = await pageResult(`${base}browser.html${pageQuery(api, account)}`);
  assert.deepEqual(separate.result, { main: expected, wasmFetches });
  assert.deepEqual(separate.errors, []);
}

test("vite build, then vite preview in Chromium", async () => {
  run(vite, ["build"], { cwd: dir });
  const dist = path.join(dir, "dist");
  // auth-wasm/browser's page fetches the one .wasm emitted; the package's entry carries it
  // inlined, in one chunk of the pages' JS and in the Worker's bundle, and browser.html's
  // own script is not that chunk.
  const wasm = assertSeparateWasm(dist, dir, { inlined: 2 });
  const script = (html) => path.join(dist, readFileSync(path.join(dist, html), "utf8").match(/<script type="module" crossorigin src="\/([^"]+)"/)?.[1] ?? "none");
  const carrying = carryingInlined(filesUnder(dist));
  assert.ok(carrying.some((file) => path.basename(file).startsWith("worker-")), `the Worker's bundle carries the wasm: ${carrying}`);
  assert.ok(!carrying.includes(script("browser.html")), "auth-wasm/browser's page script does not carry the inlined wasm");
  // README's preload hint names the package's file; the build points it at that one asset.
  const hint = readFileSync(path.join(dist, "browser.html"), "utf8").match(/<link rel="preload" href="([^"]+)" as="fetch" crossorigin/);
  assert.equal(hint?.[1], `/${path.relative(dist, wasm).split(path.sep).join("/")}`);
  const port = await freePort();
  const server = await startServer(vite, ["preview", "--port", String(port), "--strictPort", "--host", "127.0.0.1"], `http://127.0.0.1:${port}/`, { cwd: dir });
  await assertPages(`http://127.0.0.1:${port}/`, { wasmFetches: 1 });
  await server.stop();
});

test("vite dev in Chromium", async () => {
  const port = await freePort();
  const server = await startServer(vite, ["--port", String(port), "--strictPort", "--host", "127.0.0.1"], `http://127.0.0.1:${port}/`, { cwd: dir });
  // Dev gets the inlined entry for auth-wasm/browser too: the hint's fetch is the only one.
  await assertPages(`http://127.0.0.1:${port}/`, { wasmFetches: 1 });
  await server.stop();
});
