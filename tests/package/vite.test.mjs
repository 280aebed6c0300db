// Vite 7 with no configuration: the production build (served by vite preview) and the
// dev server, each driven in Chromium: the page and a module Worker create a client,
// decode a token, sign in against the stub and call auth.fetch, with no console error.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import test from "node:test";
import { EXPECTED_CHECKS, fixture, freePort, pageQuery, pageResult, run, startServer, startStubBackend } from "./lib.mjs";

const dir = fixture("vite");
const vite = path.join(dir, "node_modules", ".bin", "vite");
const api = await startStubBackend();

async function assertPage(url) {
  const { result, errors } = await pageResult(`${url}${pageQuery(api)}`);
  assert.deepEqual(result, { main: EXPECTED_CHECKS, worker: EXPECTED_CHECKS });
  assert.deepEqual(errors, []);
}

test("vite build, then vite preview in Chromium", async () => {
  run(vite, ["build"], { cwd: dir });
  const assets = readdirSync(path.join(dir, "dist", "assets"));
  assert.ok(!assets.some((name) => name.endsWith(".wasm")), `no separate .wasm is emitted: ${assets}`);
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
