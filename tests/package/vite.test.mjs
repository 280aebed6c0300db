// Vite 7: the production build (served by vite preview) and the dev server, each driven in
// Chromium: the page and a module Worker create a client, decode a token, sign in to the
// reference backend (backend/, an account registered by this file) and call auth.fetch of
// the user's /auth/me, with no console error. The build gets the browser entry
// (the .wasm emitted beside the JS); dev, whose pre-bundling moves the package's files,
// the inlined one (the `development` condition). The fixture has no setting: its Worker
// imports `auth-wasm/worker` (no top-level await), which Vite's default iife Worker holds.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import test from "node:test";
import { assertSeparateWasm, expectedRealChecks, fixture, freePort, pageQuery, pageResult, run, startRealBackend, startServer } from "./lib.mjs";

const dir = fixture("vite");
const vite = path.join(dir, "node_modules", ".bin", "vite");
const { api, account } = await startRealBackend();
const expected = expectedRealChecks(account.email);

async function assertPage(url) {
  const { result, errors } = await pageResult(`${url}${pageQuery(api, account)}`);
  assert.deepEqual(result, { main: expected, worker: expected });
  assert.deepEqual(errors, []);
}

test("vite build, then vite preview in Chromium", async () => {
  run(vite, ["build"], { cwd: dir });
  // The page's JS fetches the .wasm; only the Worker's bundle (auth-wasm/worker) inlines it.
  const wasm = assertSeparateWasm(path.join(dir, "dist"), dir, /^worker-/);
  // README's preload hint names the package's file; the build points it at that one asset.
  const hint = readFileSync(path.join(dir, "dist", "index.html"), "utf8").match(/<link rel="preload" href="([^"]+)" as="fetch" crossorigin/);
  assert.equal(hint?.[1], `/${path.relative(path.join(dir, "dist"), wasm).split(path.sep).join("/")}`);
  const port = await freePort();
  const server = await startServer(vite, ["preview", "--port", String(port), "--strictPort", "--host", "127.0.0.1"], `http://127.0.0.1:${port}/`, { cwd: dir });
  await assertPage(`http://127.0.0.1:${port}/`);
  await server.stop();
});

test("vite dev in Chromium", async () => {
  const port = await freePort();
  const server = await startServer(vite, ["--port", String(port), "--strictPort", "--host", "127.0.0.1"], `http://127.0.0.1:${port}/`, { cwd: dir });
  await assertPage(`http://127.0.0.1:${port}/`);
  await server.stop();
});
