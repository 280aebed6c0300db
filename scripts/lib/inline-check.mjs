// Fails unless pkg/engine-inline.js's string is the .wasm byte for byte: read as its char
// codes (the loop of Node 20-24), through btoa (what fromBase64 decodes in browsers), and
// after esbuild printed it again as bundlers do (escaped or not: `charset` ascii, its
// default, and utf8, Vite's). Usage: node scripts/lib/inline-check.mjs [pkg] (run by
// scripts/test-wasm after scripts/build).
import { readFileSync } from "node:fs";
import path from "node:path";
import { transform } from "esbuild";

const dir = process.argv[2] ?? "pkg";
const wasm = readFileSync(path.join(dir, "auth_wasm_bg.wasm"));
const source = readFileSync(path.join(dir, "engine-inline.js"), "utf8");
const literal = /^const text = ("(?:[^"\\]|\\.)*");$/m.exec(source)?.[1];
if (!literal) throw new Error("engine-inline.js: no `const text = \"...\";` line");

/** The string a module exporting `literal` evaluates to. */
const evaluate = async (code) => (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)).default;

const failures = [];
const check = (name, text) => {
  const codes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  if ([...text].some((c) => c.charCodeAt(0) > 0xff)) failures.push(`${name}: a char above U+00FF`);
  else if (!Buffer.from(codes).equals(wasm)) failures.push(`${name}: char codes differ from the .wasm`);
  else if (!Buffer.from(btoa(text), "base64").equals(wasm)) failures.push(`${name}: btoa's bytes differ from the .wasm`);
};
check("engine-inline.js", await evaluate(`export default ${literal};`));
for (const charset of ["ascii", "utf8"]) {
  const printed = await transform(`export default ${literal};`, { minify: true, format: "esm", charset });
  check(`esbuild (charset ${charset})`, await evaluate(printed.code));
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log(`inline: engine-inline.js holds the ${wasm.length}-byte .wasm as Latin-1 (read directly, through btoa, and as esbuild prints it)`);
