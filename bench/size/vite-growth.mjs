// What a minimal Vite app's production build grows by when it adds a package: every
// emitted JS and wasm file, gzip -9 each, summed, minus the same app without it. For
// auth-wasm (default entry) and each peer's minimal usage (entries.mjs), no config.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "vite";
import { sizes, add } from "../../scripts/lib/package-size.mjs";
import { PEERS } from "./entries.mjs";

const BENCH = path.resolve(import.meta.dirname, "..");
const PKG = path.resolve(BENCH, "..", "pkg");

export const VITE_APPS = {
  "auth-wasm": `import { AuthClient } from "auth-wasm"; globalThis.x = new AuthClient({ baseUrl: "http://localhost:8000" });`,
  ...PEERS,
};

async function emitted(name, source) {
  // Under bench/ so the peers resolve from bench/node_modules; auth-wasm is pkg/.
  const dir = path.join(BENCH, ".out", "vite", name.replace(/[^a-z0-9]+/gi, "-"));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "index.html"), `<!doctype html><script type="module" src="./main.js"></script>`);
  writeFileSync(path.join(dir, "main.js"), source);
  await build({
    root: dir,
    configFile: false,
    logLevel: "silent",
    // The package folder, so its export conditions choose the entry as for a user.
    resolve: { alias: [{ find: /^auth-wasm$/, replacement: PKG }] },
    build: { outDir: path.join(dir, "dist"), emptyOutDir: true },
  });
  const assets = path.join(dir, "dist", "assets");
  return readdirSync(assets)
    .filter((file) => /\.(js|wasm)$/.test(file))
    .map((file) => sizes(readFileSync(path.join(assets, file))))
    .reduce(add, { raw: 0, gzip: 0, brotli: 0 });
}

/** Rows { name, raw, gzip, brotli }: each app's growth over the empty app. */
export async function viteGrowth() {
  const empty = await emitted("empty", "globalThis.x = 1;");
  const rows = [];
  for (const [name, source] of Object.entries(VITE_APPS)) {
    const app = await emitted(name, source);
    rows.push({ name, raw: app.raw - empty.raw, gzip: app.gzip - empty.gzip, brotli: app.brotli - empty.brotli });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await viteGrowth()) console.log(`${row.name}: +${row.gzip} B gzip -9 (+${row.raw} B raw)`);
}

export function viteGrowthTable(rows) {
  const ours = rows.find((r) => r.name === "auth-wasm");
  return [
    "| added to a minimal Vite 7 app | JS + wasm emitted, raw | gzip -9 | brotli | gzip vs auth-wasm |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.name} | +${r.raw} | +${r.gzip} | +${r.brotli} | ${(r.gzip / ours.gzip).toFixed(2)}x |`),
  ];
}
