// Vitest 3 with no configuration: one test file in the node environment, one in jsdom.
import assert from "node:assert/strict";
import path from "node:path";
import test from "node:test";
import { fixture, run } from "./lib.mjs";

test("vitest run (node and jsdom environments)", () => {
  const dir = fixture("vite");
  const output = run(path.join(dir, "node_modules", ".bin", "vitest"), ["run", "--reporter=verbose"], { cwd: dir, env: { CI: "1", NO_COLOR: "1", FORCE_COLOR: "0" } });
  assert.match(output, /the package loads and works under Vitest \(node\)/);
  assert.match(output, /the package loads and works under Vitest \(jsdom\)/);
  assert.match(output, /Tests\s+2 passed/);
});
