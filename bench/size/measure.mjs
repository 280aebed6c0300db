// Size of auth-wasm (its entry, the wasm inlined, what browser production builds load;
// auth-wasm/browser: JS + the separate wasm; ./slim: JS + the wasm) beside each peer's minimal usage
// bundled with esbuild (minified, browser, ESM): raw, gzip -9 and brotli (quality 11).
import { execSync } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { packageSize, sizes } from "../../scripts/lib/package-size.mjs";
import { PEERS } from "./entries.mjs";

const BENCH = path.resolve(import.meta.dirname, "..");
const ROOT = path.resolve(BENCH, "..");
const PKG = path.join(ROOT, "pkg");
/** The row the others are compared with: what a browser production build loads. */
const REFERENCE = "auth-wasm (the wasm inlined): total";

export async function measureSizes() {
  const { total, separate, slim } = await packageSize(PKG);
  const rows = [
    { name: REFERENCE, ...total },
    { name: "auth-wasm/browser: total", ...separate.total },
    { name: "auth-wasm/browser: JS (shell + glue)", ...separate.js },
    { name: "auth-wasm/browser: wasm", ...separate.wasm },
    { name: "auth-wasm/slim: total", ...slim.total },
  ];
  const out = path.join(BENCH, ".out");
  mkdirSync(out, { recursive: true });
  for (const [name, source] of Object.entries(PEERS)) {
    const result = await build({
      stdin: { contents: source, resolveDir: BENCH, loader: "js" },
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      logLevel: "silent",
    });
    rows.push({ name, ...sizes(Buffer.from(result.outputFiles[0].contents)) });
  }
  return rows;
}

export function provenance() {
  const git = (cmd) => {
    try {
      return execSync(`git ${cmd}`, { cwd: ROOT }).toString().trim();
    } catch {
      return "unknown";
    }
  };
  return { commit: git("rev-parse --short HEAD"), dirty: git("status --porcelain") !== "", date: new Date().toISOString() };
}

export function sizeTable(rows) {
  const total = rows.find((r) => r.name === REFERENCE);
  return [
    "| package | raw | gzip -9 | brotli | gzip vs auth-wasm |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.name} | ${r.raw} | ${r.gzip} | ${r.brotli} | ${(r.gzip / total.gzip).toFixed(2)}x |`),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await measureSizes();
  const meta = provenance();
  const table = [
    `## Size (commit ${meta.commit}${meta.dirty ? "+changes" : ""}, ${meta.date.slice(0, 10)})`,
    "",
    ...sizeTable(rows),
    "",
  ].join("\n");
  writeFileSync(path.join(BENCH, "results.md"), `# auth-wasm benchmarks\n\nReproduce: \`scripts/bench\`.\n\n${table}`);
  writeFileSync(path.join(BENCH, "results.json"), JSON.stringify({ ...meta, size: rows }, null, 2) + "\n");
  console.log(table);
}
