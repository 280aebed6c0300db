// Fails if a shipped file of pkg/ (its JS, types and wasm) names a path of the machine
// that built it or a package registry's host: rustc writes source paths into panic
// locations, and a dependency's are under the cargo home's registry folder. scripts/build
// remaps them; this keeps it so. Usage: node scripts/lib/shipped-paths.mjs [pkg]
import { existsSync, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const dir = process.argv[2] ?? "pkg";
const cargoHome = process.env.CARGO_HOME ?? path.join(os.homedir(), ".cargo");
// The registries' folder names (host and hash) in the cargo home, this machine's own
// folders, then what names a registry or a build machine anywhere.
// A folder is "<host>-<hash>" (crates.io's host with an "index." prefix).
const registries = ["src", "index", "cache"]
  .map((kind) => path.join(cargoHome, "registry", kind))
  .filter((folder) => existsSync(folder))
  .flatMap((folder) => readdirSync(folder))
  .flatMap((name) => [name, name.replace(/-[0-9a-f]+$/, "").replace(/^index\./, "")]);
const needles = [process.cwd(), os.homedir(), cargoHome, ...registries]
  .filter((p) => p.length > 1)
  .concat([".cargo/", "registry/src/", "/.rustup/", "/home/", "/Users/", "/root/", ":\\Users\\"]);

const shipped = readdirSync(dir).filter((name) => /\.(js|mjs|cjs|d\.ts|wasm)$/.test(name));
const found = [];
for (const name of shipped) {
  const text = readFileSync(path.join(dir, name)).toString("latin1");
  for (const needle of needles) {
    const at = text.indexOf(needle);
    if (at >= 0) {
      // The printable run around the hit, to say which path it is.
      let start = at;
      let end = at + needle.length;
      while (start > 0 && /[\x21-\x7e]/.test(text[start - 1]) && at - start < 120) start--;
      while (end < text.length && /[\x21-\x7e]/.test(text[end]) && end - at < 160) end++;
      found.push(`${name}: ${text.slice(start, end)}`);
    }
  }
}
if (shipped.length === 0) {
  console.error(`shipped paths: no JS or wasm in ${dir}/ (run scripts/build first)`);
  process.exit(1);
}
if (found.length > 0) {
  console.error(`shipped paths: ${dir}/ names a build machine's path or a registry host:`);
  for (const line of new Set(found)) console.error(`  ${line}`);
  process.exit(1);
}
console.log(`shipped paths: none in ${shipped.length} files of ${dir}/`);
