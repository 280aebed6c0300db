// Fails if a shipped file of pkg/ (its JS, types and wasm) names a path of the machine
// that built it or a package registry's host: rustc writes source paths into panic
// locations, and a dependency's are under the cargo home's registry folder. scripts/build
// remaps them; this keeps it so. Usage: node scripts/lib/shipped-paths.mjs [pkg]
// (run by scripts/test-wasm; unit-tested in tests/unit/shipped-paths.test.mjs).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** What no shipped file may contain: the registries' folder names in the cargo home
 * ("<host>-<hash>", the default registry's host with an "index." prefix) and their
 * hosts, this machine's own folders, then what names a registry or a build machine
 * anywhere.
 * @param {string} cargoHome @param {string[]} machineFolders @returns {string[]} */
export function forbiddenNames(cargoHome, machineFolders) {
  const registries = ["src", "index", "cache"]
    .map((kind) => path.join(cargoHome, "registry", kind))
    .filter((folder) => existsSync(folder))
    .flatMap((folder) => readdirSync(folder))
    .flatMap((name) => [name, name.replace(/-[0-9a-f]+$/, "").replace(/^index\./, "")]);
  return [...machineFolders, cargoHome, ...registries]
    .filter((name) => name.length > 1)
    .concat([".cargo/", "registry/src/", "/.rustup/", "/home/", "/Users/", ":\\Users\\"]);
}

/** Each shipped file of `dir` (JS, types, wasm) that contains one of `needles`, with the
 * printable run around the hit (which path it is).
 * @param {string} dir @param {string[]} needles @returns {{ files: number, found: string[] }} */
export function shippedPaths(dir, needles) {
  const shipped = readdirSync(dir).filter((name) => /\.(js|mjs|cjs|d\.ts|wasm)$/.test(name));
  const found = new Set();
  for (const name of shipped) {
    const text = readFileSync(path.join(dir, name)).toString("latin1");
    for (const needle of needles) {
      const at = text.indexOf(needle);
      if (at < 0) continue;
      let start = at;
      let end = at + needle.length;
      while (start > 0 && /[\x21-\x7e]/.test(text[start - 1]) && at - start < 120) start--;
      while (end < text.length && /[\x21-\x7e]/.test(text[end]) && end - at < 160) end++;
      found.add(`${name}: ${text.slice(start, end)}`);
    }
  }
  return { files: shipped.length, found: [...found] };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? "pkg";
  const cargoHome = process.env.CARGO_HOME ?? path.join(os.homedir(), ".cargo");
  const { files, found } = shippedPaths(dir, forbiddenNames(cargoHome, [process.cwd(), os.homedir()]));
  if (files === 0) {
    console.error(`shipped paths: no JS or wasm in ${dir}/ (run scripts/build first)`);
    process.exit(1);
  }
  if (found.length > 0) {
    console.error(`shipped paths: ${dir}/ names a build machine's path or a registry host:`);
    for (const line of found) console.error(`  ${line}`);
    process.exit(1);
  }
  console.log(`shipped paths: none in ${files} files of ${dir}/`);
}
