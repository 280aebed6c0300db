// The packed tarball itself: it holds every module its JS and .d.ts import, the
// README, LICENSE and CHANGELOG, and `npm publish --dry-run` has nothing to say.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "node:test";
import { ROOT, TARBALL, run } from "./lib.mjs";

const unpacked = mkdtempSync(path.join(tmpdir(), "auth-wasm-tarball-"));
run("tar", ["-xzf", TARBALL, "-C", unpacked]);
const dir = path.join(unpacked, "package");
const files = new Set(readdirSync(dir));

test("the tarball ships README, LICENSE, CHANGELOG and the wasm", () => {
  for (const name of ["README.md", "LICENSE", "CHANGELOG.md", "package.json", "index.js", "index.d.ts", "auth_wasm_bg.wasm"]) {
    assert.ok(files.has(name), `${name} missing from the tarball`);
  }
  assert.match(readFileSync(path.join(dir, "LICENSE"), "utf8"), /^MIT License/);
});

test("every module the shipped JS and .d.ts import is in the tarball", () => {
  const specifier = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;
  const missing = [];
  for (const name of files) {
    if (!/\.(m?js|d\.ts)$/.test(name)) continue;
    // JSDoc's import("./x") types count too: a checkJs consumer resolves them.
    const code = readFileSync(path.join(dir, name), "utf8");
    for (const [, spec] of code.matchAll(specifier)) {
      const target = path.relative(dir, path.resolve(dir, spec));
      if (!files.has(target)) missing.push(`${name} imports ${spec}`);
    }
  }
  assert.deepEqual(missing, []);
});

/** The files a conditional export names, at any depth (`"browser": { "production": ... }`). */
const exportTargets = (target) => (typeof target === "string" ? [target] : Object.values(target).flatMap(exportTargets));

test("every export of package.json names a file in the tarball, types first", () => {
  const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
  for (const [entry, target] of Object.entries(manifest.exports)) {
    const targets = exportTargets(target);
    if (typeof target !== "string") assert.equal(Object.keys(target)[0], "types", `${entry}: types must come first`);
    for (const file of targets) assert.ok(files.has(path.basename(file)), `${entry} -> ${file} missing`);
  }
});

test("npm publish --dry-run is clean", () => {
  const output = run("npm", ["publish", "--dry-run", "--ignore-scripts", TARBALL], { cwd: ROOT });
  // Not logged in to a registry here: npm says so, and that is the only warning allowed.
  const warnings = output.split("\n").filter((line) => /npm (warn|ERR)/i.test(line) && !/requires you to be logged in/.test(line));
  assert.deepEqual(warnings, [], output);
});
