// Node 20 (this machine's) and Node 22 (the `node` package pinned in the fixture):
// the package as an ES module (sign-in and auth.fetch against the stub) and through
// require().
import assert from "node:assert/strict";
import path from "node:path";
import test from "node:test";
import { EXPECTED_CHECKS, TOKEN, fixture, run, runAsync, startStubBackend } from "./lib.mjs";

const dir = fixture("node");
const NODES = { 20: process.execPath, 22: path.join(dir, "node_modules", ".bin", "node") };
const api = await startStubBackend();
const lastLine = (text) => JSON.parse(text.trim().split("\n").at(-1));

for (const [major, node] of Object.entries(NODES)) {
  test(`Node ${major}: import, decodeJwt, sign-in and auth.fetch`, async () => {
    assert.match(run(node, ["--version"]), new RegExp(`^v${major}\\.`));
    const output = await runAsync(node, ["check.mjs", api, TOKEN], { cwd: dir });
    assert.doesNotMatch(output, /ExperimentalWarning|Warning:/, output);
    assert.deepEqual(lastLine(output), EXPECTED_CHECKS);
  });

  test(`Node ${major}: require() of the package`, () => {
    const output = run(node, ["check.cjs", TOKEN], { cwd: dir });
    assert.doesNotMatch(output, /ExperimentalWarning|Warning:/, output);
    assert.deepEqual(lastLine(output), { sub: "ada", status: "anonymous", authError: "function" });
  });

  test(`Node ${major}: auth-wasm/slim after init(bytes)`, () => {
    const output = run(node, ["slim.mjs", TOKEN], { cwd: dir });
    assert.deepEqual(lastLine(output), { before: "config", sub: "ada" });
  });
}
