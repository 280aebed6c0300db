// Fails unless pkg/engine-inline.js's own decoder makes the .wasm byte for byte of
// wasm-text.js's string: through the native path browsers take (btoa, then Uint8Array.fromBase64, stood in
// for here where Node lacks it) and the loop Node 20-24 take, and again after esbuild
// printed the string as bundlers do (escaped or not: `charset` ascii, its default, and
// utf8, Vite's). Usage: node scripts/lib/inline-check.mjs [pkg] (run by scripts/test-wasm
// after scripts/build).
import { readFileSync } from "node:fs";
import path from "node:path";
import { transform } from "esbuild";

const dir = process.argv[2] ?? "pkg";
const wasm = readFileSync(path.join(dir, "auth_wasm_bg.wasm"));
const source = readFileSync(path.join(dir, "engine-inline.js"), "utf8");
const textModule = readFileSync(path.join(dir, "wasm-text.js"), "utf8");
const IMPORTS = 'import { text } from "./wasm-text.js";\nimport { instantiate } from "./auth_wasm.js";';
const COMPILE = "instantiate(new WebAssembly.Module(bytes));";
const TEXT = /^export const text = ("(?:[^"\\]|\\.)*");$/m;
if (!source.includes(IMPORTS) || !source.includes(COMPILE) || !TEXT.test(textModule)) {
  throw new Error("engine-inline.js, wasm-text.js: not the shape this check reads (the imports, `export const text = \"...\";`, the compile)");
}

/** What a module's default export evaluates to. */
const evaluate = async (code) => (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)).default;
/** fromBase64 as the platform has it: a new Uint8Array over a buffer of its own. */
const NATIVE = "Uint8Array.fromBase64 ??= (text) => new Uint8Array(Buffer.from(text, 'base64'));\n";

/** The bytes engine-inline.js's decoder makes of `literal` (a string literal's source). */
const decoded = (literal, native) =>
  evaluate(`${native ? NATIVE : ""}const text = ${literal};\n${source.replace(IMPORTS, "").replace(COMPILE, "export default bytes;")}`);

const literal = /** @type {RegExpExecArray} */ (TEXT.exec(textModule))[1];
const printed = async (charset) => (await transform(`x(${literal});`, { minify: true, charset })).code.trim().replace(/^x\(/, "").replace(/\);?$/, "");
const cases = [
  ["as shipped", literal],
  ["as esbuild prints it (charset ascii)", await printed("ascii")],
  ["as esbuild prints it (charset utf8)", await printed("utf8")],
];
const failures = [];
for (const [name, text] of cases) {
  for (const native of [true, false]) {
    const bytes = await decoded(text, native && !Uint8Array.fromBase64);
    if (!Buffer.from(bytes).equals(wasm)) failures.push(`${name}, ${native ? "btoa + fromBase64" : "the loop"}: not the .wasm`);
  }
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log(`inline: engine-inline.js decodes to the ${wasm.length}-byte .wasm (native path and loop; as shipped and as esbuild prints it)`);
