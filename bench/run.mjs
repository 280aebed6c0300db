// scripts/bench: size, start-up, hot paths and the refresh storm in one run, against
// the real backend on loopback; writes bench/results.md and bench/results.json.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { labBackend, launchBrowser, uniqueEmail } from "../e2e/harness.mjs";
import { measureSizes, provenance, sizeTable } from "./size/measure.mjs";
import { viteGrowth, viteGrowthTable } from "./size/vite-growth.mjs";
import { buildSite, serveSite } from "./browser/site.mjs";
import { distinctTokens, seedPeers, signIn } from "./browser/session.mjs";
import { startup, startupTable } from "./browser/startup.mjs";
import { hotPaths, hotPathTables } from "./browser/hotpaths.mjs";
import { storm, stormPassed, stormTable } from "./browser/storm.mjs";

const BENCH = import.meta.dirname;
const ROOT = path.resolve(BENCH, "..");
const PKG_WEB = path.join(BENCH, ".out", "pkg-web");
const PASSWORD = "correct horse battery";

/** The package for pages without a bundler (scripts/lib/web-pkg.sh, as the e2e lab). */
function buildWebPackage() {
  execFileSync("bash", ["-c", `source scripts/lib/web-pkg.sh && build_web_pkg "$0"`, PKG_WEB], { cwd: ROOT, stdio: "inherit" });
}

const started = Date.now();
const meta = provenance();
const results = { ...meta, size: await measureSizes(), viteGrowth: await viteGrowth() };
buildWebPackage();
const candidates = await buildSite(PKG_WEB);

// Everything started is stopped in reverse order, each by its own handle, even
// when a step (or another stop) fails.
const stops = [];
async function stopAll() {
  for (const stop of stops.reverse()) await stop().catch((e) => console.error(`stop failed: ${e.message}`));
}
let failed = false;
try {
  const site = await serveSite(PKG_WEB);
  stops.push(site.stop);
  // Tokens that outlive the start-up and hot-path runs; a 5 s one for the storm.
  const backend = labBackend();
  stops.push(() => backend.dispose());
  const shortLived = labBackend({ ACCESS_TOKEN_TTL: "5" });
  stops.push(() => shortLived.dispose());
  await backend.start();
  await shortLived.start();
  const chromium = await launchBrowser();
  stops.push(chromium.close);
  const email = uniqueEmail("bench");
  await backend.register(email, PASSWORD);
  await shortLived.register(email, PASSWORD);
  const context = await chromium.browser.newContext();
  const page = await context.newPage();
  const session = await signIn(page, site, backend.url, email, PASSWORD);
  await seedPeers(page, site, backend.url, session);
  session.tokens = await distinctTokens(backend.url, email, PASSWORD, 32);
  // Start-up twice: as production hosts send the files (gzip: the headline figure) and
  // uncompressed (as this bench measured before; the wasm weighs more there).
  console.log("start-up (gzip) ...");
  site.gzip = true;
  results.startup = await startup({ page, site, api: backend.url, candidates });
  console.log("start-up (uncompressed) ...");
  site.gzip = false;
  results.startupUncompressed = await startup({ page, site, api: backend.url, candidates });
  console.log("hot paths ...");
  results.hotPaths = await hotPaths({ page, site, api: backend.url, session });
  await context.close();
  console.log("refresh storm ...");
  results.storm = await storm({ browser: chromium.browser, site, backend: shortLived, email, password: PASSWORD });
  failed = !results.storm.every(stormPassed);
} finally {
  await stopAll();
}
results.seconds = Math.round((Date.now() - started) / 1000);

const stamp = `commit ${meta.commit}${meta.dirty ? "+changes" : ""}, ${meta.date.slice(0, 10)}`;
const md = [
  `# auth-wasm benchmarks`,
  ``,
  `Reproduce: \`scripts/bench\` (${results.seconds} s for this run). Headless Chromium on loopback, the real FastAPI backend; every figure of a table comes from the same run.`,
  ``,
  `## Size (${stamp})`,
  ``,
  ...sizeTable(results.size),
  ``,
  `What a minimal Vite app's production build grows by (bench/size/vite-growth.mjs):`,
  ``,
  ...viteGrowthTable(results.viteGrowth),
  ``,
  `## Start-up (${stamp})`,
  ``,
  `Navigation to a client holding the restored session (performance.now() when ready), pages served with no-store and gzip-encoded (level 9), as production hosts send them:`,
  ``,
  ...startupTable(results.startup),
  ``,
  `The same pages served uncompressed (how this bench served them before):`,
  ``,
  ...startupTable(results.startupUncompressed),
  ``,
  `## Hot paths (${stamp})`,
  ``,
  ...hotPathTables(results.hotPaths),
  ``,
  `## Refresh storm (${stamp})`,
  ``,
  ...stormTable(results.storm),
  ``,
].join("\n");
writeFileSync(path.join(BENCH, "results.md"), md);
writeFileSync(path.join(BENCH, "results.json"), JSON.stringify(results, null, 2) + "\n");
console.log(md);
if (failed) {
  console.error("FAIL: a refresh storm sent other than exactly one refresh request, or a request failed");
  process.exit(1);
}
