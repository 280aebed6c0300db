// scripts/lib/shipped-paths.mjs (scripts/test-wasm's check of pkg/) over a made-up cargo
// home and package: a dependency's panic location under the registry folder, the registry's
// host and the build folder are found in the wasm and the JS; the remapped location
// ("dep-1.0.0/src/lib.rs") and files that are not shipped code pass. Run by scripts/lint.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { forbiddenNames, shippedPaths } from "../../scripts/lib/shipped-paths.mjs";

const root = mkdtempSync(path.join(os.tmpdir(), "shipped-paths-"));
after(() => rmSync(root, { recursive: true, force: true }));
const cargoHome = path.join(root, "cargo");
const registry = "index.registry.example-0123456789abcdef";
mkdirSync(path.join(cargoHome, "registry", "src", registry), { recursive: true });
const build = path.join(root, "checkout");
const needles = forbiddenNames(cargoHome, [build]);

/** A package folder holding `files` (name -> contents). */
function pkg(files) {
  const dir = mkdtempSync(path.join(root, "pkg-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

/** A wasm data section's bytes around a panic location's file name. */
const wasm = (file) => Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0x0b]), Buffer.from(`\x00slice index\x00${file}\x00`)]);

test("the registry folder and its host are forbidden names", () => {
  assert.ok(needles.includes(registry));
  assert.ok(needles.includes("registry.example"));
  assert.ok(needles.includes(build));
});

test("a dependency's location under the cargo home is found in the wasm", () => {
  const file = path.join(cargoHome, "registry", "src", registry, "dep-1.0.0", "src", "lib.rs");
  const { files, found } = shippedPaths(pkg({ "auth_wasm_bg.wasm": wasm(file), "index.js": "export {};\n" }), needles);
  assert.equal(files, 2);
  assert.equal(found.length, 1);
  assert.match(found[0], /^auth_wasm_bg\.wasm: .*dep-1\.0\.0\/src\/lib\.rs$/);
});

test("the remapped location passes", () => {
  const { found } = shippedPaths(pkg({ "auth_wasm_bg.wasm": wasm("dep-1.0.0/src/lib.rs"), "src.js": "// src/web/engine.rs\n" }), needles);
  assert.deepEqual(found, []);
});

test("the build folder and the registry host are found in JS and types", () => {
  const { found } = shippedPaths(
    pkg({ "a.js": `import x from "${build}/js/a.js";\n`, "b.d.ts": "// from https://registry.example/\n" }),
    needles,
  );
  assert.deepEqual(found.map((line) => line.split(":")[0]).sort(), ["a.js", "b.d.ts"]);
});

test("files that are not shipped code are not read", () => {
  const { files, found } = shippedPaths(pkg({ "README.md": `${build}\n`, "package.json": "{}" }), needles);
  assert.equal(files, 0);
  assert.deepEqual(found, []);
});
